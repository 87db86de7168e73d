"""check_url: whether a tenant's data source URL may be opened, decided without connecting."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url

from app.core.config import get_settings
from app.core.errors import Forbidden, Unprocessable
from app.services.connections import addresses
from app.services.connections.drivers import ALLOWED_PARAMS, BACKENDS, Driver, select_driver
from app.services.connections.urls import parse_url

_SNOWFLAKE_SUFFIX = ".snowflakecomputing.com"
_PARAM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PROJECT_ID = re.compile(r"^[A-Za-z0-9.:_-]{1,128}$")


@dataclass(frozen=True)
class CheckedUrl:
    """A URL that passed every check, pinned to the address that was checked."""

    url: URL  # the URL to connect to, with host replaced by the checked IP address
    original_host: str
    address: str  # the IP connected to (the one that was checked); "" for BigQuery (an HTTPS API)
    dialect: str  # postgresql | mysql | mssql | oracle | snowflake | bigquery
    driver: str  # e.g. psycopg2, pymysql


def _check_params(family: str, url: URL) -> dict[str, str]:
    """The query parameters, each on the family's allow-list with a valid value; canonical key spelling."""
    allowed = ALLOWED_PARAMS[family]
    by_lower = {key.lower(): key for key in allowed} if family == "mssql" else {key: key for key in allowed}
    checked: dict[str, str] = {}
    for key, value in url.query.items():
        canonical = by_lower.get(key.lower() if family == "mssql" else key)
        if canonical is None:
            names = ", ".join(sorted(allowed))
            shown = key if _PARAM_NAME.match(key) else "?"  # only echo names that look like names
            raise Unprocessable(
                f"Connection parameter '{shown}' is not allowed for {family} (allowed: {names})",
                code="param_not_allowed",
                extra={"parameter": shown},
            )
        if not isinstance(value, str) or canonical in checked:
            raise Unprocessable(
                f"Connection parameter '{canonical}' is given more than once",
                code="param_not_allowed",
                extra={"parameter": canonical},
            )
        if not allowed[canonical](value):
            raise Unprocessable(
                f"Connection parameter '{canonical}' has a value that is not accepted",
                code="invalid_param_value",
                extra={"parameter": canonical},
            )
        checked[canonical] = value
    return checked


def _check_family_rules(family: str, url: URL, params: dict[str, str]) -> None:
    """Requirements that keep a driver from falling back to the server's own credentials or config."""
    if family == "mssql":
        if not url.username:
            # Without a user, SQLAlchemy asks ODBC for Trusted_Connection: the server's Kerberos identity.
            raise Unprocessable("A user name is required for SQL Server", code="credentials_required")
        if "driver" not in params or not url.database:
            # Without both, the host is read as an ODBC DSN name from the server's odbc.ini.
            raise Unprocessable(
                "SQL Server URLs need a database and ?driver=ODBC Driver 18 for SQL Server", code="param_required"
            )
    if family == "bigquery" and "credentials_base64" not in params:
        # Without it the client would use the server's own Google credentials.
        raise Unprocessable(
            "BigQuery needs ?credentials_base64=<base64 service account JSON>", code="credentials_required"
        )
    if family == "postgresql" and url.database and "=" in url.database:
        raise Unprocessable("The database name may not contain '='", code="invalid_url")


def _network_host(family: str, url: URL) -> str:
    """The host name to resolve and check."""
    host = (url.host or "").strip()
    if not host:
        raise Unprocessable("A host is required (local sockets and empty hosts are not allowed)", code="host_required")
    if family == "snowflake":
        account = host[: -len(_SNOWFLAKE_SUFFIX)] if host.lower().endswith(_SNOWFLAKE_SUFFIX) else host
        if not re.match(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,3}$", account):
            raise Unprocessable("The Snowflake account identifier is not valid", code="invalid_url")
        return account.replace("_", "-") + _SNOWFLAKE_SUFFIX
    if not addresses.is_valid_host(host):
        raise Unprocessable("The host is not a valid host name or IP address", code="invalid_url")
    return host


