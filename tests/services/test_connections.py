"""Data source URLs: what check_url refuses (without ever connecting), and safe connections to real servers."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy
from sqlalchemy.engine import URL, make_url

from app.core.config import get_settings
from app.core.errors import AppError
from app.services import connections as conn_service
from app.services.connections import addresses, engines
from tests.conftest import require_service

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
MY_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
PUBLIC_IP = "93.184.215.14"
PASSWORD = "S3cretPw"


def _refusal(raw: str, **kw) -> AppError:
    with pytest.raises(AppError) as info:
        conn_service.check_url(raw, **kw)
    return info.value


def _body(err: AppError) -> dict:
    """What the problem+json handler renders, minus the request path."""
    return {"status": err.status_code, "title": err.title, "code": err.code, "detail": err.detail, **err.extra}


def _server_up(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def postgres():
    if not _server_up(5432):
        require_service("PostgreSQL", "nothing listens on 127.0.0.1:5432")
    return PG_URL


@pytest.fixture
def mariadb():
    if not _server_up(3306):
        require_service("MariaDB", "nothing listens on 127.0.0.1:3306")
    return MY_URL


@pytest.fixture
def no_connection(monkeypatch):
    """Any attempt to open a socket, an engine or a driver connection fails the test."""
    attempts: list[str] = []

    def forbid(name):
        def _raise(*args, **kwargs):
            attempts.append(name)
            raise AssertionError(f"{name} called for a refused URL")

        return _raise

    monkeypatch.setattr(socket, "create_connection", forbid("socket.create_connection"))
    monkeypatch.setattr(socket.socket, "connect", forbid("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", forbid("socket.connect_ex"))
    monkeypatch.setattr(sqlalchemy, "create_engine", forbid("sqlalchemy.create_engine"))
    monkeypatch.setattr(sqlalchemy.engine, "create_engine", forbid("sqlalchemy.engine.create_engine"))
    monkeypatch.setattr(engines, "create_engine", forbid("engines.create_engine"))
    monkeypatch.setattr(sqlalchemy.dialects.registry, "load", forbid("dialect registry load"))
    import psycopg2
    import pymysql

    monkeypatch.setattr(psycopg2, "connect", forbid("psycopg2.connect"))
    monkeypatch.setattr(pymysql, "connect", forbid("pymysql.connect"))
    yield attempts
    assert attempts == []


def fake_dns(monkeypatch, table: dict[str, list[str]]) -> list[str]:
    """Replace getaddrinfo by a table; names not in it do not resolve. Returns the names looked up."""
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in table[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


# --- refusals, each without any connection attempt ---------------------------------------------------

REFUSED = [
    ("not a url", "invalid_url"),
    ("", "invalid_url"),
    (f"postgresql://u:{PASSWORD}@x@{PUBLIC_IP}/db", "invalid_url"),  # unencoded '@' in the password
    (f"postgresql://u/x:{PASSWORD}@{PUBLIC_IP}/db", "invalid_url"),  # unencoded '/' in the user
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}:99999/db", "invalid_url"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}:abc/db", "invalid_url"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/a=b", "invalid_url"),
    (f"postgresql://u:pw@{PUBLIC_IP}?{PASSWORD}@x/db", "invalid_url"),  # '?' and '@' in the password
    ("sqlite://", "dialect_not_allowed"),
    ("sqlite:///tmp/painel.db", "dialect_not_allowed"),
    ("sqlite+pysqlite:///:memory:", "dialect_not_allowed"),
    ("SQLITE:///painel.db", "dialect_not_allowed"),
    ("sqlite+aiosqlite:///painel.db", "dialect_not_allowed"),
    ("sqlite+pysqlcipher://:key@/painel.db", "dialect_not_allowed"),
    ("/etc/passwd", "dialect_not_allowed"),
    ("./painel.db", "dialect_not_allowed"),
    ("~/painel.db", "dialect_not_allowed"),
    ("file:///etc/passwd", "dialect_not_allowed"),
    ("C:\\data\\painel.db", "dialect_not_allowed"),
    ("h2:///tmp/evil;INIT=RUNSCRIPT FROM 'http://x/x.sql'", "dialect_not_allowed"),
    ("duckdb:///tmp/x.duckdb", "dialect_not_allowed"),
    (f"postgresql+asyncpg://u:{PASSWORD}@{PUBLIC_IP}/db", "driver_not_allowed"),
    (f"postgresql+psycopg_async://u:{PASSWORD}@{PUBLIC_IP}/db", "driver_not_allowed"),
    (f"mysql+aiomysql://u:{PASSWORD}@{PUBLIC_IP}/db", "driver_not_allowed"),
    (f"mysql+asyncmy://u:{PASSWORD}@{PUBLIC_IP}/db", "driver_not_allowed"),
    (f"postgresql+pg8000://u:{PASSWORD}@{PUBLIC_IP}/db", "driver_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?options=-c%20search_path%3Devil", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?options=-c%20statement_timeout%3D0", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?host=/var/run/postgresql", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?host=127.0.0.1", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?hostaddr=127.0.0.1", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?port=6432", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?service=internal", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?passfile=/root/.pgpass", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?sslkey=/etc/ssl/private/key.pem", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?sslcert=/etc/ssl/cert.pem", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?sslrootcert=/etc/ssl/root.pem", "invalid_param_value"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?sslcrl=/etc/ssl/crl.pem", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?sslmode=bogus", "invalid_param_value"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?sslmode=require&sslmode=disable", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db?target_session_attrs=read-write", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP},10.0.0.5/db", "param_not_allowed"),
    (f"postgresql://u:{PASSWORD}@{PUBLIC_IP}:5432,10.0.0.5:5432/db", "param_not_allowed"),
    (f"mysql+pymysql://u:{PASSWORD}@{PUBLIC_IP}/db?local_infile=1", "param_not_allowed"),
    (f"mysql+pymysql://u:{PASSWORD}@{PUBLIC_IP}/db?read_default_file=/etc/mysql/debian.cnf", "param_not_allowed"),
    (f"mysql+pymysql://u:{PASSWORD}@{PUBLIC_IP}/db?read_default_group=client", "param_not_allowed"),
    (f"mysql+pymysql://u:{PASSWORD}@{PUBLIC_IP}/db?init_command=DROP%20TABLE%20x", "param_not_allowed"),
    (f"mysql+pymysql://u:{PASSWORD}@{PUBLIC_IP}/db?unix_socket=/run/mysqld/mysqld.sock", "param_not_allowed"),
    (f"mariadb+pymysql://u:{PASSWORD}@{PUBLIC_IP}/db?ssl_key=/etc/ssl/private/key.pem", "param_not_allowed"),
    (f"mssql+pyodbc://u:{PASSWORD}@{PUBLIC_IP}/db?odbc_connect=DRIVER%3D%2Ftmp%2Fevil.so", "param_not_allowed"),
    (
        f"mssql+pyodbc://u:{PASSWORD}@{PUBLIC_IP}/db?driver=ODBC+Driver+18+for+SQL+Server&autocommit=true",
        "param_not_allowed",
    ),
    (f"mssql+pyodbc://u:{PASSWORD}@{PUBLIC_IP}/db?driver=%2Ftmp%2Fevil.so", "invalid_param_value"),
    (f"mssql+pyodbc://{PUBLIC_IP}/db?driver=ODBC+Driver+18+for+SQL+Server", "credentials_required"),
    (f"mssql+pyodbc://u:{PASSWORD}@some_dsn", "param_required"),
    (f"oracle+oracledb://u:{PASSWORD}@{PUBLIC_IP}/db?mode=SYSDBA", "param_not_allowed"),
    (f"snowflake://u:{PASSWORD}@acct/db?authenticator=externalbrowser", "param_not_allowed"),
    ("bigquery://project/dataset?credentials_path=/etc/gcp.json", "param_not_allowed"),
    ("bigquery://project/dataset", "credentials_required"),
    (f"postgresql://u:{PASSWORD}@/db", "host_required"),
    ("postgresql:///db", "host_required"),
    (f"postgresql://u:{PASSWORD}@%2Fvar%2Frun%2Fpostgresql/db", "invalid_url"),
]


@pytest.mark.parametrize(("raw", "code"), REFUSED)
def test_refused_urls_never_connect(raw, code, no_connection):
    err = _refusal(raw, allow_private=False)
    assert err.code == code
    assert 400 <= err.status_code < 500
    assert PASSWORD not in err.detail and PASSWORD not in str(err.extra)


@pytest.mark.parametrize("raw", ["sqlite:///x.db", "sqlite+pysqlite://", "h2:///x", "file:///x", "/x.db"])
def test_refused_dialects_load_no_driver(raw, monkeypatch, no_connection):
    def forbid(*args, **kwargs):
        raise AssertionError("a module was looked up for a refused dialect")

    import importlib
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", forbid)
    monkeypatch.setattr(importlib, "import_module", forbid)
    assert _refusal(raw).code == "dialect_not_allowed"


def test_missing_driver_names_the_pip_package(monkeypatch, no_connection):
    import importlib.util

    looked_up: list[str] = []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: looked_up.append(name))
    err = _refusal(f"mssql+pyodbc://u:{PASSWORD}@{PUBLIC_IP}/db?driver=ODBC+Driver+18+for+SQL+Server")
    assert (err.status_code, err.code, err.extra["package"]) == (422, "driver_missing", "pyodbc")
    assert "pip install pyodbc" in err.detail
    err = _refusal(f"oracle+oracledb://u:{PASSWORD}@{PUBLIC_IP}:1521/db")
    assert "pip install oracledb" in err.detail
    err = _refusal(f"postgresql://u:{PASSWORD}@{PUBLIC_IP}/db")  # psycopg2 first (drivers.BACKENDS)
    assert "psycopg2-binary" in err.detail and "postgresql+psycopg://" in err.detail
    assert set(looked_up) <= {"pyodbc", "oracledb", "psycopg", "psycopg2"}
    assert conn_service.PIP_PACKAGES["pymysql"] == "PyMySQL" and "asyncpg" not in conn_service.PIP_PACKAGES


PRIVATE_SPELLINGS = [
    "0x7f000001",
    "2130706433",
    "017700000001",
    "127.1",
    "[::ffff:127.0.0.1]",
    "[::1]",
    "0.0.0.0",
    "169.254.169.254",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "100.64.0.1",
    "[fd00::1]",
    "[fe80::1]",
    "[64:ff9b::7f00:1]",
    "[::ffff:0:7f00:1]",
    "[2002:c0a8:101::1]",
    "[::]",
    "224.0.0.1",
    "255.255.255.255",
    "0x7f.1",
    "[::ffff:169.254.169.254]",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo whose client is 192.0.2.45 (documentation range)
]


@pytest.mark.parametrize("host", PRIVATE_SPELLINGS)
@pytest.mark.parametrize("scheme", ["postgresql+psycopg2", "mysql+pymysql"])
def test_private_addresses_refused_without_the_resolver(scheme, host, monkeypatch, no_connection):
    asked = fake_dns(monkeypatch, {})
    err = _refusal(f"{scheme}://u:{PASSWORD}@{host}:5432/db", allow_private=False)
    assert (err.status_code, err.code) == (403, "private_host_refused")
    assert "ALLOW_PRIVATE_DATASOURCE_HOSTS=true" in err.detail and PASSWORD not in err.detail
    assert asked == []  # numeric spellings are parsed here, not left to the resolver


@pytest.mark.parametrize(
    "spelling",
    [
        "0x7f000001",
        "2130706433",
        "017700000001",
        "127.1",
        "0x7f.1",
        "10.1.2",
        "0",
        "1.2.3.4",
        "0x",
        "08.1.1.1",
        "1.2.3.4.5",
        "256.1.1.1",
        "1.256",
        "4294967296",
        "01.02.03.010",
        "0177.1",
        "example.com",
        "127.0.0.1.nip.io",
    ],
)
def test_numeric_spellings_match_the_c_resolver(spelling):
    try:
        expected = ipaddress.IPv4Address(socket.inet_aton(spelling))
    except OSError:
        expected = None
    assert addresses.parse_ip_literal(spelling) == expected


def test_names_resolving_to_any_private_address_are_refused(monkeypatch, no_connection):
    fake_dns(
        monkeypatch,
        {
            "rebind.example.com": [PUBLIC_IP, "127.0.0.1"],
            "v6.example.com": ["fd12::1"],
            "127.0.0.1.nip.io": ["127.0.0.1"],
        },
    )
    for host in ["rebind.example.com", "v6.example.com", "127.0.0.1.nip.io"]:
        err = _refusal(f"postgresql+psycopg2://u@{host}/db", allow_private=False)
        assert err.code == "private_host_refused", host


def test_localhost_is_refused_through_real_resolution(no_connection):
    assert _refusal("mysql+pymysql://root@localhost/test", allow_private=False).code == "private_host_refused"


def test_unresolvable_host(monkeypatch, no_connection):
    fake_dns(monkeypatch, {})
    err = _refusal("postgresql+psycopg2://u@db.nonexistent.invalid/db", allow_private=True)
    assert (err.status_code, err.code) == (422, "host_unresolvable")


def test_private_hosts_allowed_when_configured(monkeypatch, no_connection):
    checked = conn_service.check_url("postgresql+psycopg2://u@0x7f000001/db", allow_private=True)
    assert (checked.address, checked.url.host, checked.url.port, checked.original_host) == (
        "127.0.0.1",
        "127.0.0.1",
        5432,
        "0x7f000001",
    )
    monkeypatch.setattr(get_settings(), "ALLOW_PRIVATE_DATASOURCE_HOSTS", False)
    assert _refusal("postgresql+psycopg2://u@10.0.0.5/db").code == "private_host_refused"
    monkeypatch.setattr(get_settings(), "ALLOW_PRIVATE_DATASOURCE_HOSTS", True)
    assert conn_service.check_url("postgresql+psycopg2://u@10.0.0.5/db").address == "10.0.0.5"


def test_checked_url_is_rebuilt_from_allowed_parts_only(monkeypatch, no_connection):
    fake_dns(monkeypatch, {"db.example.com": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", PUBLIC_IP]})
    checked = conn_service.check_url(
        f"postgres://u:{quote('p@ss:/%', safe='')}@db.example.com/sales?sslmode=verify-full&application_name=x",
        allow_private=False,
    )
    assert checked.url.drivername == "postgresql+psycopg2"
    assert (checked.dialect, checked.driver, checked.address, checked.original_host) == (
        "postgresql",
        "psycopg2",
        PUBLIC_IP,
        "db.example.com",
    )  # IPv4 preferred
    assert (checked.url.host, checked.url.port, checked.url.password) == (PUBLIC_IP, 5432, "p@ss:/%")
    assert dict(checked.url.query) == {"sslmode": "verify-full", "application_name": "x"}


# --- DNS pinning: the connection goes to the checked address ----------------------------------------------


def test_engine_connects_to_the_checked_address_even_if_dns_changes(monkeypatch):
    fake_dns(monkeypatch, {"db.example.com": [PUBLIC_IP]})
    checked = conn_service.check_url(f"postgresql+psycopg2://u:{PASSWORD}@db.example.com/sales", allow_private=False)
    fake_dns(monkeypatch, {"db.example.com": ["127.0.0.1"]})  # rebinding after the check
    captured: dict = {}

    import psycopg2

    def fake_connect(*args, **kwargs):
        captured.update(kwargs)
        raise psycopg2.OperationalError("stop here")

    monkeypatch.setattr(psycopg2, "connect", fake_connect)
    engine = conn_service.open_engine(checked, connect_timeout=3)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        engine.connect()
    assert (captured["host"], captured["hostaddr"], captured["port"]) == ("db.example.com", PUBLIC_IP, 5432)
    assert captured["connect_timeout"] == 3 and captured["password"] == PASSWORD
    assert engine.pool.__class__.__name__ == "NullPool"


def test_passwordless_postgres_urls_never_use_the_servers_saved_passwords(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "the-servers-own-password")
    checked = conn_service.check_url(f"postgresql+psycopg2://u@{PUBLIC_IP}/sales", allow_private=False)
    captured: dict = {}

    import psycopg2

    def fake_connect(*args, **kwargs):
        captured.update(kwargs)
        raise psycopg2.OperationalError("stop here")

    monkeypatch.setattr(psycopg2, "connect", fake_connect)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        conn_service.open_engine(checked).connect()
    # An explicit empty password beats PGPASSWORD; the passfile path cannot exist; no Kerberos/GSS.
    assert captured["password"] == "" and captured["passfile"].startswith("/dev/null/")
    assert captured["gssencmode"] == "disable" and captured.get("require_auth", "!gss,!sspi") == "!gss,!sspi"
    assert captured["host"] == captured["hostaddr"] == PUBLIC_IP


def test_libpq_does_not_resolve_the_name_when_hostaddr_is_given(monkeypatch, postgres):
    fake_dns(monkeypatch, {"pinned.painel.invalid": ["127.0.0.1"]})
    checked = conn_service.check_url(
        "postgresql+psycopg2://postgres@pinned.painel.invalid:5432/test", allow_private=True
    )
    monkeypatch.undo()  # the name no longer resolves anywhere
    engine = conn_service.open_engine(checked)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_pymysql_connects_to_the_rewritten_ip(monkeypatch, mariadb):
    fake_dns(monkeypatch, {"pinned.painel.invalid": ["127.0.0.1"]})
    checked = conn_service.check_url("mysql+pymysql://root@pinned.painel.invalid/test", allow_private=True)
    monkeypatch.undo()
    assert checked.url.host == "127.0.0.1"
    engine = conn_service.open_engine(checked)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


# --- real servers ------------------------------------------------------------------------------------------


def test_connection_to_postgres(postgres):
    result = conn_service.test_connection(postgres, allow_private=True).model_dump()
    import psycopg2

    with psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test") as raw:
        number = raw.server_version
    expected = f"{number // 10000}.{number % 10000}" if number >= 100000 else None
    assert result["ok"] is True and result["dialect"] == "postgresql" and result["driver"] == "psycopg2"
    assert result["server_version"] and (expected is None or result["server_version"] == expected)
    assert result["latency_ms"] >= 0 and result["connect_ms"] >= 0


def test_connection_to_mariadb(mariadb):
    result = conn_service.test_connection(mariadb, allow_private=True).model_dump()
    import pymysql

    raw = pymysql.connect(host="127.0.0.1", port=3306, user="root", database="test")
    try:
        version = raw.get_server_info()
    finally:
        raw.close()
    assert result["ok"] is True and result["dialect"] == "mysql" and result["driver"] == "pymysql"
    assert result["server_version"] and result["server_version"].split("-")[0] in version


def test_postgres_session_is_read_only_with_a_statement_timeout(postgres):
    engine = conn_service.open_engine(conn_service.check_url(postgres, allow_private=True), statement_timeout_ms=300)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "300ms"
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
            with pytest.raises(sqlalchemy.exc.DBAPIError) as info:
                conn.exec_driver_sql("CREATE TABLE painel_never_created (a int)")
            assert info.value.orig.pgcode == "25006"  # read_only_sql_transaction
            conn.rollback()
            with pytest.raises(sqlalchemy.exc.DBAPIError) as info:
                conn.exec_driver_sql("SELECT pg_sleep(2)")
            assert info.value.orig.pgcode == "57014"  # query_canceled
    finally:
        engine.dispose()


def test_mariadb_session_is_read_only_with_a_statement_timeout(mariadb):
    admin = sqlalchemy.create_engine(mariadb)
    table = f"painel_ct_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (a int)")
    engine = conn_service.open_engine(conn_service.check_url(mariadb, allow_private=True), statement_timeout_ms=300)
    try:
        with engine.connect() as conn:
            assert float(conn.exec_driver_sql("SELECT @@session.max_statement_time").scalar()) == 0.3
            assert conn.exec_driver_sql("SELECT @@session.tx_read_only").scalar() == 1
            with pytest.raises(sqlalchemy.exc.DBAPIError) as info:
                conn.exec_driver_sql(f"INSERT INTO {table} VALUES (1)")
            assert info.value.orig.args[0] == 1792  # cannot execute in a read-only transaction
            conn.rollback()
            with pytest.raises(sqlalchemy.exc.DBAPIError) as info:
                conn.exec_driver_sql("SELECT SLEEP(2) FROM (SELECT 1) AS t")
            assert info.value.orig.args[0] == 1969  # max_statement_time exceeded
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        admin.dispose()


@pytest.fixture
def mariadb_user(mariadb):
    """A throwaway MariaDB user whose password has URL-special characters."""
    admin = sqlalchemy.create_engine(mariadb)
    name, password = f"painel_ct_{uuid.uuid4().hex[:8]}", "p@ss:w/rd%1?#"
    # '%%': pymysql applies %-formatting to every statement, even without parameters
    accounts = [f"'{name}'@'{host}'" for host in ("%%", "localhost", "127.0.0.1")]
    with admin.begin() as conn:
        for account in accounts:
            conn.exec_driver_sql(f"CREATE USER {account} IDENTIFIED BY %s", (password,))
            conn.exec_driver_sql(f"GRANT SELECT ON test.* TO {account}")
    try:
        yield name, password
    finally:
        with admin.begin() as conn:
            for account in accounts:
                conn.exec_driver_sql(f"DROP USER IF EXISTS {account}")
        admin.dispose()


def test_mariadb_password_auth(mariadb_user):
    name, password = mariadb_user
    good = URL.create(
        "mysql+pymysql", username=name, password=password, host="127.0.0.1", port=3306, database="test"
    ).render_as_string(hide_password=False)
    assert conn_service.test_connection(good, allow_private=True).ok is True
    bad = URL.create(
        "mysql+pymysql", username=name, password="wrong-" + password, host="127.0.0.1", port=3306, database="test"
    ).render_as_string(hide_password=False)
    with pytest.raises(AppError) as info:
        conn_service.test_connection(bad, allow_private=True)
    assert (info.value.status_code, info.value.code) == (422, "auth_failed")
    assert password not in info.value.detail and info.value.__cause__ is None and info.value.__suppress_context__


def test_unknown_database(postgres, mariadb):
    for raw in [
        "postgresql+psycopg2://postgres@127.0.0.1:5432/painel_no_such_db",
        "mysql+pymysql://root@127.0.0.1:3306/painel_no_such_db",
    ]:
        with pytest.raises(AppError) as info:
            conn_service.test_connection(raw, allow_private=True)
        assert (info.value.status_code, info.value.code) == (422, "database_not_found")


class FakeServer:
    """A TCP port that is open but is no database: it sends garbage, closes at once, or stays silent."""

    def __init__(self, mode: str, port: int = 0) -> None:
        self.mode, self.held = mode, []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == "garbage":
                with contextlib.suppress(OSError):
                    client.sendall(b"HTTP/1.1 400 Bad Request\r\nServer: not-a-db\r\n\r\n\x00\xff\x10garbage")
                client.close()
            elif self.mode == "close":
                client.close()
            else:
                self.held.append(client)

    def stop(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for client in self.held:
            client.close()
        self.thread.join(timeout=5)


def _failure_body(url: str) -> dict:
    with pytest.raises(AppError) as info:
        conn_service.test_connection(url, allow_private=True, connect_timeout=2)
    return _body(info.value)


@pytest.mark.parametrize("scheme", ["postgresql+psycopg2://postgres", "mysql+pymysql://root"])
def test_connection_failures_look_identical(scheme):
    """Garbage, instant close, silence and a closed port give one body on one port: no port scanner."""
    bodies, port = {}, 0
    for mode in ("garbage", "close", "silent"):
        server = FakeServer(mode, port)
        port = server.port
        try:
            bodies[mode] = _failure_body(f"{scheme}@127.0.0.1:{port}/test")
        finally:
            server.stop()
    bodies["closed"] = _failure_body(f"{scheme}@127.0.0.1:{port}/test")
    expected = {
        "status": 422,
        "title": "Unprocessable content",
        "code": "connection_failed",
        "detail": f"Could not connect to 127.0.0.1:{port}",
    }
    assert bodies == dict.fromkeys(("garbage", "close", "silent", "closed"), expected)
    assert _failure_body(f"{scheme}@127.0.0.1:1/test") == expected | {"detail": "Could not connect to 127.0.0.1:1"}


# --- the app's own database -------------------------------------------------------------------------------


def test_app_database_is_refused_even_with_private_hosts_allowed(monkeypatch, no_connection):
    monkeypatch.setattr(get_settings(), "DATABASE_URL", PG_URL)
    for raw in [
        PG_URL,
        "postgresql://postgres@localhost/test",
        "postgresql+psycopg2://other@127.1:5432/test",
        "postgresql+psycopg2://postgres@[::1]:5432/test",
        "postgresql+psycopg2://x:y@0.0.0.0/test",
        "postgresql+psycopg2://postgres@127.0.0.1:5432/test?sslmode=disable",
    ]:
        err = _refusal(raw, allow_private=True)
        assert (err.status_code, err.code) == (403, "app_database_refused"), raw
    assert _refusal(PG_URL, allow_private=False).status_code == 403
    assert conn_service.check_url("postgresql+psycopg2://postgres@127.0.0.1:5432/other", allow_private=True)
    assert conn_service.check_url("postgresql+psycopg2://postgres@127.0.0.1:6543/test", allow_private=True)


def test_app_database_refusal_on_mysql_covers_the_whole_server(monkeypatch, no_connection):
    monkeypatch.setattr(get_settings(), "DATABASE_URL", "mysql+pymysql://painel:pw@127.0.0.1:3306/painel")
    for raw in ["mysql+pymysql://root@localhost/painel", "mariadb+pymysql://root@127.0.0.1/other_db"]:
        assert _refusal(raw, allow_private=True).code == "app_database_refused"
    assert conn_service.check_url("mysql+pymysql://root@127.0.0.1:3307/painel", allow_private=True)


def test_test_connection_refuses_app_database(monkeypatch, no_connection):
    monkeypatch.setattr(get_settings(), "DATABASE_URL", PG_URL)
    with pytest.raises(AppError) as info:
        conn_service.test_connection(PG_URL, allow_private=True)
    assert info.value.code == "app_database_refused"


# --- secrets -----------------------------------------------------------------------------------------------

SECRETS = ["plain-Pw1", "p@ss", "a:b:c", "x/y/z", "100%", "%41%", "p@:/%?#&=+ é", "}{;'\""]


@pytest.mark.parametrize("password", SECRETS)
def test_mask_url_never_shows_the_password(password):
    raw = URL.create(
        "postgresql+psycopg2", username="reader", password=password, host="db.example.com", port=5432, database="sales"
    ).render_as_string(hide_password=False)
    masked = conn_service.mask_url(raw)
    assert password not in masked and quote(password, safe="") not in masked
    assert masked == "postgresql+psycopg2://reader:***@db.example.com:5432/sales"


def test_mask_url_edge_cases():
    assert conn_service.mask_url(f"postgresql://u:{PASSWORD}@x@host/db") == "<invalid url>"
    assert conn_service.mask_url(f"postgresql://u:{PASSWORD}@evil:more@host/db") == "<invalid url>"
    assert conn_service.mask_url(None) == "<invalid url>" and conn_service.mask_url("garbage") == "<invalid url>"
    assert conn_service.mask_url("postgresql://u@h/db") == "postgresql://u@h/db"
    masked = conn_service.mask_url(f"bigquery://proj/ds?credentials_base64={PASSWORD}&location=EU")
    assert PASSWORD not in masked and "credentials_base64=***" in masked


@pytest.mark.parametrize("password", [*SECRETS, "", None])
def test_split_and_join_round_trip(password):
    raw = URL.create(
        "mysql+pymysql",
        username="us:er@x",
        password=password,
        host="db.example.com",
        port=3306,
        database="sales",
        query={"charset": "utf8mb4"},
    ).render_as_string(hide_password=False)
    stored, secret = conn_service.split_secret(raw)
    assert secret == password
    assert make_url(stored).password is None
    if password:
        assert password not in stored and quote(password, safe="") not in stored
    joined = conn_service.join_secret(stored, secret)
    assert make_url(joined) == make_url(raw) and make_url(joined).password == password


def test_split_secret_takes_bigquery_credentials():
    raw = f"bigquery://proj/ds?credentials_base64={PASSWORD}QUJD&location=EU"
    stored, secret = conn_service.split_secret(raw)
    assert secret == f"{PASSWORD}QUJD" and PASSWORD not in stored
    assert make_url(conn_service.join_secret(stored, secret)) == make_url(raw)


def test_split_secret_refuses_misparsed_credentials():
    with pytest.raises(AppError) as info:
        conn_service.split_secret(f"postgresql://u:{PASSWORD}@x@host/db")
    assert info.value.code == "invalid_url" and PASSWORD not in info.value.detail
