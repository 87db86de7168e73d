"""Embed tokens: exactly their dashboards, with their locked filters, and nothing else; two tenants apart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from app.core.security import (
    EmbedClaims,
    TokenError,
    create_access_token,
    decode_access_token,
    decode_embed_token,
    sign_embed_token,
)
from tests.ingest_helpers import Row, make_csv, upload

ROWS = [
    Row(date(2025, m, 10), Decimal(m * 100 + i) + Decimal("0.25"), uf, "A" if m % 2 else "B")
    for m in range(1, 13)
    for i, uf in enumerate(("SP", "RJ", "MG"))
]
LOCK = {"uf": "SP", "category": "A", "from": "2025-03-01", "to": "2025-08-31"}
BY_UF_SQL = {
    "name": "Total filtrado",
    "sql": "SELECT SUM(value) AS total, COUNT(*) AS n FROM facts "
    "WHERE uf = :uf AND category = :category AND date BETWEEN :start AND :end",
    "parameters": [
        {"name": "uf", "type": "string"},
        {"name": "category", "type": "string"},
        {"name": "start", "type": "date"},
        {"name": "end", "type": "date"},
    ],
}
UNFILTERED_SQL = {"name": "Tudo", "sql": "SELECT SUM(value) AS total FROM facts", "parameters": []}
POSITION = {"x": 0, "y": 0, "w": 4, "h": 3}


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def expected_total(uf=None, category=None, start=date(1900, 1, 1), end=date(2199, 12, 31)) -> float:
    rows = [r for r in ROWS if (uf is None or r.uf == uf) and (category is None or r.category == category)]
    return money(sum((r.value for r in rows if start <= r.day <= end), Decimal(0)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_dashboard(client, org, name="Vendas", custom=True):
    widgets = [
        # The widget asks for RJ: an embed token's locked uf must win over it.
        {"title": "KPIs", "indicator": "kpis", "params": {"uf": "RJ"}, "position": POSITION},
        {"title": "Mapa", "indicator": "mapa-por-uf", "params": {}, "position": POSITION},
    ]
    if custom:
        ids = [
            client.post("/indicators/custom", headers=org.headers("Admin"), json=body).json()["id"]
            for body in (BY_UF_SQL, UNFILTERED_SQL)
        ]
        widgets += [
            {"title": "Filtrado", "custom_indicator_id": ids[0], "params": {"uf": "RJ", "category": "B"}},
            {"title": "Tudo", "custom_indicator_id": ids[1], "params": {}},
        ]
    r = client.post("/dashboards", headers=org.headers("Editor"), json={"name": name, "widgets": widgets})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def loaded(client, org_a):
    r = upload(client, org_a.headers(), make_csv(ROWS))
    assert r.status_code in (200, 201) and r.json()["rows_loaded"] == len(ROWS), r.text
    return r.json()


def mint(client, org, dashboard_ids, filters=None, role="Editor", **extra):
    body = {"dashboard_ids": dashboard_ids, "filters": filters or {}, **extra}
    r = client.post("/embed/tokens", headers=org.headers(role), json=body)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def widgets_by_title(answer):
    return {w["title"]: w for w in answer["widgets"]}


def test_minting_answers_a_token_and_its_expiry(client, org_a, loaded):
    dash = make_dashboard(client, org_a, custom=False)
    r = client.post(
        "/embed/tokens", headers=org_a.headers("Editor"), json={"dashboard_ids": [dash["id"]], "expires_in": 600}
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    expires = datetime.fromisoformat(r.json()["expires_at"])
    assert timedelta(seconds=590) < expires - datetime.now(UTC) <= timedelta(seconds=600)
    assert (
        client.post("/embed/tokens", headers=org_a.headers("Viewer"), json={"dashboard_ids": [dash["id"]]}).status_code
        == 403
    )
    for bad in (
        {"expires_in": 59},
        {"expires_in": 86401},
        {"dashboard_ids": []},
        {"filters": {"from": "2025-01-01"}},
        {"filters": {"uf": "S1"}},
        {"filters": {"from": "2025-02-01", "to": "2025-01-01"}},
    ):
        body = {"dashboard_ids": [dash["id"]], **bad}
        assert client.post("/embed/tokens", headers=org_a.headers(), json=body).status_code == 422, bad


def test_the_token_reads_exactly_its_dashboards_with_its_locked_filters(client, org_a, loaded):
    dash = make_dashboard(client, org_a)
    other = make_dashboard(client, org_a, name="Outro", custom=False)
    token = mint(client, org_a, [dash["id"]], LOCK)
    as_user = client.get(f"/dashboards/{dash['id']}", headers=org_a.headers("Viewer")).json()
    assert client.get(f"/dashboards/{dash['id']}", headers=bearer(token)).json() == as_user
    data = client.get(f"/dashboards/{dash['id']}/data", headers=bearer(token))
    assert data.status_code == 200, data.text
    answer = data.json()
    assert (answer["from"], answer["to"]) == (LOCK["from"], LOCK["to"])  # no range asked: the locked one
    w = widgets_by_title(answer)
    start, end = date(2025, 3, 1), date(2025, 8, 31)
    total = expected_total("SP", "A", start, end)
    assert total > 0 and w["KPIs"]["data"]["current"]["total_value"] == total  # the widget's uf=RJ is overridden
    # The same numbers as the indicator computed with those filters.
    query = {"from": LOCK["from"], "to": LOCK["to"], "uf": "SP", "category": "A"}
    indicator = client.get("/indicators/kpis", headers=org_a.headers("Viewer"), params=query).json()
    assert w["KPIs"]["data"]["current"] == indicator["current"]
    mapa = {row["uf"]: row["value"] for row in w["Mapa"]["data"]["items"] if row["value"]}
    assert mapa == {"SP": total}
    # Custom SQL declaring every locked parameter runs with the locked values (not the widget's RJ/B).
    assert w["Filtrado"]["error"] is None
    assert w["Filtrado"]["data"]["rows"][0]["n"] == len(
        [r for r in ROWS if r.uf == "SP" and r.category == "A" and start <= r.day <= end]
    )
    assert float(w["Filtrado"]["data"]["rows"][0]["total"]) == total
    # Custom SQL that could read outside the lock is not run.
    assert w["Tudo"]["data"] is None and w["Tudo"]["error"]["code"] == "embed_filter_unsupported"
    # Nothing else: another dashboard of the same org, its export, the lists, other reads and writes.
    headers = bearer(token)
    assert client.get(f"/dashboards/{other['id']}", headers=headers).status_code == 404
    assert client.get(f"/dashboards/{other['id']}/data", headers=headers).status_code == 404
    for method, path in [
        ("GET", f"/dashboards/{dash['id']}/export"),
        ("GET", "/dashboards"),
        ("GET", "/indicators/kpis?from=2025-01-01&to=2025-12-31"),
        ("GET", f"/indicators/custom/{dash['widgets'][3]['custom_indicator_id']}/run"),
        ("PATCH", f"/dashboards/{dash['id']}"),
        ("POST", "/embed/tokens"),
        ("GET", "/auth/me"),
    ]:
        r = client.request(method, path, headers=headers, json={})
        assert (r.status_code, r.json()["code"]) == (403, "embed_token_not_allowed"), (path, r.text)


def test_a_query_cannot_widen_the_locked_range(client, org_a, loaded):
    dash = make_dashboard(client, org_a, custom=False)
    token = mint(client, org_a, [dash["id"]], LOCK)
    url = f"/dashboards/{dash['id']}/data"

    def asked(start, end):
        answer = client.get(url, headers=bearer(token), params={"from": start, "to": end}).json()
        assert "from" in answer, answer
        return answer["from"], answer["to"], widgets_by_title(answer)["KPIs"]["data"]["current"]["total_value"]

    # Wider: clamped to the lock. Inside: as asked. Overlapping: the intersection. Wholly outside: the lock.
    assert asked("2024-01-01", "2026-12-31") == (
        "2025-03-01",
        "2025-08-31",
        expected_total("SP", "A", date(2025, 3, 1), date(2025, 8, 31)),
    )
    assert asked("2025-05-01", "2025-05-31") == (
        "2025-05-01",
        "2025-05-31",
        expected_total("SP", "A", date(2025, 5, 1), date(2025, 5, 31)),
    )
    assert asked("2025-07-01", "2025-12-31") == (
        "2025-07-01",
        "2025-08-31",
        expected_total("SP", "A", date(2025, 7, 1), date(2025, 8, 31)),
    )
    assert asked("2025-10-01", "2025-12-31") == (
        "2025-03-01",
        "2025-08-31",
        expected_total("SP", "A", date(2025, 3, 1), date(2025, 8, 31)),
    )
    bad = client.get(url, headers=bearer(token), params={"from": "2025-06-01", "to": "2025-01-01"})
    assert bad.status_code == 422  # an invalid range is refused, not silently replaced


def test_without_locks_the_token_reads_like_a_viewer_and_custom_sql_runs(client, org_a, loaded):
    dash = make_dashboard(client, org_a)
    token = mint(client, org_a, [dash["id"]])
    params = {"from": "2025-01-01", "to": "2025-12-31"}
    as_token = client.get(f"/dashboards/{dash['id']}/data", headers=bearer(token), params=params).json()
    as_viewer = client.get(f"/dashboards/{dash['id']}/data", headers=org_a.headers("Viewer"), params=params).json()
    assert as_token == as_viewer
    assert widgets_by_title(as_token)["Tudo"]["data"]["rows"][0]["total"] is not None


def test_etags_are_keyed_by_the_token_scope(client, org_a, loaded):
    dash = make_dashboard(client, org_a, custom=False)
    sp = mint(client, org_a, [dash["id"]], {"uf": "SP"})
    rj = mint(client, org_a, [dash["id"]], {"uf": "RJ"})
    url, params = f"/dashboards/{dash['id']}/data", {"from": "2025-01-01", "to": "2025-12-31"}
    answers = {
        name: client.get(url, headers=headers, params=params)
        for name, headers in (("user", org_a.headers("Viewer")), ("sp", bearer(sp)), ("rj", bearer(rj)))
    }
    tags = {name: r.headers["etag"] for name, r in answers.items()}
    assert len(set(tags.values())) == 3
    totals = {name: widgets_by_title(r.json())["KPIs"]["data"]["current"]["total_value"] for name, r in answers.items()}
    assert totals["sp"] == expected_total("SP") and totals["rj"] == expected_total("RJ")
    # Another scope's ETag never validates: the SP token sent the user's or RJ's tag gets a full answer.
    for other in ("user", "rj"):
        r = client.get(url, headers={**bearer(sp), "If-None-Match": tags[other]}, params=params)
        assert (
            r.status_code == 200
            and widgets_by_title(r.json())["KPIs"]["data"]["current"]["total_value"] == totals["sp"]
        )
    assert client.get(url, headers={**bearer(sp), "If-None-Match": tags["sp"]}, params=params).status_code == 304
    # A second token with the same scope shares its ETag (the scope, not the token, keys the cache).
    assert (
        client.get(url, headers=bearer(mint(client, org_a, [dash["id"]], {"uf": "SP"})), params=params).headers["etag"]
        == tags["sp"]
    )


def _claims(org_id, dashboard_ids, creator, expires_at, filters=None):
    return EmbedClaims(org_id, tuple(dashboard_ids), filters or {}, creator, expires_at)


def test_expired_token_is_401_everywhere(client, org_a, loaded):
    dash = make_dashboard(client, org_a, custom=False)
    past = datetime.now(UTC) - timedelta(seconds=5)
    token = sign_embed_token(_claims(org_a.id, [dash["id"]], f"user:{org_a.users['Editor']}", past), None)
    for path in (f"/dashboards/{dash['id']}", f"/dashboards/{dash['id']}/data", "/dashboards", "/auth/me"):
        r = client.get(path, headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (401, "invalid_token") and "expired" in r.json()["detail"], path


def test_user_and_embed_tokens_never_pass_for_each_other(client, org_a, loaded):
    dash = make_dashboard(client, org_a, custom=False)
    embed = mint(client, org_a, [dash["id"]])
    user = create_access_token(org_a.users["Owner"], org_a.id)
    with pytest.raises(TokenError):
        decode_access_token(embed)
    with pytest.raises(TokenError):
        decode_embed_token(user, None)
    # An embed-shaped token signed with the user-token key, and a user token signed with the embed key: refused.
    import jwt

    from app.core.config import get_settings
    from app.core.security import _embed_key

    soon = datetime.now(UTC) + timedelta(minutes=5)
    forged_embed = jwt.encode(
        {
            "iss": "painel",
            "aud": "painel:embed",
            "typ": "embed",
            "org": org_a.id,
            "dash": [dash["id"]],
            "flt": {},
            "by": f"user:{org_a.users['Owner']}",
            "iat": datetime.now(UTC),
            "exp": soon,
        },
        get_settings().jwt_key,
        algorithm="HS256",
    )
    forged_user = jwt.encode(
        {"sub": str(org_a.users["Owner"]), "org": org_a.id, "iat": datetime.now(UTC), "exp": soon},
        _embed_key(None),
        algorithm="HS256",
    )
    for token in (forged_embed, forged_user):
        r = client.get(f"/dashboards/{dash['id']}", headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (401, "invalid_token")


def test_revoke_all_and_a_creator_losing_access_invalidate_tokens(client, org_a, loaded):
    dash = make_dashboard(client, org_a, custom=False)
    url = f"/dashboards/{dash['id']}"
    first = mint(client, org_a, [dash["id"]])
    assert client.get(url, headers=bearer(first)).status_code == 200
    assert client.post("/embed/tokens/revoke-all", headers=org_a.headers("Editor")).status_code == 403
    assert client.post("/embed/tokens/revoke-all", headers=org_a.headers("Admin")).status_code == 204
    assert client.get(url, headers=bearer(first)).status_code == 401
    events = client.get(
        "/audit", headers=org_a.headers("Admin"), params={"action": "organization.embed_tokens_revoked"}
    ).json()["items"]
    assert [(e["action"], e["changes"]) for e in events] == [
        ("organization.embed_tokens_revoked", {"embed_signing_key": "set"})
    ]
    second = mint(client, org_a, [dash["id"]])  # new tokens work with the new key
    assert client.get(url, headers=bearer(second)).status_code == 200
    # The creating Editor is demoted to Viewer: the token stops working.
    demote = client.patch(f"/members/{org_a.users['Editor']}", headers=org_a.headers("Admin"), json={"role": "Viewer"})
    assert demote.status_code == 200
    assert client.get(url, headers=bearer(second)).status_code == 401
    # A token minted by an API key lives as long as the key.
    key = client.post("/api-keys", headers=org_a.headers("Admin"), json={"name": "backend", "role": "Editor"}).json()
    r = client.post("/embed/tokens", headers={"X-API-Key": key["key"]}, json={"dashboard_ids": [dash["id"]]})
    by_key = r.json()["token"]
    assert client.get(url, headers=bearer(by_key)).status_code == 200
    assert client.delete(f"/api-keys/{key['id']}", headers=org_a.headers("Admin")).status_code == 204
    assert client.get(url, headers=bearer(by_key)).status_code == 401


def test_org_b_token_sees_nothing_of_org_a(client, org_a, org_b, loaded):
    a_dash = make_dashboard(client, org_a, custom=False)
    b_dash = client.post("/dashboards", headers=org_b.headers("Editor"), json={"name": "B"}).json()
    # Org A's dashboard (and data source) named in org B's request answer like missing ones.
    r = client.post(
        "/embed/tokens", headers=org_b.headers("Editor"), json={"dashboard_ids": [b_dash["id"], a_dash["id"]]}
    )
    assert r.status_code == 404 and r.json()["detail"] == f"Dashboard {a_dash['id']} not found"
    r = client.post(
        "/embed/tokens",
        headers=org_b.headers("Editor"),
        json={"dashboard_ids": [b_dash["id"]], "filters": {"data_source_id": loaded["data_source_id"]}},
    )
    assert (r.status_code, r.json()["code"]) == (422, "unknown_data_source")
    # Even a token of org B that names A's dashboard id (signed by the server) reads nothing of A.
    soon = datetime.now(UTC) + timedelta(minutes=5)
    token = sign_embed_token(
        _claims(org_b.id, [a_dash["id"], b_dash["id"]], f"user:{org_b.users['Editor']}", soon), None
    )
    assert client.get(f"/dashboards/{a_dash['id']}", headers=bearer(token)).status_code == 404
    assert client.get(f"/dashboards/{a_dash['id']}/data", headers=bearer(token)).status_code == 404
    b_data = client.get(f"/dashboards/{b_dash['id']}/data", headers=bearer(token)).json()
    assert b_data["as_of"] is None and b_data["widgets"] == []
    # And org A's token under org B's id is refused (B's key would have to sign it).
    a_token = mint(client, org_a, [a_dash["id"]])
    assert client.get(f"/dashboards/{a_dash['id']}", headers=bearer(a_token)).status_code == 200


def test_a_dashboard_created_after_the_token_is_not_one_it_names(client, org_a):
    """SQLite may give a new row the id of a deleted one: the token must not start reading the newcomer."""
    first = client.post("/dashboards", headers=org_a.headers("Editor"), json={"name": "Antigo"}).json()
    token = mint(client, org_a, [first["id"]])
    assert client.get(f"/dashboards/{first['id']}", headers=bearer(token)).status_code == 200
    from sqlalchemy import update

    from app.models import Dashboard
    from tests.conftest import all_orgs_session

    with all_orgs_session() as s:  # as if the dashboard had been deleted and its id given to a new one
        s.execute(update(Dashboard).values(created_at=datetime.now(UTC) + timedelta(seconds=5)))
    for path in (f"/dashboards/{first['id']}", f"/dashboards/{first['id']}/data"):
        assert client.get(path, headers=bearer(token)).status_code == 404


def test_a_newer_tokens_cached_answer_never_reaches_an_older_token_of_the_same_scope(client, org_a, loaded):
    """Tokens of one scope share cached answers; the older one must still not read a dashboard newer than itself
    (SQLite may give a new dashboard a deleted one's id)."""
    import time

    from sqlalchemy import update

    from app.models import Dashboard
    from tests.conftest import all_orgs_session

    dash = make_dashboard(client, org_a, custom=False)
    old = mint(client, org_a, [dash["id"]])
    url = f"/dashboards/{dash['id']}/data"
    assert client.get(url, headers=bearer(old)).status_code == 200
    with all_orgs_session() as s:  # as if it had been deleted and its id given to a new dashboard, a second ago
        s.execute(update(Dashboard).values(created_at=datetime.now(UTC) + timedelta(seconds=1)))
    time.sleep(2.1)  # token times are whole seconds
    new = mint(client, org_a, [dash["id"]])
    assert client.get(url, headers=bearer(new)).status_code == 200  # cached under the scope both tokens share
    assert client.get(url, headers=bearer(old)).status_code == 404