def _app_database_refusal(family: str, url: URL, ips: list[addresses.IPAddress], port: int | None) -> bool:
    """Whether the URL reaches the application's own database (same server, port and database)."""
    try:
        app = make_url(get_settings().DATABASE_URL)
    except Exception:
        return False
    backend = app.get_backend_name().lower()
    if BACKENDS.get(backend, ("",))[0] != family or family not in ("postgresql", "mysql"):
        return False
    if (app.port or BACKENDS[backend][2]) != port:
        return False
    try:
        app_ips = addresses.resolve(app.host, port or 0) if app.host else []
    except Exception:
        app_ips = []
    if not app.host:
        app_ips = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    same_server = (
        any(a == b or (addresses.is_loopback_like(a) and addresses.is_loopback_like(b)) for a in ips for b in app_ips)
        or (app.host or "").lower() == (url.host or "").lower()
    )
    if not same_server:
        return False
    if family == "mysql":
        # One MySQL login can read every database it is granted on the server: the database name isolates nothing.
        return True
    wanted, own = url.database or url.username, app.database or app.username
    return not wanted or not own or wanted == own


def _same_as_app_url(raw_url: str, url: URL) -> bool:
    settings_url = get_settings().DATABASE_URL
    if raw_url.strip() == settings_url.strip():
        return True
    try:
        app = make_url(settings_url)
    except Exception:
        return False
    key = lambda u: (u.get_backend_name().lower(), (u.host or "").lower(), u.port, u.database, u.username)  # noqa: E731
    return key(app) == key(url)


def check_url(raw_url: str, *, allow_private: bool | None = None) -> CheckedUrl:
    """Decide whether a data source URL may be opened; raises AppError, never connects."""
    backend, requested_driver, url = parse_url(raw_url)
    family = BACKENDS[backend][0]
    params = _check_params(family, url)
    _check_family_rules(family, url, params)
    driver: Driver = select_driver(backend, requested_driver)
    if _same_as_app_url(raw_url, url):
        raise Forbidden(
            "This is the application's own database; it cannot be a data source", code="app_database_refused"
        )
    port = url.port or driver.default_port
    if port is not None and not 1 <= port <= 65535:
        raise Unprocessable("The port must be between 1 and 65535", code="invalid_url")
    if family == "bigquery":
        if not url.host or not _PROJECT_ID.match(url.host):
            raise Unprocessable("A BigQuery URL is bigquery://<project>/<dataset>", code="invalid_url")
        rebuilt = URL.create(driver.drivername, host=url.host, database=url.database, query=params)
        return CheckedUrl(rebuilt, url.host, "", family, driver.name)
    host = _network_host(family, url)
    ips = addresses.resolve(host, port or 443)
    if allow_private is None:
        allow_private = get_settings().allow_private_datasource_hosts
    if not allow_private:
        for ip in ips:
            reason = addresses.refusal_reason(ip)
            if reason:
                raise Forbidden(
                    f"Host '{url.host}' resolves to a private or loopback address ({ip}: {reason}); "
                    "set ALLOW_PRIVATE_DATASOURCE_HOSTS=true to allow it",
                    code="private_host_refused",
                    extra={"address": str(ip)},
                )
    if _app_database_refusal(family, url, ips, port):
        raise Forbidden(
            "This URL reaches the application's own database; it cannot be a data source", code="app_database_refused"
        )
    address = str(addresses.pick_address(ips))
    # Snowflake is HTTPS to <account>.snowflakecomputing.com: the account stays, TLS checks the name.
    target_host = url.host if family == "snowflake" else address
    rebuilt = URL.create(
        driver.drivername,
        username=url.username,
        password=url.password,
        host=target_host,
        port=port,
        database=url.database,
        query=params,
    )
    return CheckedUrl(rebuilt, url.host or "", address, family, driver.name)
