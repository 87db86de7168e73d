"""Ready-made indicators over the curated facts: aggregated in SQL, zero-filled, scoped to the tenant."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, cast, distinct, extract, func
from sqlalchemy.orm import Session

from app.models import Fact
from app.services.indicators.ranges import DateRange, Filters, change_pct, money, share_pct
from app.services.ingest.values import UF_CODES
from app.services.tenancy import Tenant, scoped_select


def _facts(tenant: Tenant, rng: DateRange, filters: Filters, *columns) -> Select:
    stmt = scoped_select(tenant, Fact, *columns).where(Fact.date >= rng.start, Fact.date <= rng.end)
    if filters.data_source_id is not None:
        stmt = stmt.where(Fact.data_source_id == filters.data_source_id)
    if filters.category is not None:
        stmt = stmt.where(Fact.category == filters.category)
    if filters.uf is not None:
        stmt = stmt.where(Fact.uf == filters.uf.strip().upper())
    return stmt


def _monthly_sums(session: Session, tenant: Tenant, rng: DateRange, filters: Filters) -> dict[tuple[int, int], Decimal]:
    year = cast(extract("year", Fact.date), Integer)
    month = cast(extract("month", Fact.date), Integer)
    stmt = _facts(tenant, rng, filters, year, month, func.sum(Fact.value)).group_by(year, month)
    return {(y, m): total for y, m, total in session.execute(stmt)}


def valor_mes_a_mes(session: Session, tenant: Tenant, rng: DateRange, filters: Filters, **_: Any) -> dict:
    """Value per month, every month of the range, with the change against the previous month."""
    sums = _monthly_sums(session, tenant, rng, filters)
    items, previous = [], None
    for year, month in rng.months():
        value = sums.get((year, month), Decimal(0))
        items.append(
            {
                "month": f"{year:04d}-{month:02d}",
                "value": money(value),
                "change_pct": None if previous is None else change_pct(value, previous),
            }
        )
        previous = value
    return {"items": items}


def mapa_por_uf(session: Session, tenant: Tenant, rng: DateRange, filters: Filters, **_: Any) -> dict:
    """Total per Brazilian state (all 27, zero-filled, largest first); facts without a UF go to `unassigned`."""
    stmt = _facts(tenant, rng, filters, Fact.uf, func.sum(Fact.value)).group_by(Fact.uf)
    sums = dict(session.execute(stmt).all())
    unassigned = sums.pop(None, Decimal(0))
    assigned_total = sum((sums.get(uf, Decimal(0)) for uf in UF_CODES), Decimal(0))
    rows = sorted(((uf, sums.get(uf, Decimal(0))) for uf in UF_CODES), key=lambda item: (-item[1], item[0]))
    return {
        "items": [{"uf": uf, "value": money(v), "share_pct": share_pct(v, assigned_total)} for uf, v in rows],
        "total": money(assigned_total + unassigned),
        "unassigned": money(unassigned),
    }


def _summary(session: Session, tenant: Tenant, rng: DateRange, filters: Filters) -> dict:
    stmt = _facts(
        tenant, rng, filters, func.coalesce(func.sum(Fact.value), 0), func.count(), func.count(distinct(Fact.category))
    )
    total, count, categories = session.execute(stmt).one()
    total = Decimal(total or 0)
    return {
        "total": total,
        "count": count,
        "average": total / count if count else Decimal(0),
        "distinct_categories": categories,
    }


def kpis(session: Session, tenant: Tenant, rng: DateRange, filters: Filters, **_: Any) -> dict:
    """Total, row count, average and distinct categories, against the previous period of the same length."""
    previous_range = rng.previous()
    current = _summary(session, tenant, rng, filters)
    previous = _summary(session, tenant, previous_range, filters)

    def shape(s: dict) -> dict:
        return {
            "total_value": money(s["total"]),
            "row_count": s["count"],
            "average_value": money(s["average"]),
            "distinct_categories": s["distinct_categories"],
        }

    return {
        "current": shape(current),
        "previous": {**shape(previous), "from": previous_range.start.isoformat(), "to": previous_range.end.isoformat()},
        "change_pct": {
            "total_value": change_pct(current["total"], previous["total"]),
            "row_count": change_pct(current["count"], previous["count"]),
            "average_value": change_pct(current["average"], previous["average"]),
            "distinct_categories": change_pct(current["distinct_categories"], previous["distinct_categories"]),
        },
    }


def top_categorias(session: Session, tenant: Tenant, rng: DateRange, filters: Filters, *, limit: int, **_: Any) -> dict:
    """The N categories with the largest totals, their share, and the rest as `others`."""
    total_value = func.sum(Fact.value).label("total")
    stmt = (
        _facts(tenant, rng, filters, Fact.category, total_value)
        .where(Fact.category.is_not(None))
        .group_by(Fact.category)
        .order_by(total_value.desc(), Fact.category)
        .limit(limit)
    )
    top = session.execute(stmt).all()
    overall = session.scalar(_facts(tenant, rng, filters, func.coalesce(func.sum(Fact.value), 0)))
    overall = Decimal(overall or 0)
    top_sum = sum((Decimal(v) for _, v in top), Decimal(0))
    return {
        "items": [{"category": c, "value": money(v), "share_pct": share_pct(v, overall)} for c, v in top],
        "others": money(overall - top_sum),
        "total": money(overall),
    }


def acumulado_ano(session: Session, tenant: Tenant, rng: DateRange, filters: Filters, **_: Any) -> dict:
    """Year-to-date running total per month of the range (each year restarts at January)."""
    ytd_range = DateRange(date(rng.start.year, 1, 1), rng.end)
    sums = _monthly_sums(session, tenant, ytd_range, filters)
    wanted = set(rng.months())
    items, running, year = [], Decimal(0), None
    for y, m in ytd_range.months():
        if y != year:
            running, year = Decimal(0), y
        value = sums.get((y, m), Decimal(0))
        running += value
        if (y, m) in wanted:
            items.append({"month": f"{y:04d}-{m:02d}", "value": money(value), "cumulative": money(running)})
    return {"items": items}
