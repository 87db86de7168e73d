"""Reading ingestion batches: list, detail, rejected rows, preview."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from app.models import BatchStatus, Fact, IngestionBatch, RejectedRow, StagingRow
from app.services.tenancy import Tenant, get_scoped_or_404, scoped_select

REJECTED_SAMPLE = 20


def get_batch(session: Session, tenant: Tenant, batch_id: int) -> IngestionBatch:
    return get_scoped_or_404(session, tenant, IngestionBatch, batch_id, "Batch")


def current_batch_with_content(session: Session, tenant: Tenant, source_id: int, sha256: str) -> IngestionBatch | None:
    """The source's current batch if it was loaded from exactly this content."""
    stmt = (
        scoped_select(tenant, IngestionBatch)
        .where(
            IngestionBatch.data_source_id == source_id,
            IngestionBatch.status == BatchStatus.LOADED,
        )
        .order_by(IngestionBatch.id.desc())
        .limit(1)
    )
    batch = session.scalars(stmt).first()
    return batch if batch is not None and batch.content_sha256 == sha256 else None


def list_batches(
    session: Session, tenant: Tenant, *, data_source_id: int | None, limit: int, offset: int
) -> tuple[list[IngestionBatch], int]:
    """The caller's batches, newest first."""
    stmt = scoped_select(tenant, IngestionBatch)
    if data_source_id is not None:
        stmt = stmt.where(IngestionBatch.data_source_id == data_source_id)
    total = session.scalar(stmt.with_only_columns(func.count()).order_by(None))
    items = session.scalars(stmt.order_by(IngestionBatch.id.desc()).limit(limit).offset(offset)).all()
    return list(items), total


def _rejected(session: Session, tenant: Tenant, batch_id: int, limit: int, offset: int) -> list[dict[str, Any]]:
    stmt = (
        scoped_select(tenant, RejectedRow)
        .where(RejectedRow.batch_id == batch_id)
        .order_by(RejectedRow.line_no, RejectedRow.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        {"line": r.line_no, "column": r.column, "value": r.value, "reason": r.reason} for r in session.scalars(stmt)
    ]


def list_errors(
    session: Session, tenant: Tenant, batch_id: int, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Every rejected cell of a batch, by line."""
    get_batch(session, tenant, batch_id)
    total = session.scalar(scoped_select(tenant, RejectedRow, func.count()).where(RejectedRow.batch_id == batch_id))
    return _rejected(session, tenant, batch_id, limit, offset), total


def preview(session: Session, tenant: Tenant, batch_id: int, limit: int) -> dict[str, Any]:
    """The first staging rows (as received) and curated rows of a batch."""
    batch = get_batch(session, tenant, batch_id)
    staged = session.scalars(
        scoped_select(tenant, StagingRow)
        .where(StagingRow.batch_id == batch.id)
        .order_by(StagingRow.line_no)
        .limit(limit)
    ).all()
    curated = session.scalars(
        scoped_select(tenant, Fact).where(Fact.batch_id == batch.id).order_by(Fact.id).limit(limit)
    ).all()
    return {
        "batch_id": batch.id,
        "header": batch.details.get("header", []),
        "staging": [{"line": s.line_no, "raw": s.raw, "valid": s.is_valid} for s in staged],
        "curated": [
            {"date": f.date, "value": f.value, "uf": f.uf, "category": f.category, "attributes": f.attributes}
            for f in curated
        ],
    }


def report(session: Session, tenant: Tenant, batch: IngestionBatch, *, duplicate: bool = False) -> dict[str, Any]:
    """The upload report of an existing batch."""
    return {
        "batch_id": batch.id,
        "data_source_id": batch.data_source_id,
        "status": batch.status.value,
        "dry_run": False,
        "duplicate": duplicate,
        "rows_received": batch.rows_received,
        "rows_loaded": batch.rows_loaded,
        "rows_rejected": batch.rows_rejected,
        "detected": batch.details.get("detected", {}),
        "mapping": batch.details.get("mapping", {}),
        "rejected_sample": _rejected(session, tenant, batch.id, REJECTED_SAMPLE, 0),
    }


def last_incremental_value(session: Session, tenant: Tenant, source_id: int) -> Any:
    """The highest incremental-column value loaded so far for a source (None before its first run)."""
    stmt = (
        scoped_select(tenant, IngestionBatch)
        .where(
            IngestionBatch.data_source_id == source_id,
            IngestionBatch.status == BatchStatus.LOADED,
        )
        .order_by(IngestionBatch.id.desc())
    )
    for batch in session.scalars(stmt.limit(50)):
        if batch.details.get("incremental_max") is not None:
            return batch.details["incremental_max"]
    return None


def set_incremental_value(session: Session, tenant: Tenant, batch_id: int, value: Any) -> None:
    batch = get_batch(session, tenant, batch_id)
    batch.details = {**batch.details, "incremental_max": value}
    session.flush()
