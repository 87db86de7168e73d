"""Row-level security: the database keeps each org's rows apart even from a query without the org filter.

Row-level security is a PostgreSQL feature (SQLite has none): these tests run in the Postgres pass. The tables are
read from the live schema, so a new tenant table is covered (and must get rows below) without editing this file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.core.db import APP_ROLE, bind_org, bind_user, get_engine, get_session, session_scope
from app.services.tenancy import across_orgs
from tests.conftest import is_postgres
from tests.ingest_helpers import upload
from tests.routers.test_sheets import put_creds, service_account

pytestmark = pytest.mark.skipif(
    not is_postgres(), reason="row-level security is a PostgreSQL feature; these tests run in the Postgres pass"
)

TENANT_TABLES_SQL = (
    "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
    "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
    "AND a.attname = 'organization_id' AND NOT a.attisdropped ORDER BY c.relname"
)
CSV = "Data;Valor;UF;Categoria\r\n05/01/2025;1.234,56;SP;Eletrônicos\r\n31/02/2025;2,00;RJ;Livros\r\n"


def tenant_tables() -> list[str]:
    """Every table of the app schema with an organization_id column, from the live catalog."""
    with get_engine().connect() as conn:
        return list(conn.execute(text(TENANT_TABLES_SQL)).scalars())


@pytest.fixture
def request_session() -> Iterator[Session]:
    """A session from get_session, the request's unit of work (rolled back at the end)."""
    sessions = get_session()
    session = next(sessions)
    yield session
    session.rollback()
    sessions.close()


def _fill(client, org) -> None:
    """Rows in every tenant table for one org, through the API."""
    loaded = upload(client, org.headers(), CSV.encode("utf-8"), filename="vendas.csv").json()
    assert loaded["rows_loaded"] == 1 and loaded["rows_rejected"] == 1, loaded
    custom = client.post(
        "/indicators/custom",
        headers=org.headers("Admin"),
        json={"name": "Total", "sql": "SELECT SUM(value) AS total FROM facts", "parameters": []},
    ).json()
    position = {"x": 0, "y": 0, "w": 6, "h": 4}
    widgets = [
        {"title": "Mensal", "indicator": "valor-mes-a-mes", "params": {}, "position": position},
        {"title": "Total", "custom_indicator_id": custom["id"], "params": {}, "position": position},
    ]
    assert client.post("/dashboards", headers=org.headers(), json={"name": "D", "widgets": widgets}).status_code == 201
    run = client.post(f"/datasources/{loaded['data_source_id']}/run", headers=org.headers("Editor")).json()
    assert run["status"] == "skipped", run
    assert put_creds(client, org, service_account()).status_code in (200, 201, 204)
    key = client.post("/api-keys", headers=org.headers("Admin"), json={"name": "RLS", "role": "Viewer"})
    assert key.status_code == 201, key.text


@pytest.fixture
def everywhere(client, org_a, org_b) -> list[str]:
    """Rows of org A and org B in every tenant table; returns the tables."""
    _fill(client, org_a)
    _fill(client, org_b)
    tables = tenant_tables()
    with session_scope() as session, across_orgs(session):
        for table in tables:
            orgs = set(session.execute(text(f'SELECT DISTINCT organization_id FROM "{table}"')).scalars())
            assert orgs == {org_a.id, org_b.id}, f"give {table} rows of both orgs in _fill() to cover it"
    return tables


def test_every_tenant_table_has_forced_row_level_security_and_a_policy():
    with get_engine().connect() as conn:
        tables = tenant_tables()
        assert "facts" in tables and "memberships" in tables
        for table in tables:
            enabled, forced = conn.execute(
                text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = to_regclass(:t)"),
                {"t": f'"{table}"'},
            ).one()
            policies = conn.execute(
                text("SELECT qual FROM pg_policies WHERE schemaname = current_schema() AND tablename = :t"),
                {"t": table},
            ).scalars()
            assert enabled and forced and any("app.current_org" in (qual or "") for qual in policies), (
                f"{table} has an organization_id but no forced row-level security policy: copy the snippet at the "
                "top of alembic/versions/2026_12_01_0007_row_level_security.py into its migration"
            )


