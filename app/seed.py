"""Seed development data: org `demo` (Owner dev@example.com) with a deterministic sample sales dataset,

ingested through the same upload pipeline as a user's file (a `;`-separated cp1252 CSV with decimal commas).
Idempotent: the same file for the same source is recognised and not loaded twice.
"""

from __future__ import annotations

import io
import logging
import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.db import bind_org, session_scope
from app.models import Dashboard, Membership, Organization, Role
from app.schemas.dashboards import DashboardCreate, Position, WidgetCreate
from app.schemas.ingest import BatchReportRead
from app.services import auth as auth_service
from app.services import dashboards as dashboard_service
from app.services.ingest import uploads as upload_service
from app.services.ingest.values import UF_CODES
from app.services.tenancy import Tenant, membership_in_org, scoped_select

logger = logging.getLogger("painel.seed")

DEMO_SLUG = "demo"
DEMO_OWNER = "dev@example.com"
DEMO_FILE = "vendas-demo.csv"
DEMO_DASHBOARD = "Vendas (demo)"
DEMO_START, DEMO_MONTHS = date(2024, 11, 1), 24
CATEGORIES = ["Eletrônicos", "Vestuário", "Alimentos", "Móveis", "Higiene e Beleza", "Livros"]
CHANNELS = ["Loja física", "E-commerce", "Marketplace"]
# Rough weights so the map looks like Brazil (SP largest).
UF_WEIGHTS = {
    "SP": 30,
    "RJ": 12,
    "MG": 11,
    "RS": 7,
    "PR": 7,
    "BA": 6,
    "SC": 5,
    "PE": 4,
    "GO": 4,
    "CE": 4,
    "DF": 4,
    "ES": 2,
    "PA": 2,
    "MT": 2,
    "MS": 2,
    "AM": 2,
    "MA": 1,
    "PB": 1,
    "RN": 1,
    "AL": 1,
    "PI": 1,
    "SE": 1,
    "RO": 1,
    "TO": 1,
    "AC": 1,
    "AP": 1,
    "RR": 1,
}


def _brl(value: float) -> str:
    whole, cents = f"{value:,.2f}".split(".")
    return whole.replace(",", ".") + "," + cents


def demo_csv() -> bytes:
    """The demo dataset as a Brazilian ERP would export it (deterministic)."""
    rng = random.Random(20241101)  # noqa: S311 deterministic demo data, not security
    ufs = list(UF_CODES)
    weights = [UF_WEIGHTS[uf] for uf in ufs]
    out = io.StringIO()
    out.write("Data;Valor;UF;Categoria;Canal\r\n")
    day = DEMO_START
    end = date(DEMO_START.year + DEMO_MONTHS // 12, DEMO_START.month, 1)
    while day < end:
        seasonal = 1.35 if day.month in (11, 12) else 1.0
        for _ in range(rng.randint(4, 9)):
            value = round(rng.uniform(20, 1500) * seasonal, 2)
            out.write(
                f"{day:%d/%m/%Y};{_brl(value)};{rng.choices(ufs, weights)[0]};{rng.choice(CATEGORIES)};"
                f"{rng.choice(CHANNELS)}\r\n"
            )
        day += timedelta(days=1)
    return out.getvalue().encode("cp1252")


def _widget(title: str, indicator: str, x: int, y: int, w: int, h: int, **params) -> WidgetCreate:
    return WidgetCreate(title=title, indicator=indicator, params=params, position=Position(x=x, y=y, w=w, h=h))


DEMO_WIDGETS = [
    _widget("Indicadores do período", "kpis", 0, 0, 12, 2),
    _widget("Vendas mês a mês", "valor-mes-a-mes", 0, 2, 7, 5),
    _widget("Vendas por UF", "mapa-por-uf", 7, 2, 5, 5),
    _widget("Top categorias", "top-categorias", 0, 7, 6, 4, limit=6),
    _widget("Acumulado no ano", "acumulado-ano", 6, 7, 6, 4),
]


def seed_demo_dashboard(session: Session, tenant: Tenant) -> bool:
    """The demo dashboard (line chart, map, KPI cards, ...), created through the service when the org has no
    dashboard at all (so a renamed demo dashboard is not created twice). Answers whether it was created."""
    if session.scalar(scoped_select(tenant, Dashboard, Dashboard.id).limit(1)) is not None:
        return False
    body = DashboardCreate(
        name=DEMO_DASHBOARD,
        description="Dois anos de vendas de exemplo: mês a mês, por UF e por categoria.",
        widgets=DEMO_WIDGETS,
    )
    dashboard_service.create_dashboard(session, tenant, body)
    return True


def seed_demo() -> BatchReportRead:
    """Create the demo org, its Owner, and load the sample dataset (idempotent)."""
    with session_scope() as session:
        org = session.scalars(select(Organization).where(Organization.slug == DEMO_SLUG)).one_or_none()
        if org is None:
            org = Organization(slug=DEMO_SLUG, name="Demo")
            session.add(org)
            session.flush()
        bind_org(session, org.id)
        user = auth_service.get_or_create_user(session, DEMO_OWNER)
        if membership_in_org(session, user.id, org.id) is None:
            session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.OWNER))
            session.flush()
        tenant = Tenant(org_id=org.id, user_id=user.id, role=Role.OWNER)
        request = upload_service.UploadRequest("csv", DEMO_FILE, name="Vendas (demo)", synchronous=True)
        report = upload_service.ingest_upload(session, tenant, io.BytesIO(demo_csv()), request).report
        if report is None:  # pragma: no cover - a synchronous upload always reports
            raise RuntimeError("the demo upload did not report")
        seed_demo_dashboard(session, tenant)
        return report


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not get_settings().SEED_DEMO:
        return
    report = seed_demo()
    logger.info(
        "demo org ready (dev-login %s / %s, dashboard %r): %s rows loaded%s",
        DEMO_OWNER,
        DEMO_SLUG,
        DEMO_DASHBOARD,
        report.rows_loaded,
        " (already loaded)" if report.duplicate else "",
    )


if __name__ == "__main__":
    main()
