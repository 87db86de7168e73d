"""Ready-made indicators over the rollups (never `facts`): summed in SQL, zero-filled, scoped to the tenant, answered
as typed models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.schemas.indicators import (
    CategoryValue,
    CumulativeMonth,
    Grain,
    KpiChanges,
    KpiPreviousValues,
    KpisRead,
    KpiValues,
    MonthlyValuesRead,
    MonthValue,
    SeriesBucket,
    TimeSeriesRead,
    TopCategoriesRead,
    UfMapRead,
    UfValue,
    YearToDateRead,
)
from app.services.freshness import OrgState
from app.services.indicators import grains, sums
from app.services.indicators.ranges import DateRange, Filters, change_pct, money, share_pct
from app.services.indicators.sums import Totals
from app.services.ingest.values import UF_CODES
from app.services.tenancy import Tenant


@dataclass(frozen=True)
class Context:
    """One indicator request, validated: who asks, for which range and filters, with the org's state and options."""

    session: Session
    tenant: Tenant
    key: str
    rng: DateRange
    filters: Filters
    state: OrgState
    options: dict[str, Any] = field(default_factory=dict)

    def head(self) -> dict[str, Any]:
        return {"indicator": self.key, "start": self.rng.start, "end": self.rng.end, "as_of": self.state.as_of_text}

    def totals(self, ranges: dict[str, DateRange], *dims: sums.Dimension, period: sums.Period | None = None):
        return sums.totals(self.session, self.tenant, ranges, self.filters, dims, period)


def _month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def valor_mes_a_mes(ctx: Context) -> MonthlyValuesRead:
    """Value per month, every month of the range, with the change against the previous month."""
    by_month = ctx.totals({"range": ctx.rng}, period="month")["range"]
    items, previous = [], None
    for year, month in ctx.rng.months():
        group = by_month.get((date(year, month, 1),))
        value = group.value if group else Decimal(0)
        items.append(
            MonthValue(
                month=_month_label(year, month),
                value=money(value),
                change_pct=None if previous is None else change_pct(value, previous),
            )
        )
        previous = value
    return MonthlyValuesRead(**ctx.head(), items=items)


def mapa_por_uf(ctx: Context) -> UfMapRead:
    """Total per Brazilian state (all 27, zero-filled, largest first); facts without a UF go to `unassigned`."""
    by_uf = {uf: group.value for (uf,), group in ctx.totals({"range": ctx.rng}, "uf")["range"].items()}
    unassigned = by_uf.pop(None, Decimal(0))
    assigned_total = sum((by_uf.get(uf, Decimal(0)) for uf in UF_CODES), Decimal(0))
    rows = sorted(((uf, by_uf.get(uf, Decimal(0))) for uf in UF_CODES), key=lambda item: (-item[1], item[0]))
    return UfMapRead(
        **ctx.head(),
        items=[UfValue(uf=uf, value=money(v), share_pct=share_pct(v, assigned_total)) for uf, v in rows],
        total=money(assigned_total + unassigned),
        unassigned=money(unassigned),
    )


@dataclass(frozen=True)
class _Summary:
    total: Decimal
    count: int
    average: Decimal
    categories: int

    @classmethod
    def of(cls, by_category: dict[tuple[Any, ...], Totals]) -> _Summary:
        whole = sums.total(by_category)
        categories = sum(1 for (category,), group in by_category.items() if category is not None and group.count)
        average = whole.value / whole.count if whole.count else Decimal(0)
        return cls(whole.value, whole.count, average, categories)

    def values(self) -> dict[str, Any]:
        return {
            "total_value": money(self.total),
            "row_count": self.count,
            "average_value": money(self.average),
            "distinct_categories": self.categories,
        }


def kpis(ctx: Context) -> KpisRead:
    """Total, row count, average and distinct categories, against the previous period of the same length."""
    previous_range = ctx.rng.previous()
    found = ctx.totals({"current": ctx.rng, "previous": previous_range}, "category")
    current, previous = _Summary.of(found["current"]), _Summary.of(found["previous"])
    return KpisRead(
        **ctx.head(),
        current=KpiValues(**current.values()),
        previous=KpiPreviousValues(**previous.values(), start=previous_range.start, end=previous_range.end),
        change_pct=KpiChanges(
            total_value=change_pct(current.total, previous.total),
            row_count=change_pct(current.count, previous.count),
            average_value=change_pct(current.average, previous.average),
            distinct_categories=change_pct(current.categories, previous.categories),
        ),
    )


def top_categorias(ctx: Context) -> TopCategoriesRead:
    """The N categories with the largest totals, their share, and the rest as `others`."""
    by_category = ctx.totals({"range": ctx.rng}, "category")["range"]
    overall = sums.total(by_category).value
    named = [(category, group.value) for (category,), group in by_category.items() if category is not None]
    top = sorted(named, key=lambda item: (-item[1], item[0]))[: ctx.options["limit"]]
    top_sum = sum((v for _, v in top), Decimal(0))
    return TopCategoriesRead(
        **ctx.head(),
        items=[CategoryValue(category=c, value=money(v), share_pct=share_pct(v, overall)) for c, v in top],
        others=money(overall - top_sum),
        total=money(overall),
    )


def fiscal_year_start(day: date, start_month: int) -> date:
    """The first day of the fiscal year (starting at start_month) that holds day."""
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def acumulado_ano(ctx: Context) -> YearToDateRead:
    """Year-to-date running total per month of the range; each fiscal year restarts it at its first month."""
    start_month = ctx.state.fiscal_year_start_month
    ytd_range = DateRange(fiscal_year_start(ctx.rng.start, start_month), ctx.rng.end)
    by_month = ctx.totals({"range": ytd_range}, period="month")["range"]
    wanted = set(ctx.rng.months())
    items, running = [], Decimal(0)
    for year, month in ytd_range.months():
        if month == start_month:
            running = Decimal(0)
        group = by_month.get((date(year, month, 1),))
        value = group.value if group else Decimal(0)
        running += value
        if (year, month) in wanted:
            items.append(
                CumulativeMonth(month=_month_label(year, month), value=money(value), cumulative=money(running))
            )
    return YearToDateRead(**ctx.head(), fiscal_year_start_month=start_month, items=items)


def serie_temporal(ctx: Context) -> TimeSeriesRead:
    """Value and row count per bucket of the grain (day, ISO week, month, quarter, year), zero-filled."""
    grain: Grain = ctx.options["grain"]
    period: sums.Period = "day" if grain in ("day", "week") else "month"
    by_bucket: dict[date, Totals] = {}
    for (when,), group in ctx.totals({"range": ctx.rng}, period=period)["range"].items():
        into = by_bucket.setdefault(grains.bucket_start(when, grain), Totals())
        into.value += group.value
        into.count += group.count
    items = []
    for bucket in grains.buckets(ctx.rng, grain):
        found = by_bucket.get(bucket.start, Totals())
        items.append(
            SeriesBucket(
                period=bucket.period,
                start=bucket.start,
                end=bucket.end,
                value=money(found.value),
                row_count=found.count,
            )
        )
    return TimeSeriesRead(**ctx.head(), grain=grain, items=items)
