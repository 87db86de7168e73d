"""Helpers for ingestion tests: generate Brazilian-style files and read back what was stored."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
from sqlalchemy import func, select

from app.core.db import session_scope
from app.models import DataSource, Fact, IngestionBatch, RejectedRow, StagingRow

UFS = ["SP", "RJ", "MG", "BA", "RS", "PR", "PE", "CE", "DF", "AM"]
CATS = ["Eletrônicos", "Vestuário", "Alimentos", "Móveis"]


@dataclass
class Row:
    day: date
    value: Decimal
    uf: str
    category: str


def sample_rows(n: int = 40, seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        cents = rng.randint(-50_000, 2_500_000)
        rows.append(
            Row(
                date(2024, 1, 1) + timedelta(days=rng.randint(0, 500)),
                Decimal(cents) / 100,
                rng.choice(UFS),
                rng.choice(CATS),
            )
        )
    return rows


def fmt_value(value: Decimal, style: str) -> str:
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):,.2f}".split(".")
    if style == "comma":
        return f"{sign}{whole.replace(',', '.')},{frac}"
    return f"{sign}{whole}.{frac}"


def fmt_date(day: date, style: str) -> str:
    return {
        "dmy": f"{day:%d/%m/%Y}",
        "dmy2": f"{day:%d/%m/%y}",
        "iso": day.isoformat(),
        "isodt": f"{day.isoformat()}T10:30:00",
    }[style]


def make_csv(
    rows: list[Row],
    *,
    delimiter=";",
    decimal="comma",
    dates="dmy",
    encoding="cp1252",
    header=("Data", "Valor", "UF", "Categoria", "Observação"),
) -> bytes:
    out = io.StringIO()
    out.write(delimiter.join(header) + "\r\n")
    for i, r in enumerate(rows):
        value = fmt_value(r.value, decimal)
        if delimiter in value:
            value = f'"{value}"'
        out.write(delimiter.join([fmt_date(r.day, dates), value, r.uf, r.category, f"obs {i} ação"]) + "\r\n")
    return out.getvalue().encode(encoding)


def make_xlsx(
    rows: list[Row],
    *,
    title: str | None = "Relatório de Vendas",
    sheet: str = "Plan1",
    extra_sheets: tuple[str, ...] = (),
) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
        ws.append([])
    ws.append(["Data", "Valor", "Estado", "Produto"])
    for r in rows:
        ws.append([r.day, float(r.value), r.uf, r.category])
    for name in extra_sheets:
        wb.create_sheet(name).append(["nothing", "here"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, headers, content: bytes, kind="csv", filename=None, **form):
    filename = filename or f"vendas.{kind}"
    data = {
        k: (v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v))
        for k, v in form.items()
        if v is not None
    }
    return client.post(f"/ingest/{kind}", headers=headers, files={"file": (filename, content)}, data=data)


def curated_totals(org_id: int, source_id: int | None = None) -> tuple[Decimal, int]:
    with session_scope(org_id) as s:
        stmt = select(func.coalesce(func.sum(Fact.value), 0), func.count()).where(Fact.organization_id == org_id)
        if source_id is not None:
            stmt = stmt.where(Fact.data_source_id == source_id)
        total, count = s.execute(stmt).one()
        return Decimal(total), count


def stored_counts(org_id: int) -> dict[str, int]:
    with session_scope(org_id) as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m).where(m.organization_id == org_id))
            for m in (DataSource, IngestionBatch, StagingRow, RejectedRow, Fact)
        }


def assert_rollups_match_facts() -> int:
    """The daily, monthly, per-category monthly and per-UF monthly rollups equal a recomputation from the facts, for
    every org, with each category's key (returns the number of daily groups)."""
    from collections import defaultdict

    from app.core.db import category_key
    from app.models import DailyRollup, MonthlyCategoryRollup, MonthlyRollup, MonthlyUfRollup
    from tests.conftest import all_orgs_session

    def add(group: list, value: Decimal, count: int, low: Decimal, high: Decimal) -> None:
        group[0] += value
        group[1] += count
        group[2] = low if group[2] is None else min(group[2], low)
        group[3] = high if group[3] is None else max(group[3], high)

    with all_orgs_session() as s:
        expected: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0, None, None])
        monthly: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0, None, None])
        by_category: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
        by_uf: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
        for org, source, day, uf, category, value in s.execute(
            select(Fact.organization_id, Fact.data_source_id, Fact.date, Fact.uf, Fact.category, Fact.value)
        ):
            add(expected[(org, source, day, uf, category, category_key(category))], value, 1, value, value)
            add(
                monthly[(org, source, day.replace(day=1), uf, category, category_key(category))], value, 1, value, value
            )
            group = by_category[(org, source, day.replace(day=1), category, category_key(category))]
            group[0] += value
            group[1] += 1
            group = by_uf[(org, source, day.replace(day=1), uf)]
            group[0] += value
            group[1] += 1

        def stored(model, period) -> dict[tuple, list]:
            return {
                (r.organization_id, r.data_source_id, getattr(r, period), r.uf, r.category, r.category_key): [
                    r.total_value,
                    r.row_count,
                    r.min_value,
                    r.max_value,
                ]
                for r in s.scalars(select(model))
            }

        daily_rows = stored(DailyRollup, "day")
        monthly_rows = stored(MonthlyRollup, "month")
        category_rows = {
            (r.organization_id, r.data_source_id, r.month, r.category, r.category_key): [r.total_value, r.row_count]
            for r in s.scalars(select(MonthlyCategoryRollup))
        }
        uf_rows = {
            (r.organization_id, r.data_source_id, r.month, r.uf): [r.total_value, r.row_count]
            for r in s.scalars(select(MonthlyUfRollup))
        }
        models = (DailyRollup, MonthlyRollup, MonthlyCategoryRollup, MonthlyUfRollup)
        counts = [s.scalar(select(func.count()).select_from(m)) for m in models]
    stored_groups = [len(daily_rows), len(monthly_rows), len(category_rows), len(uf_rows)]
    assert counts == stored_groups, "two rollup rows for one group"
    assert daily_rows == dict(expected)
    assert monthly_rows == dict(monthly)
    assert category_rows == dict(by_category)
    assert uf_rows == dict(by_uf)
    return len(daily_rows)
