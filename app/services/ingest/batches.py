"""Ingestion batches: list, detail, a source's history, rejected rows, preview, the upload report, duplicates and the
progress of background loads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

from app.core.db import get_engine, session_scope
from app.models import BatchStatus, Fact, IngestionBatch, LoadMode, RejectedRow, StagingRow
from app.models.base import utcnow
from app.schemas.common import Page, PageParams
from app.schemas.ingest import (
    BatchHistoryRead,
    BatchPreviewRead,
    BatchRead,
    BatchReportRead,
    CuratedPreviewRow,
    RejectedRowRead,
    StagingPreviewRow,
)
from app.services import datasources as datasource_service
from app.services.exports import Column, ExportFile, ExportOptions, Table, export_tables
from app.services.exports.files import file_stem
from app.services.pagination import fetch_page
from app.services.tenancy import Tenant, get_scoped, get_scoped_or_404, scoped_select, scoped_update

REJECTED_SAMPLE = 20
R = TypeVar("R", BatchRead, BatchHistoryRead)


def get_batch(session: Session, tenant: Tenant, batch_id: int, *, lock: bool = False) -> IngestionBatch:
    return get_scoped_or_404(session, tenant, IngestionBatch, batch_id, "Batch", lock=lock)


def supersede_others(session: Session, tenant: Tenant, source_id: int, batch_id: int) -> None:
    """Make `batch_id` the source's only current batch: its other loaded batches become superseded."""
    session.execute(
        scoped_update(tenant, IngestionBatch)
        .where(
            IngestionBatch.data_source_id == source_id,
            IngestionBatch.id != batch_id,
            IngestionBatch.status == BatchStatus.LOADED,
        )
        .values(status=BatchStatus.SUPERSEDED)
    )


def duplicate_of(
    session: Session, tenant: Tenant, source_id: int, sha256: str, request: dict[str, Any], mode: LoadMode
) -> IngestionBatch | None:
    """The current batch that makes loading this content again a no-op: in replace mode, the source's only current
    batch; in append mode, any current batch (appending it again would count its rows twice). Same content and
    same reading options (`request`) only."""
    stmt = (
        scoped_select(tenant, IngestionBatch)
        .where(IngestionBatch.data_source_id == source_id, IngestionBatch.status == BatchStatus.LOADED)
        .order_by(IngestionBatch.id.desc())
    )
    current = session.scalars(stmt.limit(1 if mode is LoadMode.APPEND else 2)).all()
    if mode is LoadMode.APPEND:
        same = stmt.where(IngestionBatch.content_sha256 == sha256)
        candidates = [b for b in session.scalars(same.limit(20)) if b.details.get("request") == request]
        return candidates[0] if candidates else None
    if len(current) != 1:
        return None
    batch = current[0]
    return batch if batch.content_sha256 == sha256 and batch.details.get("request") == request else None


def list_batches(
    session: Session, tenant: Tenant, page: PageParams, data_source_id: int | None = None
) -> Page[BatchRead]:
    """The caller's batches, newest first."""
    stmt = scoped_select(tenant, IngestionBatch)
    if data_source_id is not None:
        stmt = stmt.where(IngestionBatch.data_source_id == data_source_id)
    return fetch_page(session, stmt.order_by(IngestionBatch.id.desc()), page, BatchRead)


def read_batch(session: Session, tenant: Tenant, batch_id: int) -> BatchRead:
    """One batch of the caller's org (while it is processing, with its progress)."""
    return _with_live_progress(BatchRead.model_validate(get_batch(session, tenant, batch_id)), tenant)


def list_source_batches(session: Session, tenant: Tenant, source_id: int, page: PageParams) -> Page[BatchHistoryRead]:
    """A source's batches, newest first, with whether each can still be restored (404 for another org's source)."""
    source = datasource_service.get_source(session, tenant, source_id)
    stmt = scoped_select(tenant, IngestionBatch).where(IngestionBatch.data_source_id == source.id)
    found = fetch_page(session, stmt.order_by(IngestionBatch.id.desc()), page, BatchHistoryRead)
    return found.model_copy(update={"items": [_with_live_progress(item, tenant) for item in found.items]})


# SQLite has one writer at a time and the load holds it: there (one process by assumption) progress is kept here.
_live_progress: dict[tuple[int, int], int] = {}


def record_progress(tenant: Tenant, batch_id: int, rows: int) -> None:
    """Commit a background load's progress in a short transaction of its own, while the load's stays open."""
    if get_engine().dialect.name != "postgresql":
        _live_progress[(tenant.org_id, batch_id)] = rows
        return
    with session_scope(tenant.org_id) as session:
        session.execute(
            scoped_update(tenant, IngestionBatch)
            .where(IngestionBatch.id == batch_id, IngestionBatch.status == BatchStatus.PROCESSING)
            .values(rows_processed=rows)
        )


