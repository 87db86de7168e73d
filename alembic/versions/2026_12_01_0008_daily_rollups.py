"""daily rollups of the curated facts (per org, source, day, UF, category), backfilled from facts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the app's ExactDecimal storage: NUMERIC(24, 6), or a scaled BIGINT on SQLite.
EXACT_DECIMAL = sa.Numeric(24, 6).with_variant(sa.BigInteger(), "sqlite")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TENANT_ONLY = (  # the policy of 0007, copied for this new tenant table
    "organization_id = (SELECT NULLIF(current_setting('app.current_org', true), '')::int) "
    "OR (SELECT current_setting('app.all_orgs', true) = 'on')"
)


def upgrade() -> None:
    op.create_table(
        "daily_rollups",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("uf", sa.String(length=2), nullable=True),
        sa.Column("category", sa.String(length=255), nullable=True),
        sa.Column("total_value", EXACT_DECIMAL, nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("min_value", EXACT_DECIMAL, nullable=False),
        sa.Column("max_value", EXACT_DECIMAL, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_rollups")),
    )
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_daily_rollups_org_day",
            ["organization_id", "day"],
            unique=False,
            postgresql_include=["data_source_id", "uf", "category", "total_value", "row_count"],
        )
        batch_op.create_index(
            "ix_daily_rollups_org_source_day", ["organization_id", "data_source_id", "day"], unique=False
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE daily_rollups ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE daily_rollups FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON daily_rollups USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})")
        # Forced RLS applies to the migrating owner too: the backfill reads every org's facts.
        op.execute("SELECT set_config('app.all_orgs', 'on', true)")
    op.execute(
        "INSERT INTO daily_rollups (organization_id, data_source_id, day, uf, category, total_value, row_count, "
        "min_value, max_value) SELECT organization_id, data_source_id, date, uf, category, SUM(value), COUNT(*), "
        "MIN(value), MAX(value) FROM facts GROUP BY organization_id, data_source_id, date, uf, category"
    )
    if bind.dialect.name == "postgresql":
        op.execute("SELECT set_config('app.all_orgs', '', true)")


def downgrade() -> None:
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_rollups_org_source_day")
        batch_op.drop_index(
            "ix_daily_rollups_org_day",
            postgresql_include=["data_source_id", "uf", "category", "total_value", "row_count"],
        )
    op.drop_table("daily_rollups")
