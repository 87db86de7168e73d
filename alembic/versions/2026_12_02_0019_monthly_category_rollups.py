"""rollups: monthly_category_rollups, the monthly rollups summed over the UFs; monthly_rollups by UF

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

Per org, source, month and category (with its key): the sum and count of the facts, maintained from
`monthly_rollups` in the same transaction (app/services/rollups.py). Indicators that neither filter nor group by
UF read it for their whole months: one org-year is 12 x categories x sources rows instead of 12 x UFs x categories
x sources (96 instead of 2,592 in the bench), which brings kpis (two periods) under 1 ms.

`monthly_rollups` gets a covering index led by (organization_id, uf, month), so a UF filter reads that UF's rows
only (kpis for one UF and org-year: 5,400 rows scanned and filtered -> 200). CREATE INDEX blocks writes to the table
while it builds: the whole upgrade took 2 s over 517,827 monthly rows on the bench machine.

The new table is a tenant table like the others: row-level security as in 0007, primary key (organization_id, id)
on PostgreSQL as in 0018 (`id INTEGER PRIMARY KEY`, the rowid, on SQLite). Backfilled from `monthly_rollups`.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (migrations never import the app).
TABLE = "monthly_category_rollups"
EXACT_DECIMAL = sa.Numeric(24, 6).with_variant(sa.BigInteger(), "sqlite")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INCLUDE = ["data_source_id", "category", "category_key", "total_value", "row_count"]
UF_INDEX = "ix_monthly_rollups_org_uf_month"
TENANT_ONLY = (  # the policy of 0007, copied for this new tenant table
    "organization_id = (SELECT NULLIF(current_setting('app.current_org', true), '')::int) "
    "OR (SELECT current_setting('app.all_orgs', true) = 'on')"
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # SQLite cannot autoincrement a composite primary key: it keeps the rowid (see 0018).
    primary_key = ("organization_id", "id") if postgres else ("id",)
    op.create_table(
        TABLE,
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=255), nullable=True),
        sa.Column("category_key", sa.String(length=255), nullable=True),
        sa.Column("total_value", EXACT_DECIMAL, nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*primary_key, name=op.f(f"pk_{TABLE}")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            f"ix_{TABLE}_org_month", ["organization_id", "month"], unique=False, postgresql_include=INCLUDE
        )
        batch_op.create_index(
            f"ix_{TABLE}_org_source_month", ["organization_id", "data_source_id", "month"], unique=False
        )
    with op.batch_alter_table("monthly_rollups", schema=None) as batch_op:
        batch_op.create_index(UF_INDEX, ["organization_id", "uf", "month"], unique=False, postgresql_include=INCLUDE)
    if postgres:
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {TABLE} USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})")
        # Forced RLS applies to the migrating owner too: the backfill reads and writes every org's rows.
        op.execute("SELECT set_config('app.all_orgs', 'on', true)")
    op.execute(
        f"INSERT INTO {TABLE} (organization_id, data_source_id, month, category, category_key, total_value, "
        "row_count) SELECT organization_id, data_source_id, month, category, category_key, SUM(total_value), "
        "SUM(row_count) FROM monthly_rollups "
        "GROUP BY organization_id, data_source_id, month, category, category_key"
    )
    if postgres:
        op.execute("SELECT set_config('app.all_orgs', '', true)")


def downgrade() -> None:
    with op.batch_alter_table("monthly_rollups", schema=None) as batch_op:
        batch_op.drop_index(UF_INDEX, postgresql_include=INCLUDE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(f"ix_{TABLE}_org_source_month")
        batch_op.drop_index(f"ix_{TABLE}_org_month", postgresql_include=INCLUDE)
    op.drop_table(TABLE)
