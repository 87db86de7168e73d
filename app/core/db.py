"""Engine, sessions, and the one owner of the request transaction."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

import anyio
from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from app.core import metrics
from app.core.config import get_settings

# Session.info keys: what every transaction of the session re-applies on Postgres (the source of truth).
ORG_INFO_KEY = "org_id"  # -> app.current_org: the org whose rows row-level security lets through
USER_INFO_KEY = "user_id"  # -> app.current_user: lets a user read their own memberships in other orgs
ALL_ORGS_INFO_KEY = "all_orgs"  # -> app.all_orgs: the scheduler's named exception (tenancy.across_orgs only)
_SETTINGS = {ORG_INFO_KEY: "app.current_org", USER_INFO_KEY: "app.current_user", ALL_ORGS_INFO_KEY: "app.all_orgs"}

# The role sessions run as on Postgres: it owns no table, so row-level security always applies to it.
APP_ROLE = "painel_app"
_app_role_by_url: dict[Any, bool] = {}  # per database: shared by the request and the read-only pools

# The category key: case- and accent-insensitive matching of categories, stored in the rollups. On Postgres it is the
# SQL function painel_category_key (migration 0010, the same table); SQLite gets this Python twin on every connection.
CATEGORY_KEY_FUNCTION = "painel_category_key"
_KEY_FROM = "ÁÀÂÃÄÅáàâãäåÉÈÊËéèêëÍÌÎÏíìîïÓÒÔÕÖóòôõöÚÙÛÜúùûüÇçÑñÝýÿABCDEFGHIJKLMNOPQRSTUVWXYZ"
_KEY_TO = "aaaaaaaaaaaaeeeeeeeeiiiiiiiioooooooooouuuuuuuuccnnyyyabcdefghijklmnopqrstuvwxyz"
_KEY_TABLE = str.maketrans(_KEY_FROM, _KEY_TO)
_KEY_SPACES = re.compile(r"[ \t\r\n]+")


def category_key(value: str | None) -> str | None:
    """'  Eletrônicos ' -> 'eletronicos': accents and case folded, runs of whitespace made one space, trimmed."""
    if value is None:
        return None
    return _KEY_SPACES.sub(" ", value.translate(_KEY_TABLE)).strip(" ")


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
            dbapi_conn.create_function(CATEGORY_KEY_FUNCTION, 1, category_key, deterministic=True)

        return engine
    # No pool_pre_ping (a round trip on every checkout): connections idle for long are pinged, old ones recycled.
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=POOL_RECYCLE_SECONDS)
    _watch_idle_connections(engine)
    _piggyback_tenant_settings(engine)
    return engine


# A pooled connection unused for longer than this is pinged at checkout (a busy pool never pays the round trip);
# a dead one is replaced there (DisconnectionError makes the pool retry with a fresh connection).
IDLE_PING_SECONDS = 10.0
POOL_RECYCLE_SECONDS = 1800
_IDLE_SINCE = "painel_idle_since"


def _watch_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "reset")
    def _reset(dbapi_conn, _record, _state) -> None:
        if not dbapi_conn.closed and dbapi_conn.autocommit:  # a read-only session's: back to transactions (no I/O)
            dbapi_conn.autocommit = False

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection idle since {idle_since:.0f} is gone") from error


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for DATABASE_URL (its pool is watched by the metrics)."""
    engine = _make_engine(get_settings().DATABASE_URL)
    metrics.watch_pool(engine)
    return engine


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False, autoflush=False)


# Routes marked read-only (app.routers.deps.read_only) get, on Postgres, a session whose connection is switched to
# autocommit at its transaction's start (psycopg2's flag: no round trip) and back when it returns to the pool: no
# BEGIN and no COMMIT round trips, each statement its own transaction carrying the tenant settings (one round trip
# for a cached indicator answer instead of three). Statements already saw separate snapshots (READ COMMITTED).
READ_ONLY_ATTR = "painel_read_only"
_READ_ONLY_INFO_KEY = "painel.read_only"


@lru_cache
def get_read_sessionmaker() -> sessionmaker[Session]:
    """Sessions for read-only routes (autocommit on Postgres; ordinary sessions elsewhere)."""
    info = {_READ_ONLY_INFO_KEY: True}
    return sessionmaker(bind=get_engine(), expire_on_commit=False, autoflush=False, info=info)


def is_autocommit_session(session: Session) -> bool:
    """A read-only session on Postgres: its DB-API commit and rollback send nothing."""
    return bool(session.info.get(_READ_ONLY_INFO_KEY)) and session.get_bind().dialect.name == "postgresql"


def _app_role_available(connection: Connection) -> bool:
    """Whether sessions can run as painel_app here (checked once per database URL): the role exists, the connecting user
    may switch to it, and it was granted this database's tables (roles are cluster-wide; the grants are not)."""
    url = connection.engine.url
    available = _app_role_by_url.get(url)
    if available is None:
        available = bool(
            connection.execute(
                text(
                    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role) "
                    "THEN pg_has_role(session_user, :role, 'MEMBER') AND EXISTS (SELECT 1 FROM pg_class "
                    "WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') "
                    "AND has_table_privilege(:role, oid, 'SELECT')) ELSE false END"
                ),
                {"role": APP_ROLE},
            ).scalar()
        )
        _app_role_by_url[url] = available
    return available


