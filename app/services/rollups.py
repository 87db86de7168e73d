"""Daily and monthly rollups of the curated facts: per org, source, day (or month), UF and category, the sum, count,
min and max, with the category's case- and accent-insensitive key; the monthly ones summed over the UFs (per org,
source, month and category: the sum and count), for the requests that neither filter nor group by UF; and the monthly
ones summed over the categories (per org, source, month and UF: the sum and count), for the requests by UF that
neither filter nor group by category.

Every write to `facts` calls one of these in the same transaction, so the rollups always equal a recomputation from
`facts` (a test checks it after every kind of write). They are rebuilt with set-based SQL: a DELETE and one
INSERT ... SELECT ... GROUP BY over the facts concerned (the months from the days, the category and UF months from
the months), never row by row."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, cast, func, insert, select
from sqlalchemy.orm import Session

from app.core.db import CATEGORY_KEY_FUNCTION
from app.models import DailyRollup, Fact, MonthlyCategoryRollup, MonthlyRollup, MonthlyUfRollup
from app.services.tenancy import Tenant, scoped_delete, scoped_select

_COLUMNS = [
    "organization_id",
    "data_source_id",
    "day",
    "uf",
    "category",
    "category_key",
    "total_value",
    "row_count",
    "min_value",
    "max_value",
]
_MONTH_COLUMNS = ["month" if name == "day" else name for name in _COLUMNS]
# The monthly rollups summed over the UFs, and over the categories: each table and the dimensions it keeps.
_COARSE_MONTHS: tuple[tuple[type[MonthlyCategoryRollup] | type[MonthlyUfRollup], tuple[str, ...]], ...] = (
    (MonthlyCategoryRollup, ("category", "category_key")),
    (MonthlyUfRollup, ("uf",)),
)


def category_key_sql(value: Any) -> Any:
    """The database's category key of a column or value (painel_category_key, see app/core/db.py)."""
    return getattr(func, CATEGORY_KEY_FUNCTION)(value)


