"""Retention: the staged and rejected rows of batches that are no longer current (superseded or failed) are removed
RETENTION_DAYS after the batch finished; the batch keeps its counts and is marked (`rows_purged_at`), so it can no
longer be restored. Background uploads left `processing` by a process that stopped are marked failed.

The candidates are found across orgs (tenancy.across_orgs, the scheduler's named exception); each org's batches are
then purged in a transaction bound to that org alone, so row-level security checks every delete."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult
from sqlalchemy.orm import Session

from app.core import metrics
from app.core.config import get_settings
from app.core.db import session_scope
from app.models import BatchStatus, IngestionBatch, RejectedRow, Role, StagingRow
from app.models.base import utcnow
from app.services import audit
from app.services.tenancy import (
    Credential,
    Tenant,
    across_orgs,
    scoped_delete,
    scoped_select,
    unscoped_select_across_orgs,
)

logger = logging.getLogger("painel.retention")

EXPIRED_STATUSES = (BatchStatus.SUPERSEDED, BatchStatus.FAILED)


@dataclass(frozen=True)
class RetentionResult:
    batches: int = 0  # batches whose rows were removed (now not restorable)
    staging_rows: int = 0
    rejected_rows: int = 0
    abandoned: int = 0  # background uploads marked failed


def _expired(tenant_free: Session, cutoff: datetime) -> dict[int, list[int]]:
    """org id -> ids of its batches past retention, across orgs."""
    stmt = unscoped_select_across_orgs(IngestionBatch).where(
        IngestionBatch.status.in_(EXPIRED_STATUSES),
        IngestionBatch.rows_purged_at.is_(None),
        IngestionBatch.finished_at < cutoff,
    )
    found: dict[int, list[int]] = defaultdict(list)
    with across_orgs(tenant_free):
        for org_id, batch_id in tenant_free.execute(
            stmt.with_only_columns(IngestionBatch.organization_id, IngestionBatch.id).order_by(IngestionBatch.id)
        ):
            found[org_id].append(batch_id)
    return found


def _purge_org(org_id: int, batch_ids: list[int], cutoff: datetime) -> RetentionResult:
    """One org's expired batches, re-checked and locked (a restore may have made one current meanwhile)."""
    tenant = Tenant(org_id=org_id, user_id=None, role=Role.OWNER, credential=Credential.JOB)
    with session_scope(org_id) as session:
        audit.set_actor(session, audit.ActorType.SCHEDULER)
        batches = session.scalars(
            scoped_select(tenant, IngestionBatch)
            .where(
                IngestionBatch.id.in_(batch_ids),
                IngestionBatch.status.in_(EXPIRED_STATUSES),
                IngestionBatch.rows_purged_at.is_(None),
                IngestionBatch.finished_at < cutoff,
            )
            .with_for_update(skip_locked=True)  # another scheduler process may be purging the same org
        ).all()
        if not batches:
            return RetentionResult()
        ids = [batch.id for batch in batches]
        staged: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # DML gives a cursor result
            scoped_delete(tenant, StagingRow).where(StagingRow.batch_id.in_(ids))
        )
        rejected: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            scoped_delete(tenant, RejectedRow).where(RejectedRow.batch_id.in_(ids))
        )
        now = utcnow()
        for batch in batches:
            batch.rows_purged_at = now
        session.flush()
        return RetentionResult(len(ids), staged.rowcount, rejected.rowcount)


def _fail_abandoned_uploads(now: datetime) -> int:
    """Background uploads still `processing` long after they started: the process loading them stopped."""
    stale = get_settings().JOB_STALE_AFTER_SECONDS
    with session_scope() as session, across_orgs(session):
        audit.set_actor(session, audit.ActorType.SCHEDULER)
        stmt = unscoped_select_across_orgs(IngestionBatch).where(
            IngestionBatch.status == BatchStatus.PROCESSING,
            IngestionBatch.started_at < now - timedelta(seconds=stale),
        )
        batches = session.scalars(stmt.with_for_update(skip_locked=True)).all()
        for batch in batches:
            batch.status, batch.finished_at = BatchStatus.FAILED, now
            batch.error = f"abandoned: still processing after {stale} s (the process loading it stopped); upload again"
        session.commit()  # inside the exception: the audit rows of every org are written by this commit
        return len(batches)


def purge_expired(now: datetime | None = None, days: int | None = None) -> RetentionResult:
    """Remove the rows of batches past retention in every org (RETENTION_DAYS unless `days`; 0 keeps everything)."""
    now = now or utcnow()
    days = get_settings().RETENTION_DAYS if days is None else days
    abandoned = _fail_abandoned_uploads(now)
    if days <= 0:
        return RetentionResult(abandoned=abandoned)
    cutoff = now - timedelta(days=days)
    with session_scope() as session:
        expired = _expired(session, cutoff)
    batches = staging_rows = rejected_rows = 0
    for org_id, batch_ids in expired.items():
        done = _purge_org(org_id, batch_ids, cutoff)
        batches, staging_rows, rejected_rows = (
            batches + done.batches,
            staging_rows + done.staging_rows,
            rejected_rows + done.rejected_rows,
        )
    result = RetentionResult(batches, staging_rows, rejected_rows, abandoned)
    metrics.count_retention(staging_rows, rejected_rows)
    logger.info(
        "retention (%d days): %d batches purged (%d staging rows, %d rejected rows) in %d orgs; %d abandoned uploads",
        days,
        result.batches,
        result.staging_rows,
        result.rejected_rows,
        len(expired),
        abandoned,
    )
    return result