def forget_progress(tenant: Tenant, batch_id: int) -> None:
    _live_progress.pop((tenant.org_id, batch_id), None)


def _with_live_progress(read: R, tenant: Tenant) -> R:
    rows = _live_progress.get((tenant.org_id, read.id)) if read.status == BatchStatus.PROCESSING else None
    return read if rows is None else read.model_copy(update={"rows_processed": rows})


def record_failure(tenant: Tenant, batch_id: int, error: str) -> None:
    """Mark a background load failed with its reason, after its transaction rolled back (nothing else changed)."""
    with session_scope(tenant.org_id) as session:
        batch = get_scoped(session, tenant, IngestionBatch, batch_id, lock=True)
        if batch is None or batch.status is not BatchStatus.PROCESSING:
            return  # its source was deleted meanwhile, or the reaper got there first
        batch.status, batch.error, batch.finished_at = BatchStatus.FAILED, error[:2000], utcnow()


def _rejected_rows(tenant: Tenant, batch_id: int) -> Select[Any]:
    return (
        scoped_select(tenant, RejectedRow)
        .where(RejectedRow.batch_id == batch_id)
        .order_by(RejectedRow.line_no, RejectedRow.id)
    )


def _rejected_read(row: Any) -> RejectedRowRead:
    rejected = row[0]
    return RejectedRowRead(line=rejected.line_no, column=rejected.column, value=rejected.value, reason=rejected.reason)


def list_batch_errors(session: Session, tenant: Tenant, batch_id: int, page: PageParams) -> Page[RejectedRowRead]:
    """Every rejected cell of a batch, by line."""
    get_batch(session, tenant, batch_id)
    return fetch_page(session, _rejected_rows(tenant, batch_id), page, RejectedRowRead, _rejected_read)


ERRORS_EXPORT_PAGE = 5_000
ERROR_COLUMNS = [Column("line", "integer"), Column("column"), Column("value"), Column("reason")]


def _every_rejected_row(org_id: int, tenant: Tenant, batch_id: int) -> Iterator[tuple[Any, ...]]:
    """Every rejected cell of the batch by line, a page at a time (keyset on line and id). Each page is read in a
    session of its own: the file streams after the request's session has closed, and no connection is held
    between pages."""
    after: tuple[int, int] = (-1, -1)
    while True:
        with session_scope(org_id) as session:
            stmt = _rejected_rows(tenant, batch_id).where(tuple_(RejectedRow.line_no, RejectedRow.id) > after)
            page = session.scalars(stmt.limit(ERRORS_EXPORT_PAGE)).all()
            rows = [(r.line_no, r.column, r.value, r.reason) for r in page]
            if page:
                after = (page[-1].line_no, page[-1].id)
        yield from rows
        if len(rows) < ERRORS_EXPORT_PAGE:
            return


def batch_errors(
    session: Session, tenant: Tenant, batch_id: int, page: PageParams, export: ExportOptions | None
) -> Page[RejectedRowRead] | ExportFile:
    """A page of the batch's rejected cells, or all of them as a CSV or XLSX file (404 first, before streaming)."""
    if export is None:
        return list_batch_errors(session, tenant, batch_id, page)
    batch = get_batch(session, tenant, batch_id)
    table = Table("errors", ERROR_COLUMNS, _every_rejected_row(tenant.org_id, tenant, batch.id))
    return export_tables([table], export, file_stem("batch", batch.id, "errors"))


def get_batch_preview(session: Session, tenant: Tenant, batch_id: int, limit: int) -> BatchPreviewRead:
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
    return BatchPreviewRead(
        batch_id=batch.id,
        header=batch.details.get("header", []),
        staging=[StagingPreviewRow(line=s.line_no, raw=s.raw, valid=s.is_valid) for s in staged],
        curated=[CuratedPreviewRow.model_validate(f) for f in curated],
    )


def batch_report(
    session: Session, tenant: Tenant, batch: IngestionBatch, *, duplicate: bool = False
) -> BatchReportRead:
    """The upload report of a stored batch (the one place that builds it; dry runs have no batch)."""
    sample = session.execute(_rejected_rows(tenant, batch.id).limit(REJECTED_SAMPLE)).all()
    return BatchReportRead(
        batch_id=batch.id,
        data_source_id=batch.data_source_id,
        status=batch.status.value,
        mode=batch.mode.value,
        dry_run=False,
        duplicate=duplicate,
        rows_received=batch.rows_received,
        rows_loaded=batch.rows_loaded,
        rows_rejected=batch.rows_rejected,
        detected=batch.details.get("detected", {}),
        mapping=batch.details.get("mapping", {}),
        rejected_sample=[_rejected_read(row) for row in sample],
    )


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