def known_app_role(url: Any) -> bool | None:
    """Whether sessions on this database run as painel_app, once a session has found out (None before)."""
    return _app_role_by_url.get(url)


def tenant_settings(org_id: int, user_id: int, *, switch_role: bool) -> list[str]:
    """The set_config calls a session bound to the org and user sends first: for a statement sent outside
    SQLAlchemy (app.core.async_db), so that row-level security sees it as any session's."""
    return _calls({_SETTINGS[ORG_INFO_KEY]: org_id, _SETTINGS[USER_INFO_KEY]: user_id}, switch_role=switch_role)


def _setting_value(value: Any) -> str:
    return "" if value is None else "on" if value is True else str(value)


# Setting values are ids, "on" or a role name: sent as literals, they must stay this plain.
_PLAIN_SETTING = re.compile(r"^[A-Za-z0-9_]*$")

# Per connection: the set_config calls of the open transaction not yet sent. They travel in front of the
# transaction's first statement ("SELECT set_config(...); <statement>": one round trip, the settings run first).
_pending_settings: WeakKeyDictionary[Connection, list[str]] = WeakKeyDictionary()
_piggybacking_dialects: WeakSet[Any] = WeakSet()  # dialects (shared by an engine and its option engines)


def _calls(values: dict[str, Any], *, switch_role: bool) -> list[str]:
    """set_config calls for the role switch and the tenant settings (GUC name -> value), local to the transaction."""
    items = [("role", APP_ROLE)] if switch_role else []
    items += [(name, _setting_value(value)) for name, value in values.items()]
    for name, value in items:
        if not _PLAIN_SETTING.match(value):
            raise ValueError(f"refusing a setting value that is not a plain word: {name}={value!r}")
    return [f"set_config('{name}', '{value}', true)" for name, value in items]


def _defer(connection: Connection, calls: list[str]) -> None:
    """Queue settings for the transaction's next statement (after any already queued: the later value wins); sent
    at once on an engine made elsewhere (a script's, a test's), which has no listener to carry them."""
    if not calls:
        return
    if connection.dialect in _piggybacking_dialects:
        _pending_settings.setdefault(connection, []).extend(calls)
    else:
        connection.exec_driver_sql(f"SELECT {', '.join(calls)}")


def _take_prefix(cursor: Any, context: Any) -> str | None:
    """The queued settings of the statement's connection, as a statement to send first. Forgotten once sent in a
    transaction; kept on an autocommit connection (read-only requests), where every statement is a transaction of
    its own and carries them."""
    connection = getattr(context, "root_connection", None)
    if connection is None or connection not in _pending_settings:
        return None
    calls = _pending_settings[connection] if cursor.connection.autocommit else _pending_settings.pop(connection)
    return f"SELECT {', '.join(calls)}" if calls else None


def _piggyback_tenant_settings(engine: Engine) -> None:
    """Send a transaction's queued tenant settings in the same round trip as its first statement. psycopg2 sends
    "a; b" as one simple query: both run, in order, in the transaction, and the cursor holds b's result."""
    _piggybacking_dialects.add(engine.dialect)

    @event.listens_for(engine, "do_execute")
    def _execute(cursor, statement, parameters, context) -> bool:
        prefix = _take_prefix(cursor, context)
        if prefix is None:
            return False
        if getattr(cursor, "name", None):  # a server-side cursor DECLAREs one query: the settings go first, alone
            _send_alone(cursor.connection, prefix)
            return False
        cursor.execute(f"{prefix}; {statement}", parameters)
        return True

    @event.listens_for(engine, "do_execute_no_params")
    def _execute_no_params(cursor, statement, context) -> bool:
        prefix = _take_prefix(cursor, context)
        if prefix is None:
            return False
        if getattr(cursor, "name", None):
            _send_alone(cursor.connection, prefix)
            return False
        cursor.execute(f"{prefix}; {statement}")
        return True

    @event.listens_for(engine, "do_executemany")
    def _execute_many(cursor, statement, parameters, context) -> bool:
        prefix = _take_prefix(cursor, context)
        if prefix is None:
            return False
        if cursor.connection.autocommit:  # each execution is a transaction: each carries the settings
            for one in parameters:
                cursor.execute(f"{prefix}; {statement}", one)
            return True
        _send_alone(cursor.connection, prefix)
        return False

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _transaction_ended(connection: Connection) -> None:
        _pending_settings.pop(connection, None)  # never carried into another transaction


def _send_alone(dbapi_connection: Any, statement: str) -> None:
    with dbapi_connection.cursor() as plain:
        plain.execute(statement)


