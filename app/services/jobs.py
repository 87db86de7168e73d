"""Reading job runs, tenant-scoped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import Session

from app.models import JobRun, RunStatus
from app.services.tenancy import Tenant, get_scoped_or_404, scoped_select


def list_runs(
    session: Session,
    tenant: Tenant,
    *,
    data_source_id: int | None,
    status: RunStatus | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[JobRun], int]:
    """The caller's runs, newest first."""
    stmt = scoped_select(tenant, JobRun)
    if data_source_id is not None:
        stmt = stmt.where(JobRun.data_source_id == data_source_id)
    if status is not None:
        stmt = stmt.where(JobRun.status == status)
    if since is not None:
        stmt = stmt.where(JobRun.started_at >= since)
    total = session.scalar(stmt.with_only_columns(func.count()).order_by(None))
    items = session.scalars(stmt.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit).offset(offset))
    return list(items), total


def get_run(session: Session, tenant: Tenant, run_id: int) -> JobRun:
    return get_scoped_or_404(session, tenant, JobRun, run_id, "Job run")
