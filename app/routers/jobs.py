"""Job run history (scheduled and manual runs of data sources)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.models import RunStatus
from app.routers.deps import Id, Offset, OptionalId, SessionDep, ViewerTenant
from app.schemas.common import Page
from app.schemas.datasources import JobRunRead
from app.services import jobs as job_service

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/runs", response_model=Page[JobRunRead])
def list_runs(
    tenant: ViewerTenant,
    session: SessionDep,
    data_source_id: OptionalId = None,
    status: RunStatus | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
):
    """Runs newest first; filter by source, status, or start time."""
    items, total = job_service.list_runs(
        session, tenant, data_source_id=data_source_id, status=status, since=since, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/runs/{run_id}", response_model=JobRunRead)
def get_run(run_id: Id, tenant: ViewerTenant, session: SessionDep):
    return job_service.get_run(session, tenant, run_id)
