"""Daily rollups of the curated facts: per org, source, day, UF and category, the sum, count, min and max.

Every write to `facts` calls one of these in the same transaction, so the rollups always equal a recomputation from
`facts` (a test checks it after every kind of write). They are rebuilt with set-based SQL: a DELETE and one
INSERT ... SELECT ... GROUP BY over the facts concerned, never row by row."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, insert
from sqlalchemy.orm import Session

from app.models import DailyRollup, Fact
from app.services.tenancy import Tenant, scoped_delete, scoped_select

_COLUMNS = [
    "organization_id",
    "data_source_id",
    "day",
    "uf",
    "category",
    "total_value",
    "row_count",
    "min_value",
    "max_value",
]


def _insert_from_facts(session: Session, tenant: Tenant, source_id: int, days: tuple[date, date] | None) -> None:
    grouped = scoped_select(
        tenant,
        Fact,
        Fact.organization_id,
        Fact.data_source_id,
        Fact.date,
        Fact.uf,
        Fact.category,
        func.sum(Fact.value),
        func.count(),
        func.min(Fact.value),
        func.max(Fact.value),
    ).where(Fact.data_source_id == source_id)
    if days is not None:
        grouped = grouped.where(Fact.date.between(*days))
    grouped = grouped.group_by(Fact.organization_id, Fact.data_source_id, Fact.date, Fact.uf, Fact.category)
    session.execute(insert(DailyRollup).from_select(_COLUMNS, grouped))


def rebuild_source(session: Session, tenant: Tenant, source_id: int) -> None:
    """Recompute a source's rollups from its facts (after a replace or a restore)."""
    remove_source(session, tenant, source_id)
    _insert_from_facts(session, tenant, source_id, None)


def refresh_days(session: Session, tenant: Tenant, source_id: int, first: date, last: date) -> None:
    """Recompute a source's rollups for the days first..last (after facts were appended to those days)."""
    session.execute(
        scoped_delete(tenant, DailyRollup).where(
            DailyRollup.data_source_id == source_id, DailyRollup.day.between(first, last)
        )
    )
    _insert_from_facts(session, tenant, source_id, (first, last))


def remove_source(session: Session, tenant: Tenant, source_id: int) -> None:
    """Drop a source's rollups (its facts are gone or about to be replaced)."""
    session.execute(scoped_delete(tenant, DailyRollup).where(DailyRollup.data_source_id == source_id))
