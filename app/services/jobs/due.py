"""Which recurring sources are due, with retry backoff, and the reaping of runs whose worker died."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.db import get_engine
from app.models import DataSource, JobRun, RunStatus, RunTrigger
from app.models.base import utcnow
from app.services.jobs import locks
from app.services.jobs import runs as run_service
from app.services.tenancy import across_orgs, unscoped_select_across_orgs, unscoped_update_across_orgs

logger = logging.getLogger("painel.jobs")


@dataclass(frozen=True)
class Due:
    source_id: int
    org_id: int
    attempt: int


def _last_run(session: Session, source_id: int) -> JobRun | None:
    stmt = (
        unscoped_select_across_orgs(JobRun)
        .where(JobRun.data_source_id == source_id)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def due_attempt(session: Session, source: DataSource, now: datetime | None = None) -> int | None:
    """The attempt number to run now, or None when the source is not due.

    Due: never ran, or its last run started longer ago than its interval (interval_minutes, else
    CRON_DEFAULT_MINUTES). A failed run is retried sooner, with exponential backoff, up to JOB_MAX_ATTEMPTS."""
    settings = get_settings()
    now = now or utcnow()
    last = _last_run(session, source.id)
    if last is None:
        return 1
    if last.status is RunStatus.RUNNING:
        return None
    if last.status is RunStatus.FAILED and last.attempt < settings.JOB_MAX_ATTEMPTS:
        backoff = timedelta(seconds=settings.JOB_RETRY_BASE_SECONDS * 2 ** (last.attempt - 1))
        if now >= (last.finished_at or last.started_at) + backoff:
            return last.attempt + 1
    interval = timedelta(minutes=source.interval_minutes or settings.CRON_DEFAULT_MINUTES)
    return 1 if now >= last.started_at + interval else None


def due_sources(session: Session) -> list[Due]:
    """Every recurring source that is due now, across organizations (the scheduler's job)."""
    with across_orgs(session):
        sources = session.scalars(
            unscoped_select_across_orgs(DataSource).where(DataSource.is_recurring.is_(True)).order_by(DataSource.id)
        ).all()
        out = []
        for source in sources:
            attempt = due_attempt(session, source)
            if attempt is not None:
                out.append(Due(source.id, source.organization_id, attempt))
        return out


def still_due(session: Session, source: DataSource) -> bool:
    """Re-checked under the source's lock: another scheduler may have just run it."""
    return source.is_recurring and due_attempt(session, source) is not None


def reap_stale_runs(session: Session) -> int:
    """Mark failed the runs left 'running' by a process that died; returns how many."""
    cutoff = utcnow() - timedelta(seconds=get_settings().JOB_STALE_AFTER_SECONDS)
    reaped = 0
    with across_orgs(session):
        candidates = session.scalars(
            unscoped_select_across_orgs(JobRun).where(JobRun.status == RunStatus.RUNNING, JobRun.started_at < cutoff)
        ).all()
        for run in candidates:
            # On Postgres a live run holds its source's advisory lock; a free lock means its worker is gone.
            if get_engine().dialect.name == "postgresql" and not locks.lock_is_free(run.data_source_id):
                continue
            session.execute(
                unscoped_update_across_orgs(JobRun)
                # The whole key: one shard when sharded by org.
                .where(JobRun.organization_id == run.organization_id, JobRun.id == run.id)
                .where(JobRun.status == RunStatus.RUNNING)
                .values(
                    status=RunStatus.FAILED,
                    finished_at=utcnow(),
                    error=f"abandoned: the worker ({run.worker}) stopped before finishing",
                )
            )
            reaped += 1
    return reaped


def run_due(source: Due) -> int | None:
    """Run one due source as a scheduled run (None if another worker got it first)."""
    return run_service.run_source(
        source.source_id, source.org_id, RunTrigger.SCHEDULE, attempt=source.attempt, is_still_due=still_due
    )
