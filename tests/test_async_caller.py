"""The user-token statement on the event loop (app/core/async_db.py, Postgres): read-only routes send it through the
lifespan's asyncio pool and answer as the thread path does (same tenant, same data state, same ETag); membership
changes count at once; row-level security applies to it; writes, API keys and a failing pool keep the thread path."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from app.core.async_db import CALLER_POOL, AsyncStatementPool
from app.core.config import get_settings
from app.core.db import get_engine, known_app_role, tenant_settings
from app.models import Membership
from app.services.tenancy import caller_state_async
from tests.conftest import all_orgs_session, is_postgres
from tests.ingest_helpers import Row, make_csv, upload

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


@pytest.fixture(autouse=True)
def _postgres_only():
    if not is_postgres():
        pytest.skip("the asyncio caller pool runs on Postgres only")


@contextmanager
def pool_calls():
    """The SQL the caller pool sends meanwhile."""
    sent: list[str] = []
    fetch_one = AsyncStatementPool.fetch_one

    async def recorded(pool, settings, sql, params):
        sent.append(sql)
        return await fetch_one(pool, settings, sql, params)

    AsyncStatementPool.fetch_one = recorded  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        AsyncStatementPool.fetch_one = fetch_one  # type: ignore[method-assign]


def _load(client: TestClient, org) -> None:
    rows = [Row(date(2025, 3, 10), Decimal("120.50"), "SP", "A"), Row(date(2025, 7, 1), Decimal("7"), "RJ", "B")]
    assert upload(client, org.headers(), make_csv(rows)).status_code == 201


def test_read_only_routes_use_the_pool_and_answer_as_the_thread_path(app, org_a, monkeypatch):
    with TestClient(app) as client:
        _load(client, org_a)
        with pool_calls() as sent:
            on_loop = client.get("/indicators/kpis", headers=org_a.headers("Viewer"), params=YEAR)
            states = client.get("/indicators/mapa-por-uf", headers=org_a.headers("Editor"), params=YEAR)
        assert len(sent) == 2 and all("memberships" in sql for sql in sent)
        assert states.status_code == 200
        monkeypatch.setattr(get_settings(), "ASYNC_CALLER", False)
    with TestClient(app) as client, pool_calls() as sent:  # a new lifespan: no pool, the thread path
        in_thread = client.get("/indicators/kpis", headers=org_a.headers("Viewer"), params=YEAR)
    assert sent == []
    assert on_loop.status_code == in_thread.status_code == 200
    assert on_loop.json() == in_thread.json() and on_loop.json()["current"]["total_value"] == 127.5
    # The ETag is built from the data state the statement read: both paths read the same one.
    assert on_loop.headers["ETag"] == in_thread.headers["ETag"]


def test_a_removed_member_is_refused_at_once(app, org_a):
    with TestClient(app) as client:
        headers = org_a.headers("Viewer")
        assert client.get("/indicators/kpis", headers=headers, params=YEAR).status_code == 200
        with all_orgs_session() as session:
            session.execute(delete(Membership).where(Membership.user_id == org_a.users["Viewer"]))
        with pool_calls() as sent:
            refused = client.get("/indicators/kpis", headers=headers, params=YEAR)
    assert len(sent) == 1
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "invalid_token"


def test_another_orgs_token_claim_is_refused(app, org_a, org_b):
    """A member of org A holding a token that names org B (signed, so only a server bug could mint it) is refused."""
    from app.core.security import create_access_token

    with TestClient(app) as client, pool_calls() as sent:
        token = create_access_token(org_a.users["Owner"], org_b.id)
        r = client.get("/indicators/kpis", headers={"Authorization": f"Bearer {token}"}, params=YEAR)
    assert len(sent) == 1 and r.status_code == 401


def test_writes_and_api_keys_keep_the_thread_path(app, org_a):
    with TestClient(app) as client:
        key = client.post("/api-keys", headers=org_a.headers("Admin"), json={"name": "k", "role": "Viewer"})
        assert key.status_code == 201, key.text
        with pool_calls() as sent:
            created = client.post("/dashboards", headers=org_a.headers("Editor"), json={"name": "Vendas"})
            by_key = client.get("/indicators/kpis", headers={"X-API-Key": key.json()["key"]}, params=YEAR)
    assert created.status_code == 201 and by_key.status_code == 200
    assert sent == []


def test_a_failing_pool_falls_back_to_the_thread_path(app, org_a, caplog):
    with TestClient(app) as client:
        pool: AsyncStatementPool = getattr(client.app.state, CALLER_POOL)
        client.portal.call(pool.close)  # on the app's event loop: the pool refuses every call from now on
        with caplog.at_level(logging.WARNING, logger="painel.auth"):
            r = client.get("/indicators/kpis", headers=org_a.headers("Viewer"), params=YEAR)
    assert r.status_code == 200 and r.json()["current"]["row_count"] == 0
    assert any("worker thread resolves the caller" in m for m in caplog.messages)


def test_row_level_security_applies_to_the_pools_statement(org_a, org_b):
    """As painel_app with org B's settings, org A's membership is invisible: the statement answers None."""
    engine = get_engine()
    with all_orgs_session() as session:  # a session finds out whether sessions switch to painel_app
        session.execute(select(Membership.id).limit(1))
    switch_role = known_app_role(engine.url)
    if not switch_role:
        pytest.skip("painel_app is not available on this database")
    user = org_a.users["Owner"]

    async def states():
        pool = AsyncStatementPool(get_settings().DATABASE_URL, 1)
        await pool.open()
        try:
            probe = await pool.fetch_one(
                tenant_settings(org_a.id, user, switch_role=True),
                "SELECT current_user, current_setting('app.current_org'), current_setting('app.current_user')",
                {},
            )
            own = await caller_state_async(
                pool, engine.dialect, tenant_settings(org_a.id, user, switch_role=True), user, org_a.id
            )
            other = await caller_state_async(
                pool, engine.dialect, tenant_settings(org_b.id, 0, switch_role=True), user, org_a.id
            )
            return probe, own, other
        finally:
            await pool.close()

    # In a thread of its own: the suite's browser tests may leave an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        probe, own, other = thread.submit(asyncio.run, states()).result()
    assert probe == ("painel_app", str(org_a.id), str(user))
    assert own is not None and own.role.value == "Owner"
    assert other is None
