"""Running a data source (manual or scheduled): one job_runs record per run, at most one run per source at a time.

On Postgres a session-level advisory lock per source, held for the whole run, makes that true across workers
and replicas; on SQLite (one process by assumption) a process-local lock does.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.db import get_engine, session_scope
from app.core.errors import AppError, Conflict, Unprocessable
from app.models import DataSource, JobRun, Role, RunStatus, RunTrigger, SourceType
from app.models.base import utcnow
from app.schemas.datasources import SqlConfig
from app.services import audit, connections
from app.services import datasources as datasource_service
from app.services import sheets as sheets_service
from app.services.ingest import batches as batch_service
from app.services.ingest.pipeline import LoadOptions, load_table
from app.services.ingest.readers.sheets_reader import SheetsReader
from app.services.ingest.readers.sql_reader import SqlReader
from app.services.tenancy import Tenant

logger = logging.getLogger("painel.runs")

LOCK_NAMESPACE = 0x5041494E  # "PAIN": keeps our advisory locks apart from anyone else's
WORKER = f"{socket.gethostname()}:{os.getpid()}"
_local_locks: dict[int, threading.Lock] = {}
_local_guard = threading.Lock()


class RunTimeout(Exception):
    pass


@contextmanager
def source_lock(source_id: int) -> Iterator[bool]:
    """Try to take the run lock of a source; yields whether it was taken (never waits)."""
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        try:
            taken = conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :id)"), {"ns": LOCK_NAMESPACE, "id": source_id}
            ).scalar()
            conn.commit()
            try:
                yield bool(taken)
            finally:
                if taken:
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": LOCK_NAMESPACE, "id": source_id})
                    conn.commit()
        finally:
            conn.close()
        return
    with _local_guard:
        lock = _local_locks.setdefault(source_id, threading.Lock())
    taken = lock.acquire(blocking=False)
    try:
        yield taken
    finally:
        if taken:
            lock.release()


def lock_is_free(source_id: int) -> bool:
    """Whether nobody holds the source's run lock right now."""
    with source_lock(source_id) as taken:
        return taken


class _Deadline:
    """Wraps a reader so a run past its deadline stops between chunks."""

    def __init__(self, reader, deadline: float) -> None:
        self._reader, self._deadline = reader, deadline
        self.header, self.header_line = reader.header, reader.header_line
        self.replayable = getattr(reader, "replayable", True)

    def info(self):
        return self._reader.info()

    def chunks(self, size: int):
        for chunk in self._reader.chunks(size):
            if time.monotonic() > self._deadline:
                raise RunTimeout()
            yield chunk


def ingest_source(
    session: Session, tenant: Tenant, source: DataSource, *, deadline: float | None = None
) -> dict[str, Any] | None:
    """Load a source by its type through the one pipeline; None for file sources (nothing to fetch)."""
    deadline = deadline or time.monotonic() + get_settings().JOB_TIMEOUT_SECONDS
    if source.type is SourceType.SQL:
        return _ingest_sql(session, tenant, source, deadline)
    if source.type is SourceType.GOOGLE_SHEETS:
        config = source.config_json
        values, first_row = sheets_service.read_range(session, tenant, config["spreadsheet_id"], config["range"])
        reader = SheetsReader(
            values, spreadsheet_id=config["spreadsheet_id"], range_name=config["range"], first_row=first_row
        )
        return load_table(
            session,
            tenant,
            source,
            _Deadline(reader, deadline),
            LoadOptions(mapping=config.get("mapping"), allow_empty=True, details={"source": "google_sheets"}),
        )
    return None


def _ingest_sql(session: Session, tenant: Tenant, source: DataSource, deadline: float) -> dict[str, Any]:
    config = source.config_json
    url = datasource_service.connection_url(source)
    checked = connections.check_url(url)  # the same rules when it runs as when it was saved
    query = datasource_service.check_sql_config(
        SqlConfig(sqlalchemy_url=url, query=config["query"], incremental_column=config.get("incremental_column"))
    )
    column = config.get("incremental_column")
    last = batch_service.last_incremental_value(session, tenant, source.id) if column else None
    remaining_ms = max(1000, int((deadline - time.monotonic()) * 1000))
    engine = connections.open_engine(checked, statement_timeout_ms=remaining_ms)
    try:
        return _load_sql(session, tenant, source, engine, query, column, last, deadline)
    except DBAPIError as exc:
        raise connections.run_failure(checked, exc, timeout_ms=remaining_ms) from None
    finally:
        engine.dispose()


