"""At most one run per data source at a time: on Postgres a session-level advisory lock per source, held for the
whole run, across workers and replicas; on SQLite (one process by assumption) a process-local lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from app.core.db import get_engine

LOCK_NAMESPACE = 0x5041494E  # "PAIN": keeps our advisory locks apart from anyone else's
_local_locks: dict[int, threading.Lock] = {}
_local_guard = threading.Lock()


@contextmanager
def source_lock(source_id: int) -> Iterator[bool]:
    """Try to take the run lock of a source; yields whether it was taken (never waits). On Postgres the lock is
    session-level on a connection of its own, held across the run's several transactions."""
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
