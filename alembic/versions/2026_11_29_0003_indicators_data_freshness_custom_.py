"""indicators: data freshness, custom indicators, dashboards, widgets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:14:34.222070
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custom_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column(
            "parameters", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_custom_indicators_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_custom_indicators_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_indicators")),
    )
    with op.batch_alter_table("custom_indicators", schema=None) as batch_op:
        batch_op.create_index("ix_custom_indicators_org_name", ["organization_id", "name"], unique=True)

    op.create_table(
        "dashboards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_dashboards_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_dashboards_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboards")),
    )
    with op.batch_alter_table("dashboards", schema=None) as batch_op:
        batch_op.create_index("ix_dashboards_org_name", ["organization_id", "name"], unique=False)

    op.create_table(
        "widgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dashboard_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=True),
        sa.Column("custom_indicator_id", sa.Integer(), nullable=True),
        sa.Column(
            "params", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "position", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["custom_indicator_id"],
            ["custom_indicators.id"],
            name=op.f("fk_widgets_custom_indicator_id_custom_indicators"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["dashboard_id"], ["dashboards.id"], name=op.f("fk_widgets_dashboard_id_dashboards"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_widgets_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widgets")),
    )
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_widgets_org_dashboard", ["organization_id", "dashboard_id", "sort_order"], unique=False
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("data_updated_at", sa.DateTime(timezone=True), nullable=True))

    _create_tenant_facts_view()


# Custom indicators read `facts` through this schema: a security-barrier view holding only the rows of the
# org set in app.current_org, readable by a role that can read nothing else.
TENANT_SCHEMA = "painel_tenant"
READER_ROLE = "painel_tenant_reader"


def _create_tenant_facts_view() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    app_schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {TENANT_SCHEMA}")
    op.execute(
        f"CREATE VIEW {TENANT_SCHEMA}.facts WITH (security_barrier) AS "
        f"SELECT date, value, uf, category, attributes, data_source_id, batch_id FROM {app_schema}.facts "
        "WHERE organization_id = NULLIF(current_setting('app.current_org', true), '')::integer"
    )
    # Roles are cluster-wide and may already exist (another database); creating one needs CREATEROLE,
    # without which custom indicators still run through the view and the SQL validator.
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
                CREATE ROLE {READER_ROLE} NOLOGIN;
            END IF;
            EXECUTE 'GRANT USAGE ON SCHEMA {TENANT_SCHEMA} TO {READER_ROLE}';
            EXECUTE 'GRANT SELECT ON {TENANT_SCHEMA}.facts TO {READER_ROLE}';
            IF NOT pg_has_role(current_user, '{READER_ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {READER_ROLE} TO %I', current_user);
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'could not set up role {READER_ROLE}; custom indicators run without it';
        END $$;
    """)


def _drop_tenant_facts_view() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP VIEW IF EXISTS {TENANT_SCHEMA}.facts")
    op.execute(f"DROP SCHEMA IF EXISTS {TENANT_SCHEMA}")


def downgrade() -> None:
    _drop_tenant_facts_view()
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("data_updated_at")
        batch_op.drop_column("data_version")

    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.drop_index("ix_widgets_org_dashboard")

    op.drop_table("widgets")
    with op.batch_alter_table("dashboards", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboards_org_name")

    op.drop_table("dashboards")
    with op.batch_alter_table("custom_indicators", schema=None) as batch_op:
        batch_op.drop_index("ix_custom_indicators_org_name")

    op.drop_table("custom_indicators")
