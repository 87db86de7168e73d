"""Sums over the rollups: every ready-made indicator reads these, never `facts`.

A range is split into whole months (read from monthly_rollups; or from monthly_category_rollups when the request
neither filters nor groups by UF: one row per category instead of one per UF and category; or from monthly_uf_rollups
when it filters or groups by UF but neither filters nor groups by category: one row per UF) and the days left at
either end (daily_rollups), so one org-year costs at most 12 x groups rows however many facts it holds. A leftover
longer than half its month is read as the month minus the other days (2 to 31 January: January minus the 1st), so
no part reads more than about 15 days of daily rows. All parts and ranges of one request go to the database as one
UNION ALL statement; the few grouped rows that come back are merged (added or subtracted) here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Select, func, literal, union_all
from sqlalchemy.orm import Session

from app.models import DailyRollup, MonthlyCategoryRollup, MonthlyRollup, MonthlyUfRollup
from app.services.indicators.ranges import DateRange, Filters, next_month
from app.services.rollups import category_key_sql
from app.services.tenancy import Tenant, scoped_select

Dimension = Literal["uf", "category", "data_source_id"]
Period = Literal["day", "month"]
Monthly = type[MonthlyRollup] | type[MonthlyCategoryRollup] | type[MonthlyUfRollup]
Rollup = type[DailyRollup] | Monthly


@dataclass
class Totals:
    """The sum of the values and the number of facts of one group."""

    value: Decimal = Decimal(0)
    count: int = 0


def _part(
    tenant: Tenant,
    model: Rollup,
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
        stmt = stmt.where(model.uf == filters.uf)  # type: ignore[union-attr]  # never a per-category month
    if filters.category is not None:
        category_key = model.category_key  # type: ignore[union-attr]  # never a per-UF month
        stmt = stmt.where(category_key == category_key_sql(literal(filters.category)))
    return stmt.group_by(*keys) if keys else stmt


Piece = tuple[int, Rollup, DateRange]


def _monthly(filters: Filters, dims: tuple[Dimension, ...]) -> Monthly:
    """The smallest monthly table that can answer: per category (no UF) unless the request filters or groups by UF,
    per UF (no category) unless it also filters or groups by category, else the monthly rollups themselves."""
    by_uf = filters.uf is not None or "uf" in dims
    by_category = filters.category is not None or "category" in dims
    if not by_uf:
        return MonthlyCategoryRollup
    return MonthlyRollup if by_category else MonthlyUfRollup


def _pieces(rng: DateRange, monthly: Monthly) -> list[Piece]:
    """(sign, table, range) whose signed sums make the range's: whole months, and each leftover as its days or as
    its month minus the month's other days, whichever reads fewer days."""
    months, edges = rng.split_by_month()
    out: list[Piece] = [(1, monthly, months)] if months is not None else []
    for edge in edges:
        first = edge.start.replace(day=1)
        last = next_month(first) - timedelta(days=1)
        month_days = (last - first).days + 1
        if edge.end > last or edge.days <= month_days - edge.days:
            out.append((1, DailyRollup, edge))
            continue
        out.append((1, monthly, DateRange(first, first)))
        if edge.start > first:
            out.append((-1, DailyRollup, DateRange(first, edge.start - timedelta(days=1))))
        if edge.end < last:
            out.append((-1, DailyRollup, DateRange(edge.end + timedelta(days=1), last)))
    return out


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
    monthly = _monthly(filters, dims)
    for label, rng in ranges.items():
        pieces: list[Piece] = [(1, DailyRollup, rng)] if period == "day" else _pieces(rng, monthly)
        for sign, model, piece in pieces:
            # The sign travels in the label: "+current", "-current".
            parts.append(_part(tenant, model, f"{'+' if sign > 0 else '-'}{label}", piece, filters, dims, period))
    merged: dict[str, dict[tuple[Any, ...], Totals]] = {label: defaultdict(Totals) for label in ranges}
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    for signed_label, *keys, value, count in session.execute(stmt):
        if period is not None:
            when = _as_date(keys[0])
            keys[0] = when.replace(day=1) if period == "month" and when else when
        sign = 1 if signed_label[0] == "+" else -1
        group = merged[signed_label[1:]][tuple(keys)]
        group.value += sign * Decimal(value or 0)
        group.count += sign * int(count or 0)
    # A group the subtractions emptied had no facts in the range: absent, like any group without facts.
    return {label: {k: g for k, g in groups.items() if g.count} for label, groups in merged.items()}


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