def flush_tenant_settings(connection: Connection) -> None:
    """Send the queued settings now: before work that bypasses SQLAlchemy's execution (COPY on the DB-API cursor)."""
    calls = _pending_settings.pop(connection, None)
    if not calls:
        return
    raw = driver_connection(connection)
    if raw.autocommit:
        raise RuntimeError("DB-API work under row-level security needs a transaction (not a read-only session)")
    _send_alone(raw, f"SELECT {', '.join(calls)}")


@event.listens_for(Session, "after_begin")
def _begin_tenant_transaction(session: Session, _transaction, connection: Connection) -> None:
    """On Postgres every transaction switches to painel_app and re-applies what session.info binds (org, user, the
    all-orgs exception), so row-level security sees them; a commit mid-request or mid-job keeps them. They are
    queued, not sent: they go with the transaction's first statement."""
    if connection.dialect.name == "postgresql":
        if session.info.get(_READ_ONLY_INFO_KEY):
            driver_connection(connection).autocommit = True  # no statement sent yet: psycopg2 is not in a transaction
        bound = {name: session.info[key] for key, name in _SETTINGS.items() if key in session.info}
        _pending_settings.pop(connection, None)
        _defer(connection, _calls(bound, switch_role=_app_role_available(connection)))


def _bind(session: Session, key: str, value: Any) -> None:
    """Record a tenant setting in session.info (None removes it) and apply it to the open transaction, if any."""
    if value is None:
        session.info.pop(key, None)
    else:
        session.info[key] = value
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        _defer(session.connection(), _calls({_SETTINGS[key]: value}, switch_role=False))


def insert_or_ignore(session: Session, model: type, values: dict[str, Any], conflict_columns: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING (Postgres and SQLite): a get-or-create that cannot race. True when this
    call inserted the row; False when it existed (on Postgres, after waiting for a concurrent insert to commit)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    else:  # pragma: no cover - the app database is Postgres or SQLite
        raise NotImplementedError(dialect)
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]  # DML gives a cursor result
    return result.rowcount == 1


def driver_connection(connection: Connection) -> Any:
    """The DB-API connection under a SQLAlchemy connection (for COPY, SQLite progress handlers and limits), with
    the transaction's tenant settings sent first (work on it bypasses the statement that would carry them)."""
    if connection in _pending_settings:
        flush_tenant_settings(connection)
    raw = connection.connection.driver_connection
    if raw is None:  # pragma: no cover - an open connection always has one
        raise RuntimeError("the connection has no DB-API connection")
    return raw


def bind_org(session: Session, org_id: int) -> None:
    """Mark the session as working for one organization, including the open transaction."""
    _bind(session, ORG_INFO_KEY, org_id)


def bind_user(session: Session, user_id: int) -> None:
    """Mark the session as acting for one user (who may read their own memberships in every org)."""
    _bind(session, USER_INFO_KEY, user_id)


def set_all_orgs(session: Session, enabled: bool) -> None:
    """Turn the all-orgs exception of row-level security on or off for the session. Only the named helper
    app.services.tenancy.across_orgs() calls this."""
    _bind(session, ALL_ORGS_INFO_KEY, True if enabled else None)


@contextmanager
def session_scope(org_id: int | None = None) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error (jobs, seeding, scripts, requests).
    org_id binds the session to that organization from its first transaction."""
    session = get_sessionmaker()()
    if org_id is not None:
        bind_org(session, org_id)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_session() -> Iterator[Session]:
    """The request's unit of work as a plain generator (scripts and tests); requests use request_session, its async
    twin with the same commit and rollback."""
    with session_scope() as session:
        yield session


async def request_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work. Used with Depends(scope="function"), so the commit happens when the route
    returns and before the response is sent: a 2xx always means "stored", and a failed commit is an error.
    Async on purpose: making a session does no I/O, and only the commit or rollback (when a transaction is open)
    goes to a worker thread; a sync generator dependency costs two threadpool hops on every request.
    A read-only route's session (autocommit on Postgres) has nothing left to commit: no hop at all, unless the
    ORM holds changes (a read-only route never should; they are still committed, in a worker thread)."""
    endpoint = request.scope.get("endpoint")
    read_only = bool(getattr(endpoint, READ_ONLY_ATTR, False))
    session = (get_read_sessionmaker() if read_only else get_sessionmaker())()
    inline = read_only and is_autocommit_session(session)
    try:
        yield session
        # An autocommit session with no ORM change has nothing left to commit (each statement committed on its
        # own): close() below ends its transaction, the DB-API rollback sending nothing, without the commit's
        # bookkeeping (~0.05 ms).
        nothing_to_commit = inline and not (session.new or session.dirty or session.deleted)
        if session.in_transaction() and not nothing_to_commit:
            await run_in_threadpool(session.commit)
    except BaseException:
        if session.in_transaction():
            if inline:
                session.rollback()  # nothing to send either
            else:
                with anyio.CancelScope(shield=True):  # a disconnected client must not leave the transaction open
                    await run_in_threadpool(session.rollback)
        raise
    finally:
        session.close()  # no I/O: the transaction, if any, has ended above
