"""Job run history (scheduled and manual runs of data sources)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from app.models import RunStatus
from app.routers.deps import Id, OptionalId, Paging, SessionDep, ViewerTenant
from app.schemas.common import Page
from app.schemas.jobs import JobRunRead
from app.services.jobs import runs as run_service

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/runs", response_model=Page[JobRunRead])
def list_runs(
    tenant: ViewerTenant,
    session: SessionDep,
    page: Paging,
    data_source_id: OptionalId = None,
    status: RunStatus | None = None,
    since: datetime | None = None,
) -> Page[JobRunRead]:
    """Runs newest first; filter by source, status, or start time."""
    filters = run_service.RunFilter(data_source_id=data_source_id, status=status, since=since)
    return run_service.list_runs(session, tenant, page, filters)


@router.get("/runs/{run_id}", response_model=JobRunRead)
def get_run(run_id: Id, tenant: ViewerTenant, session: SessionDep) -> JobRunRead:
    return run_service.get_run(session, tenant, run_id)