def month_start_sql(session: Session, day: Any) -> Any:
    """The first day of the month of a date column, in the session's SQL dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month")


def _month_bounds(first: date, last: date) -> tuple[date, date]:
    """The first day of first's month and the last day of last's month."""
    following = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.replace(day=1), following - timedelta(days=1)


def _insert_days(session: Session, tenant: Tenant, source_id: int, days: tuple[date, date] | None) -> None:
    grouped = scoped_select(
        tenant,
        Fact,
        Fact.organization_id,
        Fact.data_source_id,
        Fact.date,
        Fact.uf,
        Fact.category,
        func.sum(Fact.value).label("total_value"),
        func.count().label("row_count"),
        func.min(Fact.value).label("min_value"),
        func.max(Fact.value).label("max_value"),
    ).where(Fact.data_source_id == source_id)
    if days is not None:
        grouped = grouped.where(Fact.date.between(*days))
    g = grouped.group_by(Fact.organization_id, Fact.data_source_id, Fact.date, Fact.uf, Fact.category).subquery()
    # The category key (unaccent and lower case) once per group, not once per fact.
    keyed = select(
        g.c.organization_id,
        g.c.data_source_id,
        g.c.date,
        g.c.uf,
        g.c.category,
        category_key_sql(g.c.category),
        g.c.total_value,
        g.c.row_count,
        g.c.min_value,
        g.c.max_value,
    )
    session.execute(insert(DailyRollup).from_select(_COLUMNS, keyed))


def _insert_months(session: Session, tenant: Tenant, source_id: int, days: tuple[date, date] | None) -> None:
    """Monthly rows from the daily ones (days, when given, covers whole months)."""
    month = month_start_sql(session, DailyRollup.day)
    grouped = scoped_select(
        tenant,
        DailyRollup,
        DailyRollup.organization_id,
        DailyRollup.data_source_id,
        month,
        DailyRollup.uf,
        DailyRollup.category,
        DailyRollup.category_key,
        func.sum(DailyRollup.total_value),
        func.sum(DailyRollup.row_count),
        func.min(DailyRollup.min_value),
        func.max(DailyRollup.max_value),
    ).where(DailyRollup.data_source_id == source_id)
    if days is not None:
        grouped = grouped.where(DailyRollup.day.between(*days))
    grouped = grouped.group_by(
        DailyRollup.organization_id,
        DailyRollup.data_source_id,
        month,
        DailyRollup.uf,
        DailyRollup.category,
        DailyRollup.category_key,
    )
    session.execute(insert(MonthlyRollup).from_select(_MONTH_COLUMNS, grouped))


def daily_rows_sql(rows: str, org_id: int, source_id: int) -> str:
    """A data-modifying CTE body (for the ingest's own statement) that writes the daily rollups of the source from a
    relation of its new facts' rows (`date`, `value`, `uf`, `category`): the rows are grouped where they already
    are, instead of being read back from facts. The source's rollups must be empty (a replace removed them)."""
    columns = ", ".join(_COLUMNS)
    return (
        f"INSERT INTO daily_rollups ({columns}) SELECT {int(org_id)}, {int(source_id)}, g.date, g.uf, g.category, "
        f"{CATEGORY_KEY_FUNCTION}(g.category), g.total_value, g.row_count, g.min_value, g.max_value FROM ("
        "SELECT date, uf, category, sum(value) AS total_value, count(*) AS row_count, min(value) AS min_value, "
        f"max(value) AS max_value FROM {rows} GROUP BY date, uf, category) g"
    )


def rebuild_months(session: Session, tenant: Tenant, source_id: int) -> None:
    """The source's monthly, per-category and per-UF monthly rollups from its daily ones (after daily_rows_sql wrote
    them)."""
    _insert_months(session, tenant, source_id, None)
    _insert_coarse_months(session, tenant, source_id, None)


def _insert_coarse_months(session: Session, tenant: Tenant, source_id: int, months: tuple[date, date] | None) -> None:
    """The per-category and per-UF monthly rows from the monthly ones (months, when given: first days of the first
    and last)."""
    for model, dimensions in _COARSE_MONTHS:
        keys = [MonthlyRollup.organization_id, MonthlyRollup.data_source_id, MonthlyRollup.month]
        keys += [getattr(MonthlyRollup, name) for name in dimensions]
        grouped = scoped_select(
            tenant, MonthlyRollup, *keys, func.sum(MonthlyRollup.total_value), func.sum(MonthlyRollup.row_count)
        ).where(MonthlyRollup.data_source_id == source_id)
        if months is not None:
            grouped = grouped.where(MonthlyRollup.month.between(*months))
        columns = ["organization_id", "data_source_id", "month", *dimensions, "total_value", "row_count"]
        session.execute(insert(model).from_select(columns, grouped.group_by(*keys)))


def rebuild_source(session: Session, tenant: Tenant, source_id: int) -> None:
    """Recompute a source's rollups from its facts (after a replace or a restore)."""
    remove_source(session, tenant, source_id)
    _insert_days(session, tenant, source_id, None)
    rebuild_months(session, tenant, source_id)


def refresh_days(session: Session, tenant: Tenant, source_id: int, first: date, last: date) -> None:
    """Recompute a source's rollups for the days first..last (after facts were appended to those days), and the
    monthly, per-category and per-UF monthly rows of the months they fall in."""
    session.execute(
        scoped_delete(tenant, DailyRollup).where(
            DailyRollup.data_source_id == source_id, DailyRollup.day.between(first, last)
        )
    )
    _insert_days(session, tenant, source_id, (first, last))
    months = _month_bounds(first, last)
    session.execute(
        scoped_delete(tenant, MonthlyRollup).where(
            MonthlyRollup.data_source_id == source_id, MonthlyRollup.month.between(*months)
        )
    )
    _insert_months(session, tenant, source_id, months)
    for model, _ in _COARSE_MONTHS:
        session.execute(
            scoped_delete(tenant, model).where(model.data_source_id == source_id, model.month.between(*months))
        )
    _insert_coarse_months(session, tenant, source_id, months)


def remove_source(session: Session, tenant: Tenant, source_id: int) -> None:
    """Drop a source's rollups (its facts are gone or about to be replaced)."""
    session.execute(scoped_delete(tenant, DailyRollup).where(DailyRollup.data_source_id == source_id))
    session.execute(scoped_delete(tenant, MonthlyRollup).where(MonthlyRollup.data_source_id == source_id))
    for model, _ in _COARSE_MONTHS:
        session.execute(scoped_delete(tenant, model).where(model.data_source_id == source_id))
