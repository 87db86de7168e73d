"""Engine, sessions, and the one owner of the request transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import get_settings

# Session.info key holding the organization the session works for.
ORG_INFO_KEY = "org_id"


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for DATABASE_URL."""
    return _make_engine(get_settings().DATABASE_URL)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False, autoflush=False)


@event.listens_for(Session, "after_begin")
def _set_current_org(session: Session, _transaction, connection) -> None:
    """On Postgres, every transaction of a tenant session carries app.current_org (for RLS)."""
    org_id = session.info.get(ORG_INFO_KEY)
    if org_id is not None and connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config('app.current_org', :org, true)"), {"org": str(org_id)})


def insert_or_ignore(session: Session, model: type, values: dict[str, Any], conflict_columns: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING (Postgres and SQLite): a get-or-create that cannot race. True when this
    call inserted the row; False when it existed (on Postgres, after waiting for a concurrent insert to commit)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the app database is Postgres or SQLite
        raise NotImplementedError(dialect)
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    return session.execute(stmt).rowcount == 1


def bind_org(session: Session, org_id: int) -> None:
    """Mark the session as working for one organization, including the open transaction."""
    session.info[ORG_INFO_KEY] = org_id
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('app.current_org', :org, true)"), {"org": str(org_id)})


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error (jobs, seeding, scripts, requests)."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_session() -> Iterator[Session]:
    """The request's unit of work. Used with Depends(scope="function"), so the commit happens when the route
    returns and before the response is sent: a 2xx always means "stored", and a failed commit is an error."""
    with session_scope() as session:
        yield session