def test_sessions_run_as_the_app_role_which_owns_nothing_and_cannot_bypass(request_session, org_a):
    bind_org(request_session, org_a.id)
    assert request_session.execute(text("SELECT current_user")).scalar() == APP_ROLE
    superuser, bypass = request_session.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    owned = request_session.execute(text("SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole"))
    assert (superuser, bypass, owned.scalar()) == (False, False, 0)
    request_session.commit()
    # The next transaction of the same session switches again and keeps the org.
    row = request_session.execute(text("SELECT current_user, current_setting('app.current_org', true)")).one()
    assert tuple(row) == (APP_ROLE, str(org_a.id))
    with session_scope() as job:
        assert job.execute(text("SELECT current_user")).scalar() == APP_ROLE


def test_a_bound_session_sees_only_its_orgs_rows_in_every_tenant_table(everywhere, request_session, org_a):
    bind_org(request_session, org_a.id)
    for table in everywhere:
        # No WHERE clause: only the policy filters.
        orgs = set(request_session.execute(text(f'SELECT organization_id FROM "{table}"')).scalars())
        assert orgs == {org_a.id}, table


def test_no_org_bound_sees_nothing(everywhere, request_session):
    for table in everywhere:
        assert request_session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() == 0, table


def test_a_user_reads_only_their_own_memberships_across_orgs(everywhere, request_session, org_a, org_b):
    owner = org_a.users["Owner"]
    bind_user(request_session, owner)
    for table in everywhere:
        rows = request_session.execute(text(f'SELECT organization_id FROM "{table}"')).all()
        if table == "memberships":
            assert rows == [(org_a.id,)]
        else:
            assert rows == [], table
    # Reading is all it grants: the user's membership cannot be changed or deleted from another org.
    bind_org(request_session, org_b.id)
    deleted = request_session.execute(text("DELETE FROM memberships WHERE user_id = :u"), {"u": owner})
    assert deleted.rowcount == 0


APPEND_ONLY = {"audit_events"}  # the app role may insert and read, never change or delete


def test_writing_another_orgs_rows_fails(everywhere, request_session, org_a, org_b):
    bind_org(request_session, org_a.id)
    with pytest.raises(DBAPIError, match="row-level security"), request_session.begin_nested():
        request_session.execute(
            text(
                "INSERT INTO dashboards (organization_id, name, created_at, updated_at) VALUES (:o, 'x', now(), now())"
            ),
            {"o": org_b.id},
        )
    for table in sorted(set(everywhere) - APPEND_ONLY):
        # Moving the org's rows to another org violates WITH CHECK; the other org's rows cannot even be reached.
        with pytest.raises(DBAPIError, match="row-level security"), request_session.begin_nested():
            request_session.execute(text(f'UPDATE "{table}" SET organization_id = :o'), {"o": org_b.id})
        deleted = request_session.execute(text(f'DELETE FROM "{table}" WHERE organization_id = :o'), {"o": org_b.id})
        assert deleted.rowcount == 0, table


def test_the_audit_trail_is_append_only_for_the_app(everywhere, request_session, org_a):
    bind_org(request_session, org_a.id)
    assert request_session.execute(text("SELECT count(*) FROM audit_events")).scalar() > 0
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="permission denied"), request_session.begin_nested():
            request_session.execute(text(statement))


def test_across_orgs_reaches_every_org_only_inside_its_block(everywhere, org_a, org_b):
    with session_scope() as session:
        assert session.execute(text("SELECT count(*) FROM data_sources")).scalar() == 0
        with across_orgs(session):
            orgs = set(session.execute(text("SELECT organization_id FROM data_sources")).scalars())
            assert orgs == {org_a.id, org_b.id}
            session.commit()  # a new transaction inside the block keeps the exception
            assert session.execute(text("SELECT count(*) FROM data_sources")).scalar() == 2
        assert session.execute(text("SELECT count(*) FROM data_sources")).scalar() == 0
        session.commit()
        assert session.execute(text("SELECT count(*) FROM data_sources")).scalar() == 0
