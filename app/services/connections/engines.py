"""open_engine and test_connection: connecting to a checked URL with short timeouts and a read-only session."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event, literal_column, select
from sqlalchemy.pool import NullPool

from app.core.errors import Unprocessable
from app.schemas.datasources import ConnectionTestRead
from app.services.connections import addresses
from app.services.connections.checks import CheckedUrl, check_url
from app.services.connections.urls import mask_url

logger = logging.getLogger("painel.connections")

OnConnect = Callable[[Any, Any], None]

# A pgpass path that can never exist (/dev/null is no directory): libpq silently finds no saved password.
_NO_PASSFILE = "/dev/null/painel-no-pgpass"


def _libpq_version(driver: str) -> int:
    try:
        if driver == "psycopg2":
            import psycopg2

            return int(psycopg2.__libpq_version__)
        import psycopg

        return int(psycopg.pq.version())
    except Exception:
        return 0


def _postgres(checked: CheckedUrl, timeout: int, statement_ms: int) -> tuple[dict[str, Any], OnConnect]:
    # libpq connects to hostaddr and keeps host for TLS name checks: no DNS lookup at connect time.
    literal = addresses.parse_ip_literal(checked.original_host) is not None
    args: dict[str, Any] = {
        "host": checked.address if literal else checked.original_host,
        "hostaddr": checked.address,
        "connect_timeout": timeout,
        "gssencmode": "disable",
    }
    if _libpq_version(checked.driver) >= 160000:
        args["require_auth"] = "!gss,!sspi"  # never the server's Kerberos identity
    if not checked.url.password:
        # An explicit empty password stops libpq from using PGPASSWORD or ~/.pgpass of the server account.
        args.update(password="", passfile=_NO_PASSFILE)

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"SET statement_timeout = {int(statement_ms)}")
            cursor.execute("SET default_transaction_read_only = on")
        finally:
            cursor.close()
        dbapi_conn.commit()  # SET is transactional in Postgres: a later rollback would undo it

    return args, on_connect


def _mysql(checked: CheckedUrl, timeout: int, statement_ms: int) -> tuple[dict[str, Any], OnConnect]:
    # read_timeout also bounds the handshake of a silent server.
    read = math.ceil(statement_ms / 1000) + timeout
    args = {"connect_timeout": timeout, "read_timeout": read, "write_timeout": read, "local_infile": False}

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        mariadb = "mariadb" in str(dbapi_conn.get_server_info()).lower()
        cursor = dbapi_conn.cursor()
        try:
            if mariadb:  # MariaDB has no max_execution_time; max_statement_time is in seconds
                cursor.execute(f"SET SESSION max_statement_time = {statement_ms / 1000:.3f}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {int(statement_ms)}")
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
        finally:
            cursor.close()

    return args, on_connect


def _mssql(checked: CheckedUrl, timeout: int, statement_ms: int) -> tuple[dict[str, Any], OnConnect]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.timeout = max(1, math.ceil(statement_ms / 1000))  # pyodbc query timeout, seconds

    return {"timeout": timeout}, on_connect


def _oracle(checked: CheckedUrl, timeout: int, statement_ms: int) -> tuple[dict[str, Any], OnConnect]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.call_timeout = int(statement_ms)  # milliseconds per round trip

    return {"tcp_connect_timeout": float(timeout)}, on_connect


def _snowflake(checked: CheckedUrl, timeout: int, statement_ms: int) -> tuple[dict[str, Any], OnConnect | None]:
    seconds = max(1, math.ceil(statement_ms / 1000))
    return {
        "login_timeout": timeout,
        "network_timeout": seconds + timeout,
        "session_parameters": {"STATEMENT_TIMEOUT_IN_SECONDS": seconds},
    }, None


def _bigquery(checked: CheckedUrl, timeout: int, statement_ms: int) -> tuple[dict[str, Any], OnConnect | None]:
    return {}, None


_SETUP = {
    "psycopg2": _postgres,
    "psycopg": _postgres,
    "pymysql": _mysql,
    "mysqldb": _mysql,
    "pyodbc": _mssql,
    "oracledb": _oracle,
    "snowflake": _snowflake,
    "bigquery": _bigquery,
}


def open_engine(checked: CheckedUrl, *, connect_timeout: int = 5, statement_timeout_ms: int = 15_000) -> Engine:
    """An engine on the checked address: no pool, short timeouts, statement timeout and read-only sessions."""
    query = dict(checked.url.query)
    requested = query.pop("connect_timeout", None)  # one value: check_url refuses repeated parameters
    timeout = max(1, min(connect_timeout, int(str(requested)))) if requested else max(1, connect_timeout)
    url = checked.url.set(query=query)
    if checked.dialect == "mssql" and addresses.parse_ip_literal(checked.original_host) is None:
        url = url.update_query_dict({"HostNameInCertificate": checked.original_host})  # TLS checks the name
    connect_args, on_connect = _SETUP[checked.driver](checked, timeout, statement_timeout_ms)
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args, hide_parameters=True)
    if on_connect is not None:
        event.listen(engine, "connect", on_connect)
    return engine


_AUTH_MARKERS = (
    "authentication failed",
    "no password supplied",
    "pg_hba.conf",
    "password is required",
    "requested authentication method",
    "server requested",
    "ora-01017",
    "ora-28000",
    "login failed",
)
_MYSQL_AUTH_CODES = {1044, 1045, 1251, 1698, 1862, 2059, 2061}


def _classify_connect_error(exc: BaseException) -> str:
    """auth_failed, database_not_found, or connection_failed for everything before a session exists."""
    orig = getattr(exc, "orig", None) or exc
    message = str(orig).lower()
    code = orig.args[0] if getattr(orig, "args", None) and isinstance(orig.args[0], int) else None
    if code == 1049 or ('database "' in message and "does not exist" in message) or "ora-12514" in message:
        return "database_not_found"
    if code in _MYSQL_AUTH_CODES or any(marker in message for marker in _AUTH_MARKERS):
        return "auth_failed"
    if ('role "' in message and "does not exist" in message) or "28000" in message:
        return "auth_failed"
    return "connection_failed"


def _is_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None) or exc
    code = orig.args[0] if getattr(orig, "args", None) and isinstance(orig.args[0], int) else None
    return (
        getattr(orig, "pgcode", None) == "57014"
        or getattr(orig, "sqlstate", None) == "57014"
        or code in (3024, 1969)
        or "timed out" in str(orig).lower()
        or "timeout" in str(orig).lower()
    )


def _connection_failed(checked: CheckedUrl) -> Unprocessable:
    # One body for refused, unreachable, filtered, silent and not-a-database ports: no port scanner.
    host = checked.original_host
    port = checked.url.port
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return Unprocessable(
        f"Could not connect to {where}" if port else f"Could not connect to {host}", code="connection_failed"
    )


def _server_version(engine: Engine) -> str:
    info = getattr(engine.dialect, "server_version_info", None) or ()
    numbers = ".".join(str(part) for part in info if isinstance(part, int))
    if getattr(engine.dialect, "is_mariadb", False):
        return f"{numbers}-MariaDB"
    return numbers or "unknown"


def test_connection(raw_url: str, *, allow_private: bool | None = None, connect_timeout: int = 5) -> ConnectionTestRead:
    """Check, connect, run SELECT 1 and report the server version; failures are 422 with a stable code."""
    checked = check_url(raw_url, allow_private=allow_private)
    engine = open_engine(checked, connect_timeout=connect_timeout, statement_timeout_ms=connect_timeout * 1000)
    try:
        started = time.perf_counter()
        try:
            connection = engine.connect()
        except Exception as exc:
            kind = _classify_connect_error(exc)
            logger.info(
                "Data source connection failed (%s) for %s: %s",
                kind,
                mask_url(raw_url),
                type(getattr(exc, "orig", None) or exc).__name__,
            )
            if kind == "auth_failed":
                raise Unprocessable(
                    "Authentication failed: check the user name and password", code="auth_failed"
                ) from None
            if kind == "database_not_found":
                raise Unprocessable(
                    "The server has no such database (or this user may not open it)", code="database_not_found"
                ) from None
            raise _connection_failed(checked) from None
        connected = time.perf_counter()
        with connection:
            try:
                connection.execute(select(literal_column("1"))).scalar_one()
            except Exception as exc:
                if _is_timeout(exc):
                    raise Unprocessable(
                        f"The server did not answer SELECT 1 within {connect_timeout} s", code="timeout"
                    ) from None
                raise _connection_failed(checked) from None
            answered = time.perf_counter()
            version = _server_version(engine)
    finally:
        engine.dispose()
    return ConnectionTestRead(
        ok=True,
        dialect=checked.dialect,
        driver=checked.driver,
        server_version=version,
        latency_ms=round((answered - connected) * 1000, 2),
        connect_ms=round((connected - started) * 1000, 2),
    )


def run_failure(checked: CheckedUrl, exc: BaseException, *, timeout_ms: int) -> Unprocessable:
    """A clear, password-free error for a data source run that failed on its database."""
    orig = getattr(exc, "orig", None) or exc
    if _is_timeout(exc):
        return Unprocessable(
            f"The source query ran past its {timeout_ms // 1000} s limit and was cancelled", code="timeout"
        )
    kind = _classify_connect_error(exc)
    if kind == "auth_failed":
        return Unprocessable("Authentication failed: check the user name and password", code="auth_failed")
    if kind == "database_not_found":
        return Unprocessable(
            "The server has no such database (or this user may not open it)", code="database_not_found"
        )
    first_line = (str(orig).strip().splitlines() or [""])[0]
    if checked.url.password:
        first_line = first_line.replace(checked.url.password, "***")
    if (
        "could not connect" in first_line.lower()
        or "can't connect" in first_line.lower()
        or "connection refused" in first_line.lower()
        or "timeout expired" in first_line.lower()
    ):
        return _connection_failed(checked)
    return Unprocessable(f"The source query failed: {first_line[:300]}", code="query_failed")
