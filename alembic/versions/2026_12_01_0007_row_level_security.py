"""row-level security: the database enforces the tenant too

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

On PostgreSQL (a no-op on SQLite) every table of the current schema with an `organization_id` column gets row-level
security, forced on its owner too, and a policy that lets a transaction see and write only the rows of the org in
`app.current_org` (set by app/core/db.py on every transaction). An unset org sees nothing. The one named exception
is `app.all_orgs = 'on'`, set only by `app.services.tenancy.across_orgs()` (the scheduler's cross-org reads).
`memberships` also lets a user read (never write) their own memberships in other orgs through `app.current_user`.

The app's sessions run as `painel_app` (SET LOCAL ROLE per transaction), a NOLOGIN role that owns nothing, so RLS
applies even when the app connects as a superuser; migrations keep running as the owner.

A later migration that adds a tenant table copies this right after creating it (tests/test_row_level_security.py
fails for any tenant table without it; painel_app's privileges on the table come from the default privileges set
here for tables created by the migrating user):

    if op.get_bind().dialect.name == "postgresql":
        tenant_only = (  # sub-selects: evaluated once per statement, not once per row
            "organization_id = (SELECT NULLIF(current_setting('app.current_org', true), '')::int) "
            "OR (SELECT current_setting('app.all_orgs', true) = 'on')"
        )
        op.execute("ALTER TABLE my_table ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE my_table FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON my_table USING ({tenant_only}) WITH CHECK ({tenant_only})")

(dropping the table in its downgrade drops the policy with it).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose (migrations never import the app); the app names the roles in app/core/db.py and
# app/services/indicators/custom.py.
APP_ROLE = "painel_app"
READER_ROLE = "painel_tenant_reader"  # created by 0003 for custom indicators
POLICY = "tenant_isolation"
OWN_MEMBERSHIPS_POLICY = "memberships_own_rows"
# Each setting is read in a scalar sub-select: Postgres evaluates it once per statement (an InitPlan) instead of
# once per row, which keeps the policy's cost on a 250,000-row index-only scan at ~7% instead of ~45%.
TENANT_ONLY = (
    "organization_id = (SELECT NULLIF(current_setting('app.current_org', true), '')::int) "
    "OR (SELECT current_setting('app.all_orgs', true) = 'on')"
)
OWN_MEMBERSHIPS = "user_id = (SELECT NULLIF(current_setting('app.current_user', true), '')::int)"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _tenant_tables() -> list[str]:
    """Every base table of the current schema with an organization_id column, as it is at migration time."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
        "AND a.attname = 'organization_id' AND NOT a.attisdropped ORDER BY c.relname"
    )
    return [name for (name,) in rows]


def _quote(name: str) -> str:
    return op.get_bind().dialect.identifier_preparer.quote(name)


def upgrade() -> None:
    if not _is_postgres():
        return
    for name in _tenant_tables():
        table = _quote(name)
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})")
        if name == "memberships":
            # Sign-in, /auth/me and switch-org read the user's memberships in every org. SELECT only: permissive
            # policies are OR-ed per command, so UPDATE and DELETE still see only the current org's rows.
            op.execute(f"DROP POLICY IF EXISTS {OWN_MEMBERSHIPS_POLICY} ON {table}")
            op.execute(f"CREATE POLICY {OWN_MEMBERSHIPS_POLICY} ON {table} FOR SELECT USING ({OWN_MEMBERSHIPS})")
    _create_app_role()


def _create_app_role() -> None:
    # Roles are cluster-wide (another database may have created them already): created idempotently, and only
    # when the migrating user may create roles; without the role the app keeps connecting as the owner, and FORCE
    # makes the policies apply to it all the same.
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
            IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', current_schema());
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {APP_ROLE}', current_schema());
            EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {APP_ROLE}', current_schema());
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                           'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}', current_schema());
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}',
                           current_schema());
            BEGIN
                -- COPY goes through a temporary table (COPY FROM refuses tables under RLS).
                EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO {APP_ROLE}', current_database());
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'could not grant TEMPORARY on the database to {APP_ROLE} (PUBLIC usually has it)';
            END;
            -- The audit trail is append-only for the app; the migration bookkeeping is the owner's alone.
            IF to_regclass(format('%I.audit_events', current_schema())) IS NOT NULL THEN
                EXECUTE format('REVOKE UPDATE, DELETE ON %I.audit_events FROM {APP_ROLE}', current_schema());
            END IF;
            IF to_regclass(format('%I.alembic_version', current_schema())) IS NOT NULL THEN
                EXECUTE format('REVOKE ALL ON %I.alembic_version FROM {APP_ROLE}', current_schema());
            END IF;
            BEGIN
                -- Custom indicators switch to the reader role from the app's role.
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}')
                   AND NOT pg_has_role('{APP_ROLE}', '{READER_ROLE}', 'MEMBER') THEN
                    GRANT {READER_ROLE} TO {APP_ROLE};
                END IF;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'could not grant {READER_ROLE} to {APP_ROLE}';
            END;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'could not set up role {APP_ROLE}; the app runs as the connecting user (RLS is forced on it)';
        END $$;
    """)


def downgrade() -> None:
    if not _is_postgres():
        return
    for name in _tenant_tables():
        table = _quote(name)
        op.execute(f"DROP POLICY IF EXISTS {OWN_MEMBERSHIPS_POLICY} ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    # The roles and their memberships stay: they are cluster-wide and other databases may use them. What this
    # database granted to painel_app goes, so the role holds nothing here (restart the app after downgrading: it
    # decides once per process whether to switch to the role).
    op.execute(f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                               'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}', current_schema());
                EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}',
                               current_schema());
                EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {APP_ROLE}', current_schema());
                EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM {APP_ROLE}', current_schema());
                EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {APP_ROLE}', current_schema());
                BEGIN
                    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM {APP_ROLE}', current_database());
                EXCEPTION WHEN insufficient_privilege THEN
                    NULL;
                END;
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'could not revoke the privileges of {APP_ROLE}';
        END $$;
    """)
