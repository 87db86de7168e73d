"""The result cache: exact hits and misses (counted in statements sent to the database), invalidation by a new
batch, org and access-scope isolation, dashboard versions and custom definitions in the key, partial answers never
cached, one statement for membership and data state, and the Redis backend against the real local Redis."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select, update

from app.core.async_db import AsyncStatementPool
from app.core.config import get_settings
from app.core.db import get_engine, session_scope
from app.models import Organization, Role, Widget
from app.schemas.indicators import IndicatorQuery
from app.services import result_cache
from app.services.indicators import serving
from app.services.tenancy import Credential, EmbedScope, Tenant
from tests.conftest import require_service
from tests.ingest_helpers import Row, make_csv, upload

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


@contextmanager
def statements():
    """The statements the app sends to the database meanwhile, through SQLAlchemy or the caller's asyncio pool
    (Postgres), tenant settings left out."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "set_config(" not in statement:
            sent.append(statement)

    fetch_one = AsyncStatementPool.fetch_one

    async def recorded_fetch_one(pool, settings, sql, params):
        sent.append(sql)
        return await fetch_one(pool, settings, sql, params)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    AsyncStatementPool.fetch_one = recorded_fetch_one  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        AsyncStatementPool.fetch_one = fetch_one  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", record)


def rollup_reads(sent: list[str]) -> int:
    return sum("_rollups" in s for s in sent)


def load(client, org, value: str, filename="vendas.csv"):
    rows = [Row(date(2025, 3, 10), Decimal(value), "SP", "A"), Row(date(2025, 7, 1), Decimal(1), "RJ", "B")]
    assert upload(client, org.headers(), make_csv(rows), filename=filename).status_code == 201


def kpis(client, org, **params):
    r = client.get("/indicators/kpis", headers=org.headers("Viewer"), params={**YEAR, **params})
    assert r.status_code == 200, r.text
    return r


def test_hits_misses_and_invalidation_by_a_new_batch(client, org_a):
    load(client, org_a, "100")
    stats = result_cache.get_cache().stats
    with statements() as sent:
        first = kpis(client, org_a)
    assert rollup_reads(sent) == 1 and (stats.misses, stats.hits, stats.stores) == (1, 0, 1)
    with statements() as sent:
        again = kpis(client, org_a)
    # A hit: no rollup read, and one statement in all (membership, data version, settings and as_of together).
    assert rollup_reads(sent) == 0 and len(sent) == 1 and (stats.misses, stats.hits) == (1, 1)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    with statements() as sent:
        kpis(client, org_a, uf="SP")  # other parameters: another entry
    assert rollup_reads(sent) == 1 and (stats.misses, stats.hits) == (2, 1)
    load(client, org_a, "250", filename="outra.csv")  # a new batch bumps the data version: nothing stale
    with statements() as sent:
        fresh = kpis(client, org_a)
    assert rollup_reads(sent) == 1 and (stats.misses, stats.hits) == (3, 1)
    assert fresh.json()["current"]["total_value"] == 100 + 1 + 250 + 1
    assert fresh.headers["etag"] != first.headers["etag"]


def test_orgs_never_share_entries(client, org_a, org_b):
    load(client, org_a, "100")
    load(client, org_b, "7")
    a = kpis(client, org_a).json()
    b = kpis(client, org_b).json()  # same version number, same parameters: still its own entry
    assert a["current"]["total_value"] == 101 and b["current"]["total_value"] == 8
    assert result_cache.get_cache().stats.hits == 0


def test_access_scopes_never_share_entries(client, org_a):
    load(client, org_a, "100")
    kpis(client, org_a)
    stats = result_cache.get_cache().stats
    embed = Tenant(
        org_a.id, None, Role.VIEWER, credential=Credential.EMBED, embed=EmbedScope(dashboard_ids=frozenset({1}))
    )
    query = IndicatorQuery(start=date(2025, 1, 1), end=date(2025, 12, 31))
    with session_scope(org_a.id) as session:
        served = serving.serve_indicator(session, embed, "kpis", query)
        again = serving.serve_indicator(session, embed, "kpis", query)
        member = Tenant(org_a.id, org_a.users["Viewer"], Role.VIEWER)
        as_member = serving.serve_indicator(session, member, "kpis", query)
    assert (stats.misses, stats.hits) == (2, 2)  # the member's first request, the embed scope's own miss
    assert served.etag == again.etag != as_member.etag and served.body == as_member.body


def make_dashboard(client, org, widgets):
    r = client.post("/dashboards", headers=org.headers("Editor"), json={"name": "Painel", "widgets": widgets})
    assert r.status_code == 201, r.text
    return r.json()


def test_dashboard_entries_follow_the_dashboard_and_its_custom_definitions(client, org_a):
    load(client, org_a, "100")
    custom = client.post(
        "/indicators/custom",
        headers=org_a.headers("Admin"),
        json={"name": "soma", "sql": "SELECT SUM(value) AS total FROM facts"},
    ).json()
    d = make_dashboard(
        client,
        org_a,
        [{"title": "KPIs", "indicator": "kpis"}, {"title": "Soma", "custom_indicator_id": custom["id"]}],
    )
    url = f"/dashboards/{d['id']}/data"
    first = client.get(url, headers=org_a.headers(), params=YEAR)
    with statements() as sent:
        again = client.get(url, headers=org_a.headers(), params=YEAR)
    assert again.content == first.content and rollup_reads(sent) == 0
    # Editing the custom indicator changes the key and the ETag: the new SQL's answer, at once.
    edited = client.patch(
        f"/indicators/custom/{custom['id']}",
        headers=org_a.headers("Admin"),
        json={"sql": "SELECT COUNT(*) AS total FROM facts"},
    )
    assert edited.status_code == 200, edited.text
    changed = client.get(url, headers={**org_a.headers(), "If-None-Match": first.headers["etag"]}, params=YEAR)
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert changed.json()["widgets"][1]["data"]["rows"] == [{"total": 2}]
    # Editing the dashboard (a widget's title) changes it too.
    client.patch(
        f"/dashboards/{d['id']}",
        headers=org_a.headers("Editor"),
        json={"widgets": [{"title": "Renamed", "indicator": "kpis"}]},
    )
    renamed = client.get(url, headers=org_a.headers(), params=YEAR).json()
    assert [w["title"] for w in renamed["widgets"]] == ["Renamed"]


def dashboards_version(org) -> int:
    with session_scope(org.id) as session:
        return session.execute(select(Organization.dashboards_version).where(Organization.id == org.id)).scalar_one()


def test_a_dashboard_hit_reads_nothing_but_the_caller(client, org_a, org_b):
    load(client, org_a, "100")
    d = make_dashboard(
        client, org_a, [{"title": "KPIs", "indicator": "kpis"}, {"title": "UF", "indicator": "mapa-por-uf"}]
    )
    url = f"/dashboards/{d['id']}/data"
    first = client.get(url, headers=org_a.headers(), params=YEAR)
    assert first.json()["widgets"][0]["data"]["current"]["total_value"] == 101
    stats = result_cache.get_cache().stats
    hits = stats.hits
    with statements() as sent:
        again = client.get(url, headers=org_a.headers(), params=YEAR)
        unchanged = client.get(url, headers={**org_a.headers(), "If-None-Match": first.headers["etag"]}, params=YEAR)
    # The hit is the caller's one statement (membership and versions): no dashboard, widget or rollup read.
    assert len(sent) == 2 and all("dashboards_version" in s for s in sent), sent
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert unchanged.status_code == 304 and stats.hits == hits + 2  # both answered from the cache
    # Another org never meets the entry, nor learns the dashboard exists, even with its ETag.
    other = client.get(url, headers={**org_b.headers(), "If-None-Match": first.headers["etag"]}, params=YEAR)
    assert other.status_code == 404
    # A deleted dashboard's entry is never served: the delete bumps the version.
    assert client.delete(f"/dashboards/{d['id']}", headers=org_a.headers("Editor")).status_code == 204
    gone = client.get(url, headers={**org_a.headers(), "If-None-Match": first.headers["etag"]}, params=YEAR)
    assert gone.status_code == 404


def test_every_definition_write_bumps_the_dashboards_version(client, org_a, org_b):
    """Triggers keep the version: each write path, and a statement the application never makes, moves it; another
    org's version never moves."""
    admin, editor = org_a.headers("Admin"), org_a.headers("Editor")
    seen = [dashboards_version(org_a)]
    b_version = dashboards_version(org_b)

    def moved() -> None:
        now = dashboards_version(org_a)
        assert now > seen[-1], f"the version did not move after step {len(seen)}"
        seen.append(now)

    custom = client.post("/indicators/custom", headers=admin, json={"name": "n", "sql": "SELECT 1 AS x"}).json()
    moved()
    d = make_dashboard(client, org_a, [{"title": "Custom", "custom_indicator_id": custom["id"]}])
    moved()
    assert client.patch(f"/dashboards/{d['id']}", headers=editor, json={"name": "Outro"}).status_code == 200
    moved()
    widgets = [{"title": "KPIs", "indicator": "kpis", "params": {"uf": "SP"}}]
    assert client.patch(f"/dashboards/{d['id']}", headers=editor, json={"widgets": widgets}).status_code == 200
    moved()
    patched = client.patch(f"/indicators/custom/{custom['id']}", headers=admin, json={"sql": "SELECT 2 AS x"})
    assert patched.status_code == 200
    moved()
    copy = client.post(f"/dashboards/{d['id']}/duplicate", headers=editor)
    assert copy.status_code == 201
    moved()
    document = client.get(f"/dashboards/{d['id']}/export", headers=editor).json()
    assert client.post("/dashboards/import", headers=editor, json=document).status_code == 201
    moved()
    assert client.delete(f"/dashboards/{copy.json()['id']}", headers=editor).status_code == 204
    moved()
    assert client.delete(f"/indicators/custom/{custom['id']}", headers=admin).status_code == 204
    moved()
    with session_scope(org_a.id) as session:  # a bulk statement, outside every service
        session.execute(update(Widget).where(Widget.organization_id == org_a.id).values(title="direct"))
    moved()
    assert dashboards_version(org_b) == b_version


def test_partial_dashboard_answers_are_never_cached(client, org_a, monkeypatch):
    load(client, org_a, "100")
    d = make_dashboard(client, org_a, [{"title": "KPIs", "indicator": "kpis"}, {"title": "UF", "indicator": "kpis"}])
    monkeypatch.setattr(get_settings(), "DASHBOARD_DATA_DEADLINE_SECONDS", 1e-9)
    stores = result_cache.get_cache().stats.stores
    r = client.get(f"/dashboards/{d['id']}/data", headers=org_a.headers(), params=YEAR)
    codes = [w["error"]["code"] for w in r.json()["widgets"]]
    assert codes == ["deadline_exceeded", "deadline_exceeded"]
    assert "etag" not in r.headers and r.headers["cache-control"] == "no-store"
    assert result_cache.get_cache().stats.stores == stores
    monkeypatch.setattr(get_settings(), "DASHBOARD_DATA_DEADLINE_SECONDS", 15)
    whole = client.get(f"/dashboards/{d['id']}/data", headers=org_a.headers(), params=YEAR)
    assert all(w["error"] is None for w in whole.json()["widgets"]) and whole.headers["etag"]


def test_memory_cache_is_a_bounded_lru():
    cache = result_cache.MemoryCache(max_bytes=800)
    for n in range(10):
        cache.set(f"k{n}", b"x" * 100)
        cache.get("k0")  # k0 stays the most recently used
    assert cache.size <= 800 and cache.get("k0") is not None and cache.get("k1") is None
    cache.set("big", b"x" * 101)  # over an eighth of the cache: not kept
    assert cache.get("big") is None


def _redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_cache(monkeypatch):
    import redis

    prefix = f"painel-test-{uuid.uuid4().hex[:8]}:"
    cache = result_cache.RedisCache(_redis_url(), prefix, ttl_seconds=60, max_entry_bytes=1 << 20)
    try:
        cache.client.ping()
    except redis.RedisError as exc:
        require_service("Redis", f"{_redis_url()}: {exc}")
    monkeypatch.setattr(result_cache, "get_cache", lambda: cache)
    yield cache
    cache.clear()
    assert list(cache.client.scan_iter(match=prefix + "*")) == []
    cache.client.close()


def test_redis_backend_shares_entries_with_a_ttl(client, org_a, org_b, redis_cache):
    load(client, org_a, "100")
    first = kpis(client, org_a)
    keys = list(redis_cache.client.scan_iter(match=redis_cache.prefix + "*"))
    assert len(keys) == 1 and keys[0].decode().startswith(f"{redis_cache.prefix}{org_a.id}:indicator:")
    assert 0 < redis_cache.client.ttl(keys[0]) <= 60
    with statements() as sent:
        again = kpis(client, org_a)
    assert again.content == first.content and rollup_reads(sent) == 0 and redis_cache.stats.hits == 1
    load(client, org_b, "7")
    assert kpis(client, org_b).json()["current"]["total_value"] == 8  # its own entry
    load(client, org_a, "5", filename="outra.csv")
    assert kpis(client, org_a).json()["current"]["total_value"] == 107  # the new version's entry


def test_a_dashboard_hit_in_redis_reads_no_dashboard(client, org_a, org_b, redis_cache):
    load(client, org_a, "100")
    d = make_dashboard(client, org_a, [{"title": "KPIs", "indicator": "kpis"}])
    url = f"/dashboards/{d['id']}/data"
    first = client.get(url, headers=org_a.headers(), params=YEAR)
    assert first.json()["widgets"][0]["data"]["current"]["total_value"] == 101
    with statements() as sent:
        again = client.get(url, headers=org_a.headers(), params=YEAR)
    # The caller's statement, then Redis: no dashboard, widget or rollup read.
    assert len(sent) == 1 and "dashboards_version" in sent[0], sent
    assert again.content == first.content and redis_cache.stats.hits == 1
    assert client.get(url, headers=org_b.headers(), params=YEAR).status_code == 404
    assert client.delete(url.removesuffix("/data"), headers=org_a.headers("Editor")).status_code == 204
    assert client.get(url, headers=org_a.headers(), params=YEAR).status_code == 404


def test_an_unreachable_redis_only_makes_answers_uncached(client, org_a, monkeypatch):
    down = result_cache.RedisCache("redis://127.0.0.1:1/0", "painel-test-down:", 60, 1 << 20)
    monkeypatch.setattr(result_cache, "get_cache", lambda: down)
    load(client, org_a, "100")
    assert kpis(client, org_a).json()["current"]["total_value"] == 101
    assert kpis(client, org_a).json()["current"]["total_value"] == 101
    assert down.stats.errors == 4 and down.stats.hits == 0
