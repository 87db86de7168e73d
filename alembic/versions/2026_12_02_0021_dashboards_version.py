"""organizations.dashboards_version: bumped by triggers on every dashboard, widget and custom indicator write

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

A dashboard's data answer depends on its widgets and on the custom indicators they use, besides the org's data. The
request's first statement already reads the org's row (membership and data state), so carrying a version of those
definitions there lets a cached dashboard answer be found without reading the dashboard: the cache key holds the
version instead of the definitions.

Triggers keep it, not the application: every write path (the API, imports, duplicates, cascades from a deleted
dashboard, bulk statements, future code) bumps it in the same transaction, or the version would lie and a stale
answer would be served. Each row written bumps the org's version once (AFTER ... FOR EACH ROW); a dashboard with 20
widgets created in one request bumps it 21 times, in one transaction. PostgreSQL: one trigger function; SQLite: a
trigger per table and operation.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("dashboards", "widgets", "custom_indicators")
FUNCTION = "painel_bump_dashboards_version"
BUMP = "UPDATE organizations SET dashboards_version = dashboards_version + 1 WHERE id = {row}.organization_id"


def _trigger(table: str, operation: str = "") -> str:
    return f"painel_dashboards_version_{table}{'_' + operation.lower() if operation else ''}"


def upgrade() -> None:
    op.add_column("organizations", sa.Column("dashboards_version", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' THEN {BUMP.format(row='OLD')}; ELSE {BUMP.format(row='NEW')}; END IF; "
            "RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {_trigger(table)} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            )
        return
    for table in TABLES:
        for operation, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER {_trigger(table, operation)} AFTER {operation} ON {table} "
                f"BEGIN {BUMP.format(row=row)}; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {table}")
        else:
            for operation in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, operation)}")
    if postgres:
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("dashboards_version")
