"""Runs of data sources (manual or scheduled): one job_runs record per run, at most one run per source at a
time (see locks), and reading the run history."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter

from sqlalchemy.orm import Session

from app.core import metrics
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import AppError, Conflict
from app.models import DataSource, JobRun, Role, RunStatus, RunTrigger
from app.models.base import utcnow
from app.schemas.common import Page, PageParams
from app.schemas.jobs import JobRunRead
from app.services import audit
from app.services import datasources as datasource_service
from app.services.ingest.sources import LoadTimeout, ingest_source
from app.services.jobs.locks import source_lock
from app.services.pagination import fetch_page
from app.services.tenancy import Tenant, get_scoped, get_scoped_or_404, scoped_select

logger = logging.getLogger("painel.jobs")

WORKER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RunFilter:
    data_source_id: int | None = None
    status: RunStatus | None = None
    since: datetime | None = None


@dataclass
class _Outcome:
    status: RunStatus
    rows_loaded: int | None = None
    batch_id: int | None = None
    error: str | None = None


def run_source(
    source_id: int,
    org_id: int,
    trigger: RunTrigger,
    *,
    attempt: int = 1,
    user_id: int | None = None,
    is_still_due: Callable[[Session, DataSource], bool] | None = None,
) -> int | None:
    """Run one source now; returns the job run id, or None when another run holds it (or it is gone).

    The run opens its own sessions, each bound to the source's org: the run record is committed before the load
    starts (so a crash leaves a visible `running` record for the reaper) and is finished in a third transaction
    after the load committed or rolled back as a whole. `is_still_due(session, source)` is re-checked under the
    lock so two schedulers cannot both run a source."""
    tenant = Tenant(org_id=org_id, user_id=user_id, role=Role.OWNER)  # the job acts for the org with full rights
    with source_lock(source_id) as taken:
        if not taken:
            return None
        started = perf_counter()
        with session_scope(org_id) as session:
            source = get_scoped(session, tenant, DataSource, source_id)
            if source is None or (is_still_due is not None and not is_still_due(session, source)):
                return None
            skipped = source.type.is_file
            run = JobRun(
                organization_id=org_id,
                data_source_id=source_id,
                trigger=trigger,
                status=RunStatus.SKIPPED if skipped else RunStatus.RUNNING,
                attempt=attempt,
                worker=WORKER,
                error="file sources are refreshed by uploading a new file" if skipped else None,
                finished_at=utcnow() if skipped else None,
            )
            session.add(run)
            session.flush()
            run_id = run.id
        if skipped:
            logger.info("source %s skipped: file source", source_id)
            metrics.observe_job_run(RunStatus.SKIPPED.value, perf_counter() - started)
            return run_id
        outcome = _load(tenant, source_id, trigger)
        with session_scope(org_id) as session:
            run = get_scoped_or_404(session, tenant, JobRun, run_id, "Job run")
            run.status, run.finished_at, run.error = outcome.status, utcnow(), outcome.error
            run.rows_loaded, run.batch_id = outcome.rows_loaded, outcome.batch_id
        metrics.observe_job_run(outcome.status.value, perf_counter() - started)
        return run_id


def _load(tenant: Tenant, source_id: int, trigger: RunTrigger) -> _Outcome:
    """The load itself, in its own transaction (all or nothing); any failure becomes the run's error."""
    try:
        with session_scope(tenant.org_id) as session:
            source = get_scoped_or_404(session, tenant, DataSource, source_id, "Data source")
            actor = audit.ActorType.SCHEDULER if trigger is RunTrigger.SCHEDULE else audit.ActorType.USER
            audit.set_actor(session, actor, tenant.user_id)
            report = ingest_source(session, tenant, source)
            if report is None:  # pragma: no cover - file sources are skipped before loading
                return _Outcome(RunStatus.SKIPPED)
            return _Outcome(RunStatus.SUCCESS, rows_loaded=report.rows_loaded, batch_id=report.batch_id)
    except LoadTimeout:
        return _Outcome(
            RunStatus.FAILED, error=f"timed out after {get_settings().JOB_TIMEOUT_SECONDS} s (JOB_TIMEOUT_SECONDS)"
        )
    except AppError as exc:
        return _Outcome(RunStatus.FAILED, error=exc.detail)
    except Exception as exc:  # a failing source must never stop the others
        logger.exception("source %s failed", source_id)
        return _Outcome(RunStatus.FAILED, error=f"unexpected error: {type(exc).__name__}")


def run_source_now(session: Session, tenant: Tenant, source_id: int) -> JobRunRead:
    """A manual run (POST /datasources/{id}/run); 409 when it is running already. The run commits in its own
    transactions (see run_source), so the answer is read back in a fresh session."""
    source = datasource_service.get_source(session, tenant, source_id)
    run_id = run_source(source.id, tenant.org_id, RunTrigger.MANUAL, user_id=tenant.user_id)
    if run_id is None:
        raise Conflict(f"Data source {source_id} is running already", code="already_running")
    with session_scope(tenant.org_id) as own:
        return JobRunRead.model_validate(get_scoped_or_404(own, tenant, JobRun, run_id, "Job run"))


def list_runs(session: Session, tenant: Tenant, page: PageParams, filters: RunFilter) -> Page[JobRunRead]:
    """The caller's runs, newest first."""
    stmt = scoped_select(tenant, JobRun)
    if filters.data_source_id is not None:
        stmt = stmt.where(JobRun.data_source_id == filters.data_source_id)
    if filters.status is not None:
        stmt = stmt.where(JobRun.status == filters.status)
    if filters.since is not None:
        stmt = stmt.where(JobRun.started_at >= filters.since)
    return fetch_page(session, stmt.order_by(JobRun.started_at.desc(), JobRun.id.desc()), page, JobRunRead)


def get_run(session: Session, tenant: Tenant, run_id: int) -> JobRunRead:
    """One run of the caller's org."""
    return JobRunRead.model_validate(get_scoped_or_404(session, tenant, JobRun, run_id, "Job run"))
