"""Dashboards: CRUD, widgets validated at save time, one-call data, duplicate, export/import, isolation."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from tests.ingest_helpers import Row, make_csv, upload

ROWS = [
    Row(date(2024, m, 10), Decimal(f"{m}00.25"), uf, "A" if m % 2 else "B") for m in range(1, 13) for uf in ("SP", "RJ")
]


def widget(title="Mensal", indicator="valor-mes-a-mes", **kw):
    return {
        "title": title,
        "indicator": indicator,
        "params": kw.pop("params", {}),
        "position": kw.pop("position", {"x": 0, "y": 0, "w": 6, "h": 4}),
        **kw,
    }


def make_dashboard(client, org, widgets=None, name="Vendas"):
    r = client.post(
        "/dashboards",
        headers=org.headers("Editor"),
        json={
            "name": name,
            "widgets": widgets
            if widgets is not None
            else [
                widget(),
                widget("Mapa", "mapa-por-uf", position={"x": 6, "y": 0, "w": 6, "h": 4}),
                widget("Top", "top-categorias", params={"limit": 1}),
            ],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_crud_and_widget_order(client, org_a):
    d = make_dashboard(client, org_a)
    assert [w["title"] for w in d["widgets"]] == ["Mensal", "Mapa", "Top"]
    got = client.get(f"/dashboards/{d['id']}", headers=org_a.headers("Viewer")).json()
    assert got["widgets"][1]["position"] == {"x": 6, "y": 0, "w": 6, "h": 4}
    r = client.patch(
        f"/dashboards/{d['id']}",
        headers=org_a.headers("Editor"),
        json={"name": "Renomeado", "widgets": [widget("Só KPIs", "kpis")]},
    )
    assert r.json()["name"] == "Renomeado" and [w["indicator"] for w in r.json()["widgets"]] == ["kpis"]
    listing = client.get("/dashboards", headers=org_a.headers("Viewer")).json()
    assert listing["total"] == 1 and listing["items"][0]["name"] == "Renomeado"
    assert client.delete(f"/dashboards/{d['id']}", headers=org_a.headers("Editor")).status_code == 204
    assert client.get(f"/dashboards/{d['id']}", headers=org_a.headers()).status_code == 404


def test_unknown_indicator_is_422_at_save(client, org_a):
    r = client.post("/dashboards", headers=org_a.headers(), json={"name": "x", "widgets": [widget(indicator="nope")]})
    assert r.status_code == 422 and "nope" in r.json()["detail"]
    r = client.post(
        "/dashboards",
        headers=org_a.headers(),
        json={"name": "x", "widgets": [{"title": "t", "custom_indicator_id": 999}]},
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_indicator"
    r = client.post(
        "/dashboards", headers=org_a.headers(), json={"name": "x", "widgets": [widget(params={"colour": "red"})]}
    )
    assert r.status_code == 422 and "colour" in r.json()["detail"]
    assert client.get("/dashboards", headers=org_a.headers()).json()["total"] == 0


def test_data_in_one_call_matches_indicators(client, org_a):
    upload(client, org_a.headers(), make_csv(ROWS))
    d = make_dashboard(client, org_a)
    r = client.get(f"/dashboards/{d['id']}/data", headers=org_a.headers("Viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    # Default range: the last 12 months of data (latest fact 2024-12-10).
    assert (body["from"], body["to"]) == ("2024-01-01", "2024-12-10")
    monthly = body["widgets"][0]["data"]["items"]
    assert [m["value"] for m in monthly] == [float(2 * Decimal(f"{m}00.25")) for m in range(1, 13)]
    by_uf = {i["uf"]: i["value"] for i in body["widgets"][1]["data"]["items"]}
    assert by_uf["SP"] == by_uf["RJ"] == float(sum(Decimal(f"{m}00.25") for m in range(1, 13)))
    sums = defaultdict(Decimal)
    for row in ROWS:
        sums[row.category] += row.value
    assert body["widgets"][2]["data"]["items"][0]["category"] == max(sums, key=sums.get)
    ranged = client.get(
        f"/dashboards/{d['id']}/data", headers=org_a.headers(), params={"from": "2024-03-01", "to": "2024-04-30"}
    ).json()
    assert [m["value"] for m in ranged["widgets"][0]["data"]["items"]] == [600.5, 800.5]
    tag = r.headers["etag"]
    assert (
        client.get(f"/dashboards/{d['id']}/data", headers={**org_a.headers(), "If-None-Match": tag}).status_code == 304
    )


def test_duplicate_export_import(client, org_a, org_b):
    d = make_dashboard(client, org_a)
    dup = client.post(f"/dashboards/{d['id']}/duplicate", headers=org_a.headers("Editor")).json()
    assert dup["id"] != d["id"] and dup["name"] == "Vendas (copy)"
    assert [w["indicator"] for w in dup["widgets"]] == [w["indicator"] for w in d["widgets"]]
    exported = client.get(f"/dashboards/{d['id']}/export", headers=org_a.headers("Viewer")).json()
    assert exported["format"] == "painel.dashboard" and len(exported["widgets"]) == 3
    imported = client.post("/dashboards/import", headers=org_b.headers("Editor"), json=exported)
    assert imported.status_code == 201, imported.text
    assert [w["params"] for w in imported.json()["widgets"]] == [w["params"] for w in d["widgets"]]
    bad = client.post("/dashboards/import", headers=org_b.headers(), json={"format": "other"})
    assert bad.status_code == 422


def test_viewer_reads_editor_writes(client, org_a):
    assert client.post("/dashboards", headers=org_a.headers("Viewer"), json={"name": "x"}).status_code == 403
    d = make_dashboard(client, org_a)
    assert client.delete(f"/dashboards/{d['id']}", headers=org_a.headers("Viewer")).status_code == 403
    assert client.get(f"/dashboards/{d['id']}/data", headers=org_a.headers("Viewer")).status_code == 200


def test_other_orgs_dashboard_is_404_everywhere(client, org_a, org_b):
    d = make_dashboard(client, org_a)
    h = org_b.headers()
    for method, path in [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("get", "/data"),
        ("get", "/export"),
        ("post", "/duplicate"),
    ]:
        kwargs = {"json": {"name": "hacked"}} if method == "patch" else {}
        r = getattr(client, method)(f"/dashboards/{d['id']}{path}", headers=h, **kwargs)
        assert r.status_code == 404, (method, path, r.status_code)
    assert client.get("/dashboards", headers=h).json()["total"] == 0
    assert client.get(f"/dashboards/{d['id']}", headers=org_a.headers()).json()["name"] == "Vendas"
