"""Sums over the rollups: every ready-made indicator reads these, never `facts`.

A range is split into whole months (read from monthly_rollups) and the days left at either end (daily_rollups), so
one org-year costs at most 12 x groups rows however many facts it holds. All parts and ranges of one request go to
the database as one UNION ALL statement; the few grouped rows that come back are merged here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Select, func, literal, union_all
from sqlalchemy.orm import Session

from app.models import DailyRollup, MonthlyRollup
from app.services.indicators.ranges import DateRange, Filters
from app.services.rollups import category_key_sql
from app.services.tenancy import Tenant, scoped_select

Dimension = Literal["uf", "category", "data_source_id"]
Period = Literal["day", "month"]


@dataclass
class Totals:
    """The sum of the values and the number of facts of one group."""

    value: Decimal = Decimal(0)
    count: int = 0


def _part(
    tenant: Tenant,
    model: type[DailyRollup] | type[MonthlyRollup],
    label: str,
    rng: DateRange,
    filters: Filters,
    dims: tuple[Dimension, ...],
    period: Period | None,
) -> Select[Any]:
    when = model.day if model is DailyRollup else model.month  # type: ignore[union-attr]
    keys: list[Any] = [getattr(model, name) for name in dims]
    if period is not None:
        keys.insert(0, when)
    stmt = scoped_select(
        tenant, model, literal(label).label("label"), *keys, func.sum(model.total_value), func.sum(model.row_count)
    ).where(when.between(rng.start, rng.end))
    if filters.data_source_id is not None:
        stmt = stmt.where(model.data_source_id == filters.data_source_id)
    if filters.uf is not None:
        stmt = stmt.where(model.uf == filters.uf)
    if filters.category is not None:
        stmt = stmt.where(model.category_key == category_key_sql(literal(filters.category)))
    return stmt.group_by(*keys) if keys else stmt


def totals(
    session: Session,
    tenant: Tenant,
    ranges: dict[str, DateRange],
    filters: Filters,
    dims: tuple[Dimension, ...] = (),
    period: Period | None = None,
) -> dict[str, dict[tuple[Any, ...], Totals]]:
    """Per named range, the totals grouped by dims (and by day or by month, as the first key: a date, the month's
    first day), in one statement. Groups with no facts are absent."""
    parts = []
    for label, rng in ranges.items():
        if period == "day":
            parts.append(_part(tenant, DailyRollup, label, rng, filters, dims, period))
            continue
        months, edges = rng.split_by_month()
        if months is not None:
            parts.append(_part(tenant, MonthlyRollup, label, months, filters, dims, period))
        parts += [_part(tenant, DailyRollup, label, edge, filters, dims, period) for edge in edges]
    out: dict[str, dict[tuple[Any, ...], Totals]] = {label: defaultdict(Totals) for label in ranges}
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    for label, *keys, value, count in session.execute(stmt):
        if period is not None:
            when = _as_date(keys[0])
            keys[0] = when.replace(day=1) if period == "month" and when else when
        group = out[label][tuple(keys)]
        group.value += Decimal(value or 0)
        group.count += int(count or 0)
    return out


def total(groups: dict[tuple[Any, ...], Totals]) -> Totals:
    """The groups added up."""
    return Totals(sum((g.value for g in groups.values()), Decimal(0)), sum(g.count for g in groups.values()))


def day_bounds(session: Session, tenant: Tenant, rng: DateRange, filters: Filters) -> tuple[date | None, date | None]:
    """The first and last day with data in the range under the filters (two index probes of the daily rollups)."""
    bounds = _part(tenant, DailyRollup, "range", rng, filters, (), None).with_only_columns(
        func.min(DailyRollup.day), func.max(DailyRollup.day)
    )
    first, last = session.execute(bounds).one()
    return _as_date(first), _as_date(last)


def _as_date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value
