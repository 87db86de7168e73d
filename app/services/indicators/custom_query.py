"""Run a custom indicator's checked SQL within a time limit, a row cap and a byte cap, streaming the result.

Postgres: the query runs on a connection of its own, in a READ ONLY transaction, with search_path set to a schema
whose only relation is the caller's `facts` view, under a role that can read nothing else. Rows come through a
server-side cursor in growing batches, never as a whole result. The query is wrapped so that the server keeps a
running total of its rows' sizes (pg_column_size) and sends NULLs instead of the values once that total passes the
byte cap: a huge value may be built by the database (bounded by the statement timeout and its 1 GB value limit) but
never reaches the API process. statement_timeout is set again before every FETCH to the time left, so the whole
read, not each statement, is bounded.

SQLite (the embedded default) has no roles or session settings: there `facts` is a CTE over the org's rows, the
connection is put in query_only mode, a progress handler cancels the query at its deadline, and SQLITE_LIMIT_LENGTH
caps every string or blob the query builds at the byte cap. Rows are read one at a time.

Both: the API measures every row it keeps (an estimate of its JSON size: string lengths plus a constant per value)
and stops at the row cap or as soon as the byte cap would be passed; the result is then flagged truncated with the
reason. When not even the first row fits, the answer is 422 result_too_large.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlglot import exp

from app.core.db import driver_connection, get_engine
from app.core.errors import Unprocessable
from app.models.base import ExactDecimal
from app.services.sql_guard import parse_sql, render_sql
from app.services.tenancy import Tenant

TENANT_SCHEMA = "painel_tenant"
READER_ROLE = "painel_tenant_reader"
ORG_BIND = "painel_org_id_"
PG_MAX_BATCH_ROWS = 1_000  # batches grow 1, 1, 2, 4, ... up to this many rows per FETCH
VALUE_OVERHEAD = 6  # quotes, colon and comma around each value in the JSON row object
SCALAR_SIZE = 24  # numbers, dates, booleans, null: at most this many characters in JSON

TruncatedReason = Literal["rows", "bytes"]


class QueryTimeout(Exception):
    """The query's time ran out between two fetches (the database cancels it while it runs)."""


@dataclass(frozen=True)
class Limits:
    """How much one run may take: rows, bytes of result, and time (a monotonic deadline)."""

    max_rows: int
    max_bytes: int
    ends_at: float
    by_deadline: bool  # True when a caller's deadline, not the query's own timeout, set ends_at

    @classmethod
    def starting_now(cls, max_rows: int, max_bytes: int, timeout_ms: int, deadline: float | None) -> Limits:
        """Limits for a run starting now: its own timeout, shortened to the caller's deadline if that comes first."""
        own_end = time.monotonic() + timeout_ms / 1000
        if deadline is not None and deadline < own_end:
            return cls(max_rows, max_bytes, deadline, by_deadline=True)
        return cls(max_rows, max_bytes, own_end, by_deadline=False)

    def ms_left(self) -> int:
        """Milliseconds left; QueryTimeout when none are."""
        left = int((self.ends_at - time.monotonic()) * 1000)
        if left <= 0:
            raise QueryTimeout
        return left


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: TruncatedReason | None = None


class _Collector:
    """Keeps rows while they fit under the row and byte caps; remembers which cap stopped it."""

    def __init__(self, columns: list[str], limits: Limits) -> None:
        self.result = QueryResult(columns)
        self.limits = limits
        self.size = 2  # the list's brackets
        self.row_overhead = 2 + sum(len(name) + VALUE_OVERHEAD for name in columns)

    def add(self, row: tuple[Any, ...]) -> bool:
        """Keep the row, or record why not and answer False (the caller stops reading)."""
        if len(self.result.rows) >= self.limits.max_rows:
            return self.stop("rows")
        size = self.row_overhead + sum(_value_size(value) for value in row)
        if self.size + size > self.limits.max_bytes:
            return self.stop("bytes")
        self.result.rows.append(tuple(row))
        self.size += size
        return True

    def stop(self, reason: TruncatedReason) -> bool:
        self.result.truncated = reason
        return False

    def finish(self) -> QueryResult:
        if self.result.truncated == "bytes" and not self.result.rows:
            raise Unprocessable(
                f"The first row of the result is larger than the {self.limits.max_bytes}-byte limit "
                "(CUSTOM_RESULT_MAX_BYTES); select fewer or shorter columns",
                code="result_too_large",
            )
        return self.result


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return (len(value) if value.isascii() else len(value.encode())) + VALUE_OVERHEAD
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value) + VALUE_OVERHEAD
    if isinstance(value, dict | list):  # JSON attributes
        return len(str(value)) + VALUE_OVERHEAD
    return SCALAR_SIZE + VALUE_OVERHEAD


# --- Postgres ---------------------------------------------------------------------------------------------------


def _reader_role_available(conn: Connection) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :r) AND pg_has_role(current_user, :r, 'MEMBER')"
            ),
            {"r": READER_ROLE},
        ).scalar()
    )


def _set_timeout(conn: Connection, limits: Limits) -> None:
    conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(limits.ms_left())})


