"""Restoring an earlier batch: its staged valid rows become its source's facts again."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import Conflict
from app.models import BatchStatus, IngestionBatch
from app.models.base import utcnow
from app.schemas.ingest import BatchRead
from app.services import datasources as datasource_service
from app.services import freshness
from app.services.ingest import batches as batch_service
from app.services.ingest import staging
from app.services.tenancy import Tenant, scoped_select


def _check_restorable(batch: IngestionBatch) -> None:
    if batch.rows_purged_at is not None:
        days = get_settings().RETENTION_DAYS
        raise Conflict(
            f"Batch {batch.id} can no longer be restored: its rows were removed by retention on "
            f"{batch.rows_purged_at:%Y-%m-%d} (RETENTION_DAYS={days}); upload its file again instead.",
            code="batch_purged",
        )
    if batch.status is BatchStatus.PROCESSING:
        raise Conflict(f"Batch {batch.id} is still loading; wait until it is loaded.", code="batch_processing")
    if batch.status is BatchStatus.FAILED:
        raise Conflict(f"Batch {batch.id} failed to load, so it has no rows to restore.", code="batch_failed")


def restore_batch(session: Session, tenant: Tenant, batch_id: int) -> BatchRead:
    """Make a batch its source's only current one again (facts, rollups, data version); audited as batch.restored."""
    batch = batch_service.get_batch(session, tenant, batch_id)
    _check_restorable(batch)
    # The source's lock serializes restores with uploads into it; the batch's with retention's purge.
    source = datasource_service.get_source(session, tenant, batch.data_source_id, lock=True)
    batch = batch_service.get_batch(session, tenant, batch_id, lock=True)
    session.refresh(batch)
    _check_restorable(batch)
    current = session.scalars(
        scoped_select(tenant, IngestionBatch, IngestionBatch.id).where(
            IngestionBatch.data_source_id == source.id, IngestionBatch.status == BatchStatus.LOADED
        )
    ).all()
    if list(current) == [batch.id]:
        return BatchRead.model_validate(batch)  # already the source's only current batch: nothing changes
    inserted = staging.promote(session, tenant, source.id, batch.id, replace=True)
    if inserted != batch.rows_loaded:
        raise Conflict(
            f"Batch {batch.id} has {inserted} of its {batch.rows_loaded} rows staged; it cannot be restored.",
            code="batch_incomplete",
        )
    batch_service.supersede_others(session, tenant, source.id, batch.id)
    batch.status, batch.restored_at = BatchStatus.LOADED, utcnow()
    freshness.bump(session, tenant)
    session.flush()
    return BatchRead.model_validate(batch)
