"""unique data source names per org and type, so concurrent first uploads share one source

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sources created twice by the old race keep their data under a distinct name: "<name> (#<id>)".
    sources = sa.table(
        "data_sources", sa.column("id"), sa.column("organization_id"), sa.column("type"), sa.column("name")
    )
    keep = (
        sa.select(sa.func.min(sources.c.id))
        .group_by(sources.c.organization_id, sources.c.type, sources.c.name)
        .scalar_subquery()
    )
    duplicates = op.get_bind().execute(sa.select(sources.c.id, sources.c.name).where(sources.c.id.not_in(keep)))
    for source_id, name in duplicates.all():
        suffix = f" (#{source_id})"
        op.execute(sources.update().where(sources.c.id == source_id).values(name=name[: 200 - len(suffix)] + suffix))
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_data_sources_org_name")
        batch_op.create_index("uq_data_sources_org_type_name", ["organization_id", "type", "name"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_index("uq_data_sources_org_type_name")
        batch_op.create_index("ix_data_sources_org_name", ["organization_id", "name"], unique=False)
