"""Uploads that do not hold the request: the file is spooled to disk, a `processing` batch is committed with the
request, and the load runs on a small per-process thread pool.

The load is one transaction (all or nothing, like a synchronous upload); its progress is committed apart, in short
transactions of its own (batches.record_progress), and a failure is recorded after the load rolled back
(batches.record_failure), so a failed batch leaves no facts and no rollup change behind.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import IO, Any, BinaryIO, cast

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import AppError
from app.services import audit
from app.services import datasources as datasource_service
from app.services.ingest import batches as batch_service
from app.services.ingest.pipeline import LoadOptions, load_table
from app.services.ingest.readers import ReadOptions, open_reader
from app.services.tenancy import Credential, Tenant

logger = logging.getLogger("painel.ingest")

_pool: ThreadPoolExecutor | None = None
_pool_guard = threading.Lock()


@dataclass(frozen=True)
class BackgroundLoad:
    """Everything the background load needs, none of it tied to the request."""

    tenant: Tenant
    batch_id: int
    source_id: int
    kind: str
    path: str
    options: LoadOptions
    reader_options: ReadOptions


def spool_to_disk(fileobj: IO[bytes], kind: str) -> str:
    """Copy an upload to a temporary file of our own (the request's file is closed after the response)."""
    fd, path = tempfile.mkstemp(prefix="painel-upload-", suffix=f".{kind}")
    try:
        fileobj.seek(0)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(fileobj, out, 1 << 20)
    except BaseException:
        discard(path)
        raise
    return path


def discard(path: str) -> None:
    """Remove a spooled upload (its load ran, or will never run)."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _executor() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 one pool per process, created on first use and dropped at shutdown
    with _pool_guard:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=get_settings().ASYNC_UPLOAD_WORKERS, thread_name_prefix="painel-upload"
            )
        return _pool


def submit(load: BackgroundLoad, context: contextvars.Context) -> None:
    """Start the load (called after the response, so the batch row is committed), in the request's log context."""
    _executor().submit(context.run, run_load, load)


def shutdown() -> None:
    """Wait for the running loads to finish (the app is stopping)."""
    global _pool
    with _pool_guard:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)


def _actor(session: Any, tenant: Tenant) -> None:
    if tenant.credential is Credential.API_KEY:
        audit.set_actor(session, audit.ActorType.API_KEY, api_key_id=tenant.api_key_id)
    else:
        audit.set_actor(session, audit.ActorType.USER, tenant.user_id)


def run_load(load: BackgroundLoad) -> None:
    """Load the spooled file into the accepted batch; any failure becomes the batch's error."""
    tenant = load.tenant
    progress = partial(batch_service.record_progress, tenant, load.batch_id)
    options = replace(load.options, batch_id=load.batch_id, progress=progress)
    try:
        with session_scope(tenant.org_id) as session, open(load.path, "rb") as fileobj:
            _actor(session, tenant)
            source = datasource_service.get_source(session, tenant, load.source_id, lock=True)
            reader = open_reader(load.kind, cast(BinaryIO, fileobj), load.reader_options)
            try:
                load_table(session, tenant, source, reader, options)
            finally:
                close = getattr(reader, "close", None)
                if close is not None:
                    close()
    except AppError as exc:
        batch_service.record_failure(tenant, load.batch_id, exc.detail)
    except Exception as exc:
        logger.exception("background load of batch %s failed", load.batch_id)
        batch_service.record_failure(tenant, load.batch_id, f"unexpected error: {type(exc).__name__}")
    finally:
        batch_service.forget_progress(tenant, load.batch_id)
        discard(load.path)
