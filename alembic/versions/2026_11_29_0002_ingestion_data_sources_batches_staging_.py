"""ingestion: data sources, batches, staging, rejected rows, facts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:11:47.299178
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the app's ExactDecimal storage: NUMERIC(24, 6), or a scaled BIGINT on SQLite.
EXACT_DECIMAL = sa.Numeric(24, 6).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "data_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "sql",
                "csv_upload",
                "xlsx_upload",
                "google_sheets",
                name="source_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "config_json", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("is_recurring", sa.Boolean(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_data_sources_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_data_sources_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_sources")),
    )
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.create_index("ix_data_sources_org_name", ["organization_id", "name"], unique=False)

    op.create_table(
        "ingestion_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "loaded",
                "superseded",
                "failed",
                name="batch_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("rows_received", sa.Integer(), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_ingestion_batches_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["data_source_id"],
            ["data_sources.id"],
            name=op.f("fk_ingestion_batches_data_source_id_data_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ingestion_batches_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_batches")),
    )
    with op.batch_alter_table("ingestion_batches", schema=None) as batch_op:
        batch_op.create_index("ix_ingestion_batches_org_finished", ["organization_id", "finished_at"], unique=False)
        batch_op.create_index(
            "ix_ingestion_batches_org_source", ["organization_id", "data_source_id", "id"], unique=False
        )

    op.create_table(
        "facts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("value", EXACT_DECIMAL, nullable=False),
        sa.Column("uf", sa.String(length=2), nullable=True),
        sa.Column("category", sa.String(length=255), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facts")),
    )
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_facts_org_date",
            ["organization_id", "date"],
            unique=False,
            postgresql_include=["value", "uf", "category", "data_source_id"],
        )

    op.create_table(
        "rejected_rows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=255), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_rows")),
    )
    with op.batch_alter_table("rejected_rows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rejected_rows_org_batch_line", ["organization_id", "batch_id", "line_no"], unique=False
        )

    op.create_table(
        "staging_rows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("is_valid", sa.Boolean(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("value", EXACT_DECIMAL, nullable=True),
        sa.Column("uf", sa.String(length=2), nullable=True),
        sa.Column("category", sa.String(length=255), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staging_rows")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Vacuum after ~1% new rows, so fresh facts get index-only scans soon (default waits for 20%).
        op.execute(
            "ALTER TABLE facts SET (autovacuum_vacuum_insert_scale_factor = 0.01, "
            "autovacuum_analyze_scale_factor = 0.02)"
        )
        # Staging is an audit copy written in bulk; a crash may lose it but never the curated facts: skip WAL.
        op.execute("ALTER TABLE staging_rows SET UNLOGGED")
    with op.batch_alter_table("staging_rows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staging_rows_org_batch_line", ["organization_id", "batch_id", "line_no"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staging_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_staging_rows_org_batch_line")

    op.drop_table("staging_rows")
    with op.batch_alter_table("rejected_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_rejected_rows_org_batch_line")

    op.drop_table("rejected_rows")
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_index("ix_facts_org_date", postgresql_include=["value", "uf", "category", "data_source_id"])

    op.drop_table("facts")
    with op.batch_alter_table("ingestion_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_ingestion_batches_org_source")
        batch_op.drop_index("ix_ingestion_batches_org_finished")

    op.drop_table("ingestion_batches")
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_data_sources_org_name")

    op.drop_table("data_sources")
