"""The request session's round trips on Postgres: the tenant settings travel with the statements instead of as
statements of their own, and row-level security still applies to every statement.

- A read-only route (the indicators, dashboard data) runs on an autocommit connection: every statement it sends
  is its own transaction and carries the role switch and the caller's org and user (what the database actually
  received, from psycopg2's cursor.query).
- Any other route runs in one transaction whose first statement carries the settings.
- Org B's read-only request sees nothing of org A."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from psycopg import AsyncClientCursor
from sqlalchemy import event

from app.core.db import APP_ROLE, get_engine
from tests.conftest import is_postgres
from tests.ingest_helpers import Row, make_csv, upload

pytestmark = pytest.mark.skipif(not is_postgres(), reason="row-level security and its settings are Postgres-only")

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


@contextmanager
def sent_to_database():
    """(autocommit?, the exact text the database received) of every statement meanwhile: through SQLAlchemy, and
    through the caller's asyncio pool (psycopg 3 binds client-side, so mogrify() is the text sent)."""
    sent: list[tuple[bool, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((cursor.connection.autocommit, cursor.query.decode()))

    execute = AsyncClientCursor.execute

    async def recorded_execute(cursor, query, params=None, **options):
        sent.append((cursor.connection.autocommit, cursor.mogrify(query, params)))
        return await execute(cursor, query, params, **options)

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", record)
    AsyncClientCursor.execute = recorded_execute  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        AsyncClientCursor.execute = execute  # type: ignore[method-assign]
        event.remove(engine, "after_cursor_execute", record)


def settings_of(org_id: int, user_id: int) -> str:
    return (
        f"SELECT set_config('role', '{APP_ROLE}', true), set_config('app.current_org', '{org_id}', true), "
        f"set_config('app.current_user', '{user_id}', true); "
    )


def load(client, org) -> None:
    rows = [Row(date(2025, 3, 10), Decimal("100"), "SP", "A"), Row(date(2025, 7, 1), Decimal("1"), "RJ", "B")]
    assert upload(client, org.headers(), make_csv(rows)).status_code == 201


def test_a_read_only_route_sends_every_statement_with_the_callers_settings(client, org_a):
    load(client, org_a)
    with sent_to_database() as sent:
        answer = client.get("/indicators/kpis", headers=org_a.headers("Viewer"), params=YEAR)
    assert answer.status_code == 200, answer.text
    assert answer.json()["current"]["total_value"] == 100 + 1
    prefix = settings_of(org_a.id, org_a.users["Viewer"])
    # A miss: membership and data state, then the rollups; each its own transaction, each with the settings.
    assert len(sent) >= 2
    assert all(autocommit for autocommit, _ in sent), sent
    assert all(query.startswith(prefix) for _, query in sent), sent
    assert any("_rollups" in query for _, query in sent)  # the monthly or per-category monthly ones
    with sent_to_database() as sent:
        again = client.get("/indicators/kpis", headers=org_a.headers("Viewer"), params=YEAR)
    assert again.content == answer.content
    assert len(sent) == 1 and sent[0][1].startswith(prefix)  # a hit: one round trip in all


def test_other_routes_send_the_settings_once_with_the_transactions_first_statement(client, org_a):
    with sent_to_database() as sent:
        created = client.post("/dashboards", headers=org_a.headers("Editor"), json={"name": "D", "widgets": []})
    assert created.status_code == 201, created.text
    assert sent and not any(autocommit for autocommit, _ in sent)
    prefix = settings_of(org_a.id, org_a.users["Editor"])
    assert sent[0][1].startswith(prefix)
    assert not any("set_config(" in query for _, query in sent[1:]), sent


def test_another_orgs_read_only_request_sees_none_of_its_rows(client, org_a, org_b):
    load(client, org_a)
    mine = client.get("/indicators/kpis", headers=org_a.headers("Viewer"), params=YEAR).json()
    theirs = client.get("/indicators/kpis", headers=org_b.headers("Viewer"), params=YEAR).json()
    assert mine["current"]["row_count"] == 2
    assert theirs["current"]["row_count"] == 0 and theirs["current"]["total_value"] == 0