def _load_sql(
    session: Session,
    tenant: Tenant,
    source: DataSource,
    engine,
    query: str,
    column: str | None,
    last: Any,
    deadline: float,
) -> dict[str, Any]:
    binds: dict[str, Any] = {}
    if column:
        # Incremental: only rows above the last loaded maximum, appended in order.
        quoted = engine.dialect.identifier_preparer.quote(column)
        query = f"SELECT * FROM ({query}) AS painel_src"
        if last is not None:
            query += f" WHERE {quoted} > :painel_last"
            binds["painel_last"] = last
        query += f" ORDER BY {quoted}"
    reader = SqlReader(engine, query, binds, track_max_of=column)
    report = load_table(
        session,
        tenant,
        source,
        _Deadline(reader, deadline),
        LoadOptions(
            mapping=source.config_json.get("mapping"),
            replace=not column,
            allow_empty=True,
            details={"source": "sql", "incremental_from": _jsonable(last)},
        ),
    )
    if column and report["batch_id"]:
        newest = reader.max_value if reader.max_value is not None else last
        batch_service.set_incremental_value(session, tenant, report["batch_id"], _jsonable(newest))
    return report


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _system_tenant(source: DataSource, user_id: int | None) -> Tenant:
    return Tenant(org_id=source.organization_id, user_id=user_id, role=Role.OWNER)


def run_source(
    source_id: int, org_id: int, trigger: RunTrigger, *, attempt: int = 1, user_id: int | None = None, is_still_due=None
) -> int | None:
    """Run one source now in its own transactions; returns the job run id, or None when another run holds it.

    `is_still_due(session, source)` is re-checked under the lock so two schedulers cannot both run a source."""
    with source_lock(source_id) as taken:
        if not taken:
            return None
        # Every session works for the source's org: row-level security shows no other org's source.
        with session_scope(org_id) as session:
            source = session.get(DataSource, source_id)
            if source is None or source.organization_id != org_id:
                return None
            if is_still_due is not None and not is_still_due(session, source):
                return None
            status = (
                RunStatus.SKIPPED
                if source.type in (SourceType.CSV_UPLOAD, SourceType.XLSX_UPLOAD)
                else RunStatus.RUNNING
            )
            run = JobRun(
                organization_id=org_id,
                data_source_id=source_id,
                trigger=trigger,
                status=status,
                attempt=attempt,
                worker=WORKER,
                error="file sources are refreshed by uploading a new file" if status is RunStatus.SKIPPED else None,
                finished_at=utcnow() if status is RunStatus.SKIPPED else None,
            )
            session.add(run)
            session.flush()
            run_id = run.id
        if status is RunStatus.SKIPPED:
            logger.info("source %s skipped: file source", source_id)
            return run_id
        outcome: dict[str, Any] = {}
        try:
            with session_scope(org_id) as session:
                source = session.get(DataSource, source_id)
                tenant = _system_tenant(source, user_id)
                actor = audit.ActorType.SCHEDULER if trigger is RunTrigger.SCHEDULE else audit.ActorType.USER
                audit.set_actor(session, actor, user_id)
                report = ingest_source(session, tenant, source)
                outcome = {
                    "status": RunStatus.SUCCESS,
                    "rows_loaded": report["rows_loaded"],
                    "batch_id": report["batch_id"],
                }
        except RunTimeout:
            outcome = {
                "status": RunStatus.FAILED,
                "error": f"timed out after {get_settings().JOB_TIMEOUT_SECONDS} s (JOB_TIMEOUT_SECONDS)",
            }
        except AppError as exc:
            outcome = {"status": RunStatus.FAILED, "error": exc.detail}
        except Exception as exc:  # a failing source must never stop the others
            logger.exception("source %s failed", source_id)
            outcome = {"status": RunStatus.FAILED, "error": f"unexpected error: {type(exc).__name__}"}
        with session_scope(org_id) as session:
            run = session.get(JobRun, run_id)
            run.status, run.finished_at = outcome["status"], utcnow()
            run.rows_loaded, run.batch_id = outcome.get("rows_loaded"), outcome.get("batch_id")
            run.error = outcome.get("error")
        return run_id


def run_now(session: Session, tenant: Tenant, source_id: int) -> JobRun:
    """A manual run (POST /datasources/{id}/run) in its own transactions; 409 when it is running already."""
    source = datasource_service.get_source(session, tenant, source_id)
    run_id = run_source(source.id, tenant.org_id, RunTrigger.MANUAL, user_id=tenant.user_id)
    if run_id is None:
        raise Conflict(f"Data source {source_id} is running already", code="already_running")
    with session_scope(tenant.org_id) as own:
        return own.get(JobRun, run_id)


def ingest_sheet(
    session: Session,
    tenant: Tenant,
    spreadsheet_id: str,
    range_name: str,
    *,
    data_source_id: int | None = None,
    name: str | None = None,
    mapping: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST /ingest/sheets: read a range into a google_sheets source (created when none is given)."""
    config = {"spreadsheet_id": spreadsheet_id, "range": range_name, "mapping": mapping}
    if data_source_id is not None:
        source = datasource_service.get_source(session, tenant, data_source_id, lock=True)
        if source.type is not SourceType.GOOGLE_SHEETS:
            raise Unprocessable(
                f"Data source {source.id} is a '{source.type.value}' source, not google_sheets",
                code="wrong_source_type",
            )
        source.config_json = {**source.config_json, **{k: v for k, v in config.items() if v is not None}}
    else:
        source_name = (name or f"Sheets {spreadsheet_id} {range_name}")[:200]
        source = datasource_service.get_or_create_by_name(session, tenant, SourceType.GOOGLE_SHEETS, source_name)
        source.config_json = config
    session.flush()
    return ingest_source(session, tenant, source)
