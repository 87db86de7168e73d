"""Real customer databases for data-source tests: a private database on the machine's Postgres and MariaDB.

Each fixture creates its own database and drops it afterwards; without the server the test skips (fails
under CI=true)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, make_url, text

PG_ADMIN_URL = os.environ.get("CUSTOMER_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN_URL = os.environ.get("CUSTOMER_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


@dataclass
class CustomerDb:
    url: str  # what a tenant would type (user:password@host/db)
    engine: object  # an admin engine on that database, for the test's own setup

    def execute(self, *statements: str, params=None) -> None:
        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), params or {})


def _require(name: str, exc: Exception):
    from tests.conftest import require_service

    require_service(name, str(exc).splitlines()[0])


@pytest.fixture
def customer_pg():
    name = f"painel_cust_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(
                text(
                    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'painel_customer') "
                    "THEN CREATE ROLE painel_customer LOGIN PASSWORD 'S3cr3t-Pg!pass'; END IF; END $$"
                )
            )
    except Exception as exc:
        admin.dispose()
        _require("PostgreSQL", exc)
    db_url = make_url(PG_ADMIN_URL).set(database=name)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("GRANT ALL ON SCHEMA public TO painel_customer"))
        conn.execute(text("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO painel_customer"))
    url = db_url.set(username="painel_customer", password="S3cr3t-Pg!pass").render_as_string(hide_password=False)
    yield CustomerDb(url=url, engine=engine)
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def customer_mysql():
    name = f"painel_cust_{uuid.uuid4().hex[:8]}"
    user = f"pc_{uuid.uuid4().hex[:8]}"
    admin = create_engine(MYSQL_ADMIN_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            conn.execute(text(f"CREATE USER '{user}'@'%%' IDENTIFIED BY 'My-S3cret!pw'"))
            conn.execute(text(f"GRANT SELECT ON `{name}`.* TO '{user}'@'%%'"))
    except Exception as exc:
        admin.dispose()
        _require("MariaDB", exc)
    engine = create_engine(make_url(MYSQL_ADMIN_URL).set(database=name))
    url = make_url(MYSQL_ADMIN_URL).set(database=name, username=user, password="My-S3cret!pw")
    yield CustomerDb(url=url.render_as_string(hide_password=False), engine=engine)
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%%'"))
    admin.dispose()
