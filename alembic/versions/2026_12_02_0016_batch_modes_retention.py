"""ingestion batches: load mode, background progress, restores and retention

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

- `status` also takes `processing` (an upload answered 202 and loading in the background).
- `mode` (replace | append): how the batch landed in its source.
- `rows_processed`: rows read so far by a background load.
- `restored_at`: when the batch was last made current again (POST /ingest/batches/{id}/restore).
- `rows_purged_at`: when retention removed its staging and rejected rows (no longer restorable).
- An index for the retention job's scan (status, finished_at), across orgs.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the enums (migrations never import the app).
OLD_STATUSES = ("loaded", "superseded", "failed")
NEW_STATUSES = ("processing", "loaded", "superseded", "failed")
MODES = ("replace", "append")


def _status(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="batch_status", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("ingestion_batches", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=_status(OLD_STATUSES), type_=_status(NEW_STATUSES))
        batch_op.add_column(
            sa.Column(
                "mode",
                sa.Enum(*MODES, name="load_mode", native_enum=False, create_constraint=True, length=16),
                nullable=False,
                server_default="replace",
            )
        )
        batch_op.add_column(sa.Column("rows_processed", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rows_purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_ingestion_batches_status_finished", ["status", "finished_at"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT set_config('app.all_orgs', 'on', true)")  # forced RLS: reach every org's batches
    op.execute("UPDATE ingestion_batches SET status = 'failed' WHERE status = 'processing'")
    with op.batch_alter_table("ingestion_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_ingestion_batches_status_finished")
        batch_op.drop_column("rows_purged_at")
        batch_op.drop_column("restored_at")
        batch_op.drop_column("rows_processed")
        batch_op.drop_constraint("load_mode", type_="check")
        batch_op.drop_column("mode")
        batch_op.alter_column("status", existing_type=_status(NEW_STATUSES), type_=_status(OLD_STATUSES))
