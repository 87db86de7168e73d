"""Writing parsed chunks into staging and rejected rows, and promoting a batch into the curated facts.

Postgres gets COPY (psycopg2 copy_expert, through a temporary table: row-level security refuses COPY FROM) and
INSERT ... SELECT; SQLite gets chunked executemany.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import repeat
from typing import Any

from sqlalchemy import CursorResult, Integer, func, insert, literal
from sqlalchemy.orm import Session

from app.core.db import driver_connection
from app.models import Fact, RejectedRow, StagingRow
from app.models.base import ExactDecimal
from app.services import rollups
from app.services.tenancy import Tenant, scoped_delete, scoped_select

STAGING_COLUMNS = (
    "organization_id",
    "batch_id",
    "line_no",
    "raw",
    "is_valid",
    "date",
    "value",
    "uf",
    "category",
    "attributes",
)
FACT_COLUMNS = ["organization_id", "data_source_id", "batch_id", "date", "value", "uf", "category", "attributes"]
REJECTED_COLUMNS = ("organization_id", "batch_id", "line_no", "column", "value", "reason")


@dataclass
class StagingChunk:
    """Column-wise parsed rows of one chunk; `raw` and `attributes` are JSON texts."""

    line_no: Sequence[int]
    raw: Sequence[str | None]
    is_valid: Sequence[bool]
    date: Sequence[date | None]
    value: Sequence[str | None]
    uf: Sequence[str | None]
    category: Sequence[str | None]
    attributes: Sequence[str | None]


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _copy(session: Session, table: str, columns: Sequence[str], rows) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    cols = ", ".join(f'"{c}"' for c in columns)
    # COPY FROM refuses tables under row-level security: the chunk goes into a temporary table of this
    # transaction, then one INSERT ... SELECT (checked by the policy) moves it.
    load = f"painel_load_{table}"
    connection = session.connection()
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {load} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"
    )
    with driver_connection(connection).cursor() as cursor:
        cursor.copy_expert(f"COPY {load} ({cols}) FROM STDIN WITH (FORMAT csv)", buffer)
    connection.exec_driver_sql(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {load}")
    connection.exec_driver_sql(f"TRUNCATE {load}")


def write_staging(session: Session, org_id: int, batch_id: int, chunk: StagingChunk) -> None:
    """Append one chunk of parsed rows to staging."""
    n = len(chunk.line_no)
    if n == 0:
        return
    if _is_postgres(session):
        # csv.writer writes None as an empty unquoted field, which COPY's csv format reads as NULL.
        rows = zip(
            repeat(org_id, n),
            repeat(batch_id, n),
            chunk.line_no,
            chunk.raw,
            chunk.is_valid,
            chunk.date,
            chunk.value,
            chunk.uf,
            chunk.category,
            chunk.attributes,
            strict=False,
        )
        _copy(session, StagingRow.__tablename__, STAGING_COLUMNS, rows)
        return
    to_storage = ExactDecimal().process_bind_param
    dialect = session.get_bind().dialect
    values = [
        (
            org_id,
            batch_id,
            line,
            raw,
            1 if ok else 0,
            d.isoformat() if d else None,
            to_storage(Decimal(v), dialect) if v is not None else None,
            uf,
            cat,
            attrs,
        )
        for line, raw, ok, d, v, uf, cat, attrs in zip(
            chunk.line_no,
            chunk.raw,
            chunk.is_valid,
            chunk.date,
            chunk.value,
            chunk.uf,
            chunk.category,
            chunk.attributes,
            strict=False,
        )
    ]
    placeholders = ", ".join("?" for _ in STAGING_COLUMNS)
    cols = ", ".join(f'"{c}"' for c in STAGING_COLUMNS)
    session.connection().exec_driver_sql(f"INSERT INTO staging_rows ({cols}) VALUES ({placeholders})", values)


def write_rejected(
    session: Session, org_id: int, batch_id: int, rejected: Sequence[tuple[int, str | None, str | None, str]]
) -> None:
    """Append (line, column, value, reason) records to the batch's rejected rows."""
    if not rejected:
        return
    rows = [
        (org_id, batch_id, line, column[:255] if column else column, value, reason[:255])
        for line, column, value, reason in rejected
    ]
    if _is_postgres(session):
        _copy(session, RejectedRow.__tablename__, REJECTED_COLUMNS, rows)
        return
    session.execute(insert(RejectedRow), [dict(zip(REJECTED_COLUMNS, row, strict=True)) for row in rows])


def promote(session: Session, tenant: Tenant, data_source_id: int, batch_id: int, *, replace: bool) -> int:
    """Move the batch's valid staging rows into facts; with replace, the source's old facts go in the same
    transaction, so readers never see a half-loaded or doubled source. Returns the rows inserted."""
    if replace:
        clear_source_facts(session, tenant, data_source_id)
    rows = scoped_select(
        tenant,
        StagingRow,
        StagingRow.organization_id,
        literal(data_source_id, Integer),
        StagingRow.batch_id,
        StagingRow.date,
        StagingRow.value,
        StagingRow.uf,
        StagingRow.category,
        StagingRow.attributes,
    ).where(StagingRow.batch_id == batch_id, StagingRow.is_valid.is_(True))
    result: CursorResult[Any] = session.execute(insert(Fact).from_select(FACT_COLUMNS, rows))  # type: ignore[assignment]
    refresh_rollups(session, tenant, data_source_id, batch_id, replace=replace)
    return result.rowcount


def clear_source_facts(session: Session, tenant: Tenant, data_source_id: int) -> None:
    """A replace's first step: the source's current facts go (in the load's transaction)."""
    session.execute(scoped_delete(tenant, Fact).where(Fact.data_source_id == data_source_id))


def refresh_rollups(
    session: Session, tenant: Tenant, data_source_id: int, batch_id: int, *, replace: bool, daily_written: bool = False
) -> None:
    """After the batch's facts are in: a replace rebuilds the source's rollups (only the monthly ones when the load
    already wrote the daily ones: the COPY path's statement), an append refreshes its days."""
    if replace and daily_written:
        rollups.rebuild_months(session, tenant, data_source_id)
        return
    if replace:
        rollups.rebuild_source(session, tenant, data_source_id)
        return
    days = session.execute(
        scoped_select(tenant, StagingRow, func.min(StagingRow.date), func.max(StagingRow.date)).where(
            StagingRow.batch_id == batch_id, StagingRow.is_valid.is_(True)
        )
    ).one()
    if days[0] is not None:
        rollups.refresh_days(session, tenant, data_source_id, days[0], days[1])
