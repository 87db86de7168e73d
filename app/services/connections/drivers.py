"""Known dialects and drivers, their pip packages, and the URL parameters each may receive."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass

from app.core.errors import Unprocessable

# driver -> pip package that provides it
PIP_PACKAGES: dict[str, str] = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "pymysql": "PyMySQL",
    "mysqldb": "mysqlclient",
    "pyodbc": "pyodbc",
    "oracledb": "oracledb",
    "snowflake": "snowflake-sqlalchemy",
    "bigquery": "sqlalchemy-bigquery",
}

# driver -> module looked up with find_spec (never a name taken from the user)
_MODULES = {
    "psycopg2": "psycopg2",
    "psycopg": "psycopg",
    "pymysql": "pymysql",
    "mysqldb": "MySQLdb",
    "pyodbc": "pyodbc",
    "oracledb": "oracledb",
    "snowflake": "snowflake.sqlalchemy",
    "bigquery": "sqlalchemy_bigquery",
}

# We connect synchronously (routes and jobs are sync), so async drivers are refused.
ASYNC_DRIVERS = frozenset({"asyncpg", "psycopg_async", "aiomysql", "asyncmy", "aioodbc", "aiosqlite", "oracledb_async"})

# URL scheme backend -> (family, drivers in order of preference when the URL names none, default port). Postgres
# prefers psycopg2, the driver the app itself runs on and its SQL sources are tested with, over SQLAlchemy 2.1's
# default psycopg 3 (installed for app.core.async_db; a URL may still name it: postgresql+psycopg://).
BACKENDS: dict[str, tuple[str, tuple[str, ...], int | None]] = {
    "postgresql": ("postgresql", ("psycopg2", "psycopg"), 5432),
    "postgres": ("postgresql", ("psycopg2", "psycopg"), 5432),
    "mysql": ("mysql", ("mysqldb", "pymysql"), 3306),
    "mariadb": ("mysql", ("mysqldb", "pymysql"), 3306),
    "mssql": ("mssql", ("pyodbc",), 1433),
    "oracle": ("oracle", ("oracledb",), 1521),
    "snowflake": ("snowflake", ("snowflake",), None),
    "bigquery": ("bigquery", ("bigquery",), None),
}

_SSLMODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_IDENT = re.compile(r"^[A-Za-z0-9_$.-]{1,128}$")
_TIMEOUT = re.compile(r"^[1-9][0-9]{0,2}$")
_YES_NO = {"yes", "no", "true", "false"}
_ODBC_DRIVER = re.compile(r"^(ODBC Driver 1[78] for SQL Server|FreeTDS)$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=_-]{16,20000}$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]{0,63}$")


def _one_of(values: set[str]) -> Callable[[str], bool]:
    return lambda value: value.lower() in values


# family -> parameter -> value check; everything else is refused.
ALLOWED_PARAMS: dict[str, dict[str, Callable[[str], object]]] = {
    "postgresql": {
        "sslmode": lambda v: v in _SSLMODES,
        "connect_timeout": _TIMEOUT.match,
        "application_name": _PRINTABLE.match,
        # "system" = the OS trust store (libpq 16+); file paths stay refused.
        "sslrootcert": lambda v: v == "system",
    },
    "mysql": {"charset": re.compile(r"^[A-Za-z0-9_]{1,32}$").match, "connect_timeout": _TIMEOUT.match},
    "mssql": {
        "driver": _ODBC_DRIVER.match,
        "encrypt": _one_of(_YES_NO | {"mandatory", "optional", "strict"}),
        "TrustServerCertificate": _one_of(_YES_NO),
        "connect_timeout": _TIMEOUT.match,
    },
    "oracle": {"service_name": _IDENT.match},
    "snowflake": {"warehouse": _IDENT.match, "role": _IDENT.match, "schema": _IDENT.match},
    "bigquery": {"location": re.compile(r"^[A-Za-z0-9-]{1,64}$").match, "credentials_base64": _BASE64.match},
}

# Query parameters that carry a secret (stored encrypted like a password, masked in logs).
SECRET_PARAMS = frozenset(
    {
        "credentials_base64",
        "password",
        "pwd",
        "passwd",
        "secret",
        "token",
        "private_key",
        "private_key_file_pwd",
        "credentials_info",
        "access_token",
    }
)


@dataclass(frozen=True)
class Driver:
    backend: str
    family: str
    name: str
    default_port: int | None

    @property
    def drivername(self) -> str:
        """The SQLAlchemy drivername; Snowflake and BigQuery register the bare backend only."""
        return self.backend if self.family in ("snowflake", "bigquery") else f"{self.backend}+{self.name}"


def _installed(driver: str) -> bool:
    try:
        return importlib.util.find_spec(_MODULES[driver]) is not None
    except (ImportError, ValueError):
        return False


def select_driver(backend: str, requested: str) -> Driver:
    """The driver to use for a backend: the requested one if known, else SQLAlchemy's default (or an installed
    alternative); raises driver_not_allowed / driver_missing."""
    family, choices, port = BACKENDS[backend]
    canonical = "postgresql" if backend == "postgres" else backend
    if requested:
        if requested in ASYNC_DRIVERS:
            raise Unprocessable(
                f"Async driver '{requested}' is not supported; use one of: {', '.join(choices)}",
                code="driver_not_allowed",
                extra={"driver": requested},
            )
        if requested not in choices:
            raise Unprocessable(
                f"Driver '{requested}' is not supported for {family}; use one of: {', '.join(choices)}",
                code="driver_not_allowed",
                extra={"driver": requested},
            )
        candidates: tuple[str, ...] = (requested,)
    else:
        candidates = choices
    for name in candidates:
        if _installed(name):
            return Driver(canonical, family, name, port)
    wanted = candidates[0]
    hint = "" if requested or len(choices) == 1 else f" (or name another driver: {canonical}+{choices[1]}://)"
    raise Unprocessable(
        f"The {family} driver '{wanted}' is not installed on the server; install it with "
        f"`pip install {PIP_PACKAGES[wanted]}`{hint}",
        code="driver_missing",
        extra={"driver": wanted, "package": PIP_PACKAGES[wanted]},
    )
