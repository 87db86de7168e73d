"""APScheduler setup: one periodic tick that runs every due source, each in its own thread."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from app.core import metrics
from app.core.config import get_settings
from app.core.db import session_scope
from app.services.jobs import due as due_service
from app.services.jobs import retention as retention_service

logger = logging.getLogger("painel.scheduler")

TICK_JOB_ID = "painel-tick"
RETENTION_JOB_ID = "painel-retention"
RETENTION_AT = {"hour": 3, "minute": 30}  # daily, UTC: a quiet hour for Brazilian orgs


def tick() -> dict[str, int]:
    """Reap abandoned runs, then run every due source in parallel; a failing or slow source never blocks the
    others beyond JOB_TIMEOUT_SECONDS. Safe to call from several processes at once (per-source locks)."""
    metrics.count_tick()
    with session_scope() as session:
        reaped = due_service.reap_stale_runs(session)
    with session_scope() as session:
        due = due_service.due_sources(session)
    ran = 0
    if due:
        with ThreadPoolExecutor(
            max_workers=get_settings().SCHEDULER_MAX_PARALLEL, thread_name_prefix="painel-run"
        ) as pool:
            for result in pool.map(_run_safely, due):
                ran += result is not None
    if due or reaped:
        logger.info("tick: %d due, %d ran here, %d abandoned runs reaped", len(due), ran, reaped)
    return {"due": len(due), "ran": ran, "reaped": reaped}


def _run_safely(item: due_service.Due) -> int | None:
    try:
        return due_service.run_due(item)
    except Exception:  # a broken source must not take the tick down
        logger.exception("run of source %s failed to start", item.source_id)
        return None


def retention() -> retention_service.RetentionResult:
    """Remove the staged rows of batches past RETENTION_DAYS in every org (the daily job; see jobs.retention)."""
    return retention_service.purge_expired()


def _retention_safely() -> None:
    try:
        retention()
    except Exception:  # a failed purge is retried the next day; it must not stop the scheduler
        logger.exception("retention failed")


def configure(scheduler: BaseScheduler) -> BaseScheduler:
    """Add the tick job with deliberate misfire behaviour, and the daily retention job."""
    seconds = get_settings().SCHEDULER_TICK_SECONDS
    scheduler.add_job(
        tick,
        "interval",
        seconds=seconds,
        id=TICK_JOB_ID,
        replace_existing=True,
        # coalesce: ticks missed while the process was busy or asleep collapse into one (each tick runs
        # everything due anyway); max_instances=1: a long tick is never overlapped by the next one in this
        # process (other processes are kept apart by the per-source locks); misfire_grace_time: a tick up to
        # one interval late still runs rather than being dropped.
        coalesce=True,
        max_instances=1,
        misfire_grace_time=seconds,
    )
    # Daily; a run missed while the process was down runs when it is back (within 12 h), once. Several scheduler
    # processes may run it at once: each org's batches are locked with SKIP LOCKED and the purge is idempotent.
    scheduler.add_job(
        _retention_safely,
        "cron",
        **RETENTION_AT,
        id=RETENTION_JOB_ID,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=12 * 3600,
    )
    return scheduler


def create_background_scheduler() -> BackgroundScheduler:
    """The in-process scheduler the API starts in its lifespan."""
    return configure(BackgroundScheduler(timezone="UTC"))
