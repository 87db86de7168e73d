"""Indicator filters as a client sends them, validated: a UF code or state name, a category, a data source id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.errors import Unprocessable
from app.models import DataSource
from app.services.indicators.ranges import Filters
from app.services.ingest.values.ufs import uf_code
from app.services.tenancy import Tenant, get_scoped


def make_filters(data_source_id: int | None, category: str | None, uf: str | None, where: str = "") -> Filters:
    """Filters from raw values: the UF as its 2-letter code (422 when it is no UF), a category trimmed (422 blank)."""
    prefix = f"{where}: " if where else ""
    code = None
    if uf is not None:
        code = uf_code(uf)
        if code is None:
            raise Unprocessable(
                f"{prefix}uf '{uf[:40]}' is not a Brazilian state: give its 2-letter code (SP, rj...) or its name",
                code="invalid_uf",
            )
    if category is not None:
        category = category.strip()
        if not category:
            raise Unprocessable(f"{prefix}category must not be blank", code="invalid_parameter")
    return Filters(data_source_id, category, code)


def check_data_source(session: Session, tenant: Tenant, filters: Filters, where: str = "") -> None:
    """422 when data_source_id is not one of the caller's sources (another org's answers exactly like a missing one)."""
    source_id = filters.data_source_id
    if source_id is not None and get_scoped(session, tenant, DataSource, source_id) is None:
        prefix = f"{where}: " if where else ""
        raise Unprocessable(f"{prefix}unknown data source {source_id}", code="unknown_data_source")
