"""Test harness: a real database built by Alembic, clean for every test, and tenant factories.

TEST_DATABASE_URL picks the server (default: a SQLite file). On Postgres the suite creates its own
database and drops it at the end, so it never touches tables it did not create.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, make_url, text

_TMP = Path(tempfile.mkdtemp(prefix="painel-tests-"))
_BASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{(_TMP / 'test.db').as_posix()}"
_CREATED_DB: str | None = None


def _prepare_database(url: str) -> str:
    """For a server URL, create a private database for this run and return its URL."""
    global _CREATED_DB  # noqa: PLW0603 the session hook drops what this run created
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    name = f"painel_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    _CREATED_DB = name
    return parsed.set(database=name).render_as_string(hide_password=False)


os.environ.update(
    {
        "APP_ENV": "test",
        "DATABASE_URL": _prepare_database(_BASE_URL),
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "SCHEDULER_ENABLED": "false",
        "GC_SETTLE": "false",
        "SEED_DEMO": "false",
        "DEV_LOGIN_ENABLED": "true",
        "ALLOW_PRIVATE_DATASOURCE_HOSTS": "true",
    }
)

from fastapi.testclient import TestClient  # noqa: E402

from alembic import command  # noqa: E402
from app.core.config import get_settings  # noqa: E402
from app.core.db import get_engine  # noqa: E402
from app.models import Base  # noqa: E402
from app.services.health import alembic_config  # noqa: E402

pytest_plugins = ["tests.factories", "tests.customer_dbs"]


def pytest_sessionstart(session) -> None:
    command.upgrade(alembic_config(get_settings().DATABASE_URL), "head")


def pytest_sessionfinish(session, exitstatus) -> None:
    get_engine().dispose()
    if _CREATED_DB:
        admin = create_engine(make_url(_BASE_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_CREATED_DB}" WITH (FORCE)'))
        admin.dispose()


def is_postgres() -> bool:
    return get_engine().dialect.name == "postgresql"


@contextmanager
def all_orgs_session():
    """A session that sees and writes every org's rows: how a test inspects the database (on Postgres, row-level
    security would otherwise show a session with no org bound nothing)."""
    from app.core.db import get_sessionmaker
    from app.services.tenancy import across_orgs

    session = get_sessionmaker()()
    try:
        with across_orgs(session):  # the commit (and the audit rows it writes) happens inside the exception
            yield session
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@pytest.fixture(autouse=True)
def clean_database():
    """Every test starts on empty tables (the schema stays at head) and fresh rate limits."""
    from app.services import rate_limits, result_cache

    rate_limits.reset()
    result_cache.get_cache().clear()  # ids restart with every test: cached answers must not outlive their org
    yield
    engine = get_engine()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(scope="session")
def app():
    from app.main import create_app

    return create_app()


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def require_service(name: str, reason: str):
    """Skip when a service is missing on a developer machine; fail under CI=true."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} is required under CI but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (Debian's package, driven by Playwright's sync API).

    Session-scoped and shared by every browser test: Playwright's sync API runs its own event loop, and a second
    one started while the first is open fails ("Sync API inside the asyncio loop"). Skips when the playwright
    package or a Chromium binary is missing, and fails instead under CI=true. CHROMIUM_PATH overrides the binary.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service("playwright", "the playwright package is not installed (pip install -r requirements-dev.txt)")
    executable = _chromium()
    if not executable:
        require_service("Chromium", "no chromium binary on PATH (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
