"""Migrations: up from empty, down to base, and no drift between models and migrations."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from alembic import command
from app.core.db import get_engine
from app.models import Base
from app.services.health import alembic_config, head_revisions


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database on the same backend as the suite's."""
    url = get_engine().url
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{(tmp_path / 'scratch.db').as_posix()}"
        return
    name = f"painel_scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _cfg(url):
    cfg = alembic_config(url)
    cfg.attributes["configure_logger"] = False
    return cfg


def test_upgrade_downgrade_upgrade_from_empty(scratch_url):
    engine = create_engine(scratch_url)
    command.upgrade(_cfg(scratch_url), "head")
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    command.downgrade(_cfg(scratch_url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(_cfg(scratch_url), "head")
    with engine.connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == head_revisions()
    engine.dispose()


def test_models_and_migrations_do_not_drift():
    with get_engine().connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_every_tenant_table_has_an_org_index_leading_with_organization_id():
    insp = inspect(get_engine())
    for table in Base.metadata.sorted_tables:
        if "organization_id" not in table.c:
            continue
        leading = [ix["column_names"][0] for ix in insp.get_indexes(table.name)]
        leading += [uq["column_names"][0] for uq in insp.get_unique_constraints(table.name)]
        assert "organization_id" in leading, f"{table.name} has no index leading with organization_id"
