"""Readiness: the database answers and its schema is at the migrations' head."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.core.config import PROJECT_ROOT
from app.core.db import get_engine
from app.schemas.health import ReadinessRead


def alembic_config(url: str | None = None) -> Config:
    """Alembic config for this project, optionally for another database URL."""
    cfg = Config(str(Path(PROJECT_ROOT) / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(PROJECT_ROOT) / "alembic"))
    if url:
        cfg.attributes["database_url"] = url
    return cfg


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def get_readiness() -> ReadinessRead:
    """Check the database connection and the migration state on a connection of its own (no tenant, no role
    switch: the probe needs none); never raises."""
    checks: dict[str, str] = {}
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current = set(MigrationContext.configure(conn).get_current_heads())
        checks["migrations"] = "ok" if current == head_revisions() else "pending"
    except Exception:
        checks.setdefault("database", "unreachable")
        checks.setdefault("migrations", "unknown")
    return ReadinessRead(status="ok" if all(v == "ok" for v in checks.values()) else "unavailable", checks=checks)
