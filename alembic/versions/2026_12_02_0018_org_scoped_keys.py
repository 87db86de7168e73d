"""tenant keys carry the org: primary keys (organization_id, id) and composite foreign keys between tenant tables

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

What Citus needs to distribute every tenant table by `organization_id` and keep an org's rows on one node
(docs/SCALING.md): every primary key and unique constraint of a tenant table includes `organization_id` (the unique
constraints and unique indexes already do: `uq_memberships_org_user`, `ix_custom_indicators_org_name`,
`uq_data_sources_org_type_name`, `ix_google_credentials_org`, `ix_api_keys_org_public_id`), and a foreign key from
one tenant table to another carries it too, so a row can only point at a row of its own org.

On PostgreSQL, for each tenant table below, the primary key `(id)` becomes `(organization_id, id)` (same name; `id`
keeps its sequence, and every lookup by id is scoped by org in app/services/tenancy.py), and the five foreign keys
between tenant tables become `(organization_id, x_id) REFERENCES t (organization_id, id)` (same names). The one that
nulled its column on delete now says `ON DELETE SET NULL (batch_id)` (PostgreSQL 15): deleting a batch forgets it in
its runs, never their org. References to the reference tables (organizations, users) are unchanged, and so are the
row-level security policies of 0007 (they read `organization_id`, not the keys).

SQLite is left as it is: it cannot autoincrement a composite primary key, so `id INTEGER PRIMARY KEY` (the rowid)
stays, with the single-column foreign keys; the models declare the PostgreSQL keys and the ORM works on both
(tests/test_migrations.py accepts exactly these five differences on SQLite).

Under load, each ALTER TABLE holds an ACCESS EXCLUSIVE lock while it builds the new primary key index: on a large
`facts`, run it in a maintenance window.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (migrations never import the app): the tenant tables as they are at this revision, parents first.
TENANT_TABLES = [
    "memberships",
    "data_sources",
    "ingestion_batches",
    "staging_rows",
    "rejected_rows",
    "facts",
    "daily_rollups",
    "monthly_rollups",
    "custom_indicators",
    "dashboards",
    "widgets",
    "google_credentials",
    "job_runs",
    "audit_events",
    "api_keys",
]
# (table, column, referred table, ON DELETE after this revision, ON DELETE before it)
TENANT_FOREIGN_KEYS = [
    ("ingestion_batches", "data_source_id", "data_sources", "CASCADE", "CASCADE"),
    ("widgets", "dashboard_id", "dashboards", "CASCADE", "CASCADE"),
    ("widgets", "custom_indicator_id", "custom_indicators", "RESTRICT", "RESTRICT"),
    ("job_runs", "data_source_id", "data_sources", "CASCADE", "CASCADE"),
    ("job_runs", "batch_id", "ingestion_batches", "SET NULL (batch_id)", "SET NULL"),
]


def _fk_name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def _drop_foreign_keys() -> None:
    for table, column, referred, _, _ in TENANT_FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_fk_name(table, column, referred)}")


def _set_primary_keys(columns: str) -> None:
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, ADD CONSTRAINT pk_{table} PRIMARY KEY ({columns})")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _drop_foreign_keys()  # they depend on the referred tables' primary key indexes
    _set_primary_keys("organization_id, id")
    for table, column, referred, ondelete, _ in TENANT_FOREIGN_KEYS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_fk_name(table, column, referred)} FOREIGN KEY "
            f"(organization_id, {column}) REFERENCES {referred} (organization_id, id) ON DELETE {ondelete}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _drop_foreign_keys()
    _set_primary_keys("id")
    for table, column, referred, _, ondelete in TENANT_FOREIGN_KEYS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_fk_name(table, column, referred)} FOREIGN KEY "
            f"({column}) REFERENCES {referred} (id) ON DELETE {ondelete}"
        )
