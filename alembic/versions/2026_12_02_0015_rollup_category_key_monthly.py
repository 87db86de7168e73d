"""rollups: a case- and accent-insensitive category key, and monthly rollups for the indicators

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

- `painel_category_key(text)` (Postgres; SQLite gets a Python twin on every app connection): accents and case
  folded with one translate table, whitespace runs made one space, trimmed.
- `daily_rollups.category_key`, backfilled, and the covering index including it.
- `monthly_rollups`: the daily rollups summed per month (row-level security like every tenant table), backfilled.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (migrations never import the app): the key's translate table and the column types.
KEY_FROM = "ÁÀÂÃÄÅáàâãäåÉÈÊËéèêëÍÌÎÏíìîïÓÒÔÕÖóòôõöÚÙÛÜúùûüÇçÑñÝýÿABCDEFGHIJKLMNOPQRSTUVWXYZ"
KEY_TO = "aaaaaaaaaaaaeeeeeeeeiiiiiiiioooooooooouuuuuuuuccnnyyyabcdefghijklmnopqrstuvwxyz"
EXACT_DECIMAL = sa.Numeric(24, 6).with_variant(sa.BigInteger(), "sqlite")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_INCLUDE = ["data_source_id", "uf", "category", "total_value", "row_count"]
INCLUDE = ["data_source_id", "uf", "category", "category_key", "total_value", "row_count"]
TENANT_ONLY = (  # the policy of 0007, copied for this new tenant table
    "organization_id = (SELECT NULLIF(current_setting('app.current_org', true), '')::int) "
    "OR (SELECT current_setting('app.all_orgs', true) = 'on')"
)
KEY_FUNCTION = (
    "CREATE OR REPLACE FUNCTION painel_category_key(value text) RETURNS text "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
    f"$$ SELECT btrim(regexp_replace(translate(value, '{KEY_FROM}', '{KEY_TO}'), '[ \\t\\r\\n]+', ' ', 'g'), ' ') $$"
)


def _key(value: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", value.translate(str.maketrans(KEY_FROM, KEY_TO))).strip(" ")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(KEY_FUNCTION)
        # Forced RLS applies to the migrating owner too: the backfills read and write every org's rows.
        op.execute("SELECT set_config('app.all_orgs', 'on', true)")
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category_key", sa.String(length=255), nullable=True))
        batch_op.drop_index("ix_daily_rollups_org_day", postgresql_include=OLD_INCLUDE)
        batch_op.create_index(
            "ix_daily_rollups_org_day", ["organization_id", "day"], unique=False, postgresql_include=INCLUDE
        )
    if postgres:
        op.execute("UPDATE daily_rollups SET category_key = painel_category_key(category) WHERE category IS NOT NULL")
    else:
        bind = op.get_bind()
        for (category,) in bind.execute(sa.text("SELECT DISTINCT category FROM daily_rollups")).all():
            if category is not None:
                bind.execute(
                    sa.text("UPDATE daily_rollups SET category_key = :k WHERE category = :c"),
                    {"k": _key(category), "c": category},
                )

    op.create_table(
        "monthly_rollups",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("uf", sa.String(length=2), nullable=True),
        sa.Column("category", sa.String(length=255), nullable=True),
        sa.Column("category_key", sa.String(length=255), nullable=True),
        sa.Column("total_value", EXACT_DECIMAL, nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("min_value", EXACT_DECIMAL, nullable=False),
        sa.Column("max_value", EXACT_DECIMAL, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_rollups")),
    )
    with op.batch_alter_table("monthly_rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monthly_rollups_org_month", ["organization_id", "month"], unique=False, postgresql_include=INCLUDE
        )
        batch_op.create_index(
            "ix_monthly_rollups_org_source_month", ["organization_id", "data_source_id", "month"], unique=False
        )
    if postgres:
        op.execute("ALTER TABLE monthly_rollups ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE monthly_rollups FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON monthly_rollups USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})"
        )
    month = "date_trunc('month', day)::date" if postgres else "date(day, 'start of month')"
    op.execute(
        "INSERT INTO monthly_rollups (organization_id, data_source_id, month, uf, category, category_key, "
        f"total_value, row_count, min_value, max_value) SELECT organization_id, data_source_id, {month}, uf, "
        "category, category_key, SUM(total_value), SUM(row_count), MIN(min_value), MAX(max_value) FROM daily_rollups "
        f"GROUP BY organization_id, data_source_id, {month}, uf, category, category_key"
    )
    if postgres:
        op.execute("SELECT set_config('app.all_orgs', '', true)")


def downgrade() -> None:
    with op.batch_alter_table("monthly_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_monthly_rollups_org_source_month")
        batch_op.drop_index("ix_monthly_rollups_org_month", postgresql_include=INCLUDE)
    op.drop_table("monthly_rollups")
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_rollups_org_day", postgresql_include=INCLUDE)
        batch_op.create_index(
            "ix_daily_rollups_org_day", ["organization_id", "day"], unique=False, postgresql_include=OLD_INCLUDE
        )
        batch_op.drop_column("category_key")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS painel_category_key(text)")