def _measured_sql(sql: str, n_columns: int, limits: Limits) -> str:
    """The query with a running total of its rows' sizes; rows past the byte cap arrive as NULLs."""
    names = [f"painel_c{i}_" for i in range(n_columns)]
    aliases = f"({', '.join(names)})" if names else ""
    kept = "".join(f"CASE WHEN s.painel_bytes_ <= {int(limits.max_bytes)} THEN s.{name} END, " for name in names)
    return (
        f"SELECT {kept}s.painel_bytes_ FROM ("
        "SELECT q.*, sum(pg_column_size(q.*)) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
        f"AS painel_bytes_ FROM ({sql}) AS q{aliases}) AS s LIMIT {int(limits.max_rows) + 1}"
    )


def run_postgres(tenant: Tenant, sql: str, binds: dict[str, Any], limits: Limits) -> QueryResult:
    """Stream the query through a server-side cursor in a fresh READ ONLY transaction, always rolled back.

    A connection of its own, not the request's session: the transaction must be read-only from its first statement,
    run under the reader role with its own timeout, and never commit (the request's session may hold writes)."""
    with get_engine().connect() as conn:
        trans = conn.begin()
        try:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.execute(
                text("SELECT set_config('app.current_org', :org, true), set_config('search_path', :path, true)"),
                {"org": str(tenant.org_id), "path": TENANT_SCHEMA},
            )
            if _reader_role_available(conn):
                conn.exec_driver_sql(f"SET LOCAL ROLE {READER_ROLE}")
            _set_timeout(conn, limits)
            # LIMIT 0 plans the query without running it: its columns, to wrap it with the size measure.
            columns = list(conn.execute(text(f"SELECT * FROM ({sql}) AS q LIMIT 0"), binds).keys())
            _set_timeout(conn, limits)
            measured = text(_measured_sql(sql, len(columns), limits))
            result = conn.execute(
                measured.execution_options(stream_results=True, max_row_buffer=PG_MAX_BATCH_ROWS), binds
            )
            collector = _Collector(columns, limits)
            batch = 1
            while True:
                _set_timeout(conn, limits)
                rows = result.fetchmany(batch)
                if not rows:
                    break
                if not all(_keep_pg_row(collector, row, limits) for row in rows):
                    break
                batch = min(PG_MAX_BATCH_ROWS, batch * 2)
            result.close()
            return collector.finish()
        finally:
            trans.rollback()


def _keep_pg_row(collector: _Collector, row: Any, limits: Limits) -> bool:
    *values, server_bytes = row
    if server_bytes > limits.max_bytes and len(collector.result.rows) < limits.max_rows:
        return collector.stop("bytes")  # the server sent NULLs in place of this row's values
    return collector.add(tuple(values))


# --- SQLite -----------------------------------------------------------------------------------------------------


def _sqlite_scoped_sql(sql: str) -> str:
    """Put a `facts` CTE holding only the caller's rows in front of the user's query (SQLite only)."""
    scale = 10**ExactDecimal.SCALE
    cte_sql = (
        f"SELECT date, value / {scale}.0 AS value, uf, category, attributes, data_source_id, batch_id "
        f"FROM main.facts WHERE organization_id = :{ORG_BIND}"
    )
    tree = parse_sql(sql, "sqlite")
    existing = tree.args.get("with_") or tree.args.get("with")
    ours = exp.CTE(this=parse_sql(cte_sql, "sqlite"), alias=exp.TableAlias(this=exp.to_identifier("facts")))
    ctes = [ours] + (list(existing.expressions) if existing else [])
    key = "with_" if "with_" in tree.arg_types else "with"
    tree.set(key, exp.With(expressions=ctes, recursive=bool(existing and existing.args.get("recursive"))))
    return render_sql(tree, "sqlite")


def _is_too_big(exc: DBAPIError) -> bool:
    return "too big" in str(getattr(exc, "orig", exc))


def run_sqlite(tenant: Tenant, sql: str, binds: dict[str, Any], limits: Limits) -> QueryResult:
    """Read the query one row at a time on a query_only connection, cancelled at the deadline (a connection of its
    own: query_only, the progress handler and the length limit must not touch the request's session)."""
    limits.ms_left()
    with get_engine().connect() as conn:
        raw = driver_connection(conn)
        ends_at = limits.ends_at
        raw.set_progress_handler(lambda: 1 if time.monotonic() > ends_at else 0, 10_000)
        old_length = raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(limits.max_bytes, 1))
        conn.exec_driver_sql("PRAGMA query_only = ON")
        try:
            result = conn.execute(text(_sqlite_scoped_sql(sql)), {**binds, ORG_BIND: tenant.org_id})
            collector = _Collector(list(result.keys()), limits)
            while True:
                try:
                    rows = result.fetchmany(1)
                except DBAPIError as exc:
                    if not _is_too_big(exc):
                        raise
                    collector.stop("bytes")  # a value longer than the byte cap
                    break
                if not rows or not collector.add(rows[0]):
                    break
            result.close()
            return collector.finish()
        except DBAPIError as exc:
            if _is_too_big(exc):  # raised by the first step, before any row
                raise Unprocessable(
                    f"A value of the result is larger than the {limits.max_bytes}-byte limit (CUSTOM_RESULT_MAX_BYTES)",
                    code="result_too_large",
                ) from None
            raise
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA query_only = OFF")
            raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, old_length)
            raw.set_progress_handler(None, 0)
