"""Migrations: up from empty, down to base, and no drift between models and migrations."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, ForeignKeyConstraint, Integer, MetaData, Table, create_engine, inspect, text

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


def _is_sqlite_form_of_org_key(fk: ForeignKeyConstraint, other: ForeignKeyConstraint | None) -> bool:
    """Whether one of two same-named foreign keys is the other without organization_id: a composite key between
    tenant tables in the models, kept single-column on SQLite (migration 0018), where ON DELETE SET NULL has no
    column list."""
    if other is None or fk.name != other.name:
        return False
    model, table = (fk, other) if len(fk.columns) > len(other.columns) else (other, fk)

    def shape(c: ForeignKeyConstraint) -> tuple[list[str], str, list[str], str | None]:
        ondelete = c.ondelete.split("(")[0].strip() if c.ondelete else None
        return list(c.column_keys), c.referred_table.name, [e.column.name for e in c.elements], ondelete

    local, referred, remote, ondelete = shape(table)
    return shape(model) == (["organization_id", *local], referred, ["organization_id", *remote], ondelete)


def _compared_on_this_backend(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "foreign_key_constraint" and get_engine().dialect.name == "sqlite":
        return not _is_sqlite_form_of_org_key(obj, compare_to)
    return True


def test_models_and_migrations_do_not_drift():
    with get_engine().connect() as conn:
        opts = {"compare_type": True, "include_object": _compared_on_this_backend}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_the_sqlite_exception_of_the_drift_check_is_exact():
    """Only the org-less twin of a model's composite key is accepted: another column or action is still drift."""
    widgets = Base.metadata.tables["widgets"]
    (model_fk,) = [fk for fk in widgets.foreign_key_constraints if fk.name == "fk_widgets_dashboard_id_dashboards"]

    def single(column: str, ondelete: str, name: str = "fk_widgets_dashboard_id_dashboards") -> ForeignKeyConstraint:
        table = Table("widgets", MetaData(), Column(column, Integer))
        Table("dashboards", table.metadata, Column("id", Integer))
        fk = ForeignKeyConstraint([column], ["dashboards.id"], name=name, ondelete=ondelete)
        table.append_constraint(fk)
        return fk

    assert _is_sqlite_form_of_org_key(single("dashboard_id", "CASCADE"), model_fk)
    assert _is_sqlite_form_of_org_key(model_fk, single("dashboard_id", "CASCADE"))
    assert not _is_sqlite_form_of_org_key(single("dashboard_id", "SET NULL"), model_fk)
    assert not _is_sqlite_form_of_org_key(single("sort_order", "CASCADE"), model_fk)
    assert not _is_sqlite_form_of_org_key(single("dashboard_id", "CASCADE", name="fk_other"), model_fk)
    assert not _is_sqlite_form_of_org_key(model_fk, None)


def test_every_tenant_table_has_an_org_index_leading_with_organization_id():
    insp = inspect(get_engine())
    for table in Base.metadata.sorted_tables:
        if "organization_id" not in table.c:
            continue
        leading = [ix["column_names"][0] for ix in insp.get_indexes(table.name)]
        leading += [uq["column_names"][0] for uq in insp.get_unique_constraints(table.name)]
        assert "organization_id" in leading, f"{table.name} has no index leading with organization_id"
