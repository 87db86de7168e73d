"""rollups: monthly_uf_rollups, the monthly rollups summed over the categories

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

Per org, source, month and UF: the sum and count of the facts, maintained from `monthly_rollups` in the same
transaction (app/services/rollups.py). Indicators that filter or group by UF but neither filter nor group by category
read it for their whole months: one org-year is 12 x UFs x sources rows instead of 12 x UFs x categories x sources
(324 instead of 2,592 in the bench), which brings mapa-por-uf under 1 ms. Indexed by (organization_id, month) for
mapa-por-uf and by (organization_id, uf, month) for a UF filter, both covering on PostgreSQL.

A tenant table like the others: row-level security as in 0007, primary key (organization_id, id) on PostgreSQL as in
0018 (`id INTEGER PRIMARY KEY`, the rowid, on SQLite). Backfilled from `monthly_rollups`.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (migrations never import the app).
TABLE = "monthly_uf_rollups"
EXACT_DECIMAL = sa.Numeric(24, 6).with_variant(sa.BigInteger(), "sqlite")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INCLUDE = ["data_source_id", "uf", "total_value", "row_count"]
UF_INCLUDE = ["data_source_id", "total_value", "row_count"]
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
        sa.Column("uf", sa.String(length=2), nullable=True),
        sa.Column("total_value", EXACT_DECIMAL, nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*primary_key, name=op.f(f"pk_{TABLE}")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            f"ix_{TABLE}_org_month", ["organization_id", "month"], unique=False, postgresql_include=INCLUDE
        )
        batch_op.create_index(
            f"ix_{TABLE}_org_uf_month", ["organization_id", "uf", "month"], unique=False, postgresql_include=UF_INCLUDE
        )
        batch_op.create_index(
            f"ix_{TABLE}_org_source_month", ["organization_id", "data_source_id", "month"], unique=False
        )
    if postgres:
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {TABLE} USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})")
        # Forced RLS applies to the migrating owner too: the backfill reads and writes every org's rows.
        op.execute("SELECT set_config('app.all_orgs', 'on', true)")
    op.execute(
        f"INSERT INTO {TABLE} (organization_id, data_source_id, month, uf, total_value, row_count) "
        "SELECT organization_id, data_source_id, month, uf, SUM(total_value), SUM(row_count) FROM monthly_rollups "
        "GROUP BY organization_id, data_source_id, month, uf"
    )
    if postgres:
        op.execute("SELECT set_config('app.all_orgs', '', true)")


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(f"ix_{TABLE}_org_source_month")
        batch_op.drop_index(f"ix_{TABLE}_org_uf_month", postgresql_include=UF_INCLUDE)
        batch_op.drop_index(f"ix_{TABLE}_org_month", postgresql_include=INCLUDE)
    op.drop_table(TABLE)
