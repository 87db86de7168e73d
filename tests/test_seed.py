"""`make run`'s seed: the demo org, its data and its dashboard, created once."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from app.seed import DEMO_DASHBOARD, demo_csv, seed_demo


def _owner_headers(client) -> dict[str, str]:
    token = client.post("/auth/dev-login", json={"email": "dev@example.com", "org_slug": "demo"}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_seed_creates_the_demo_dashboard_once(client):
    seed_demo()
    seed_demo()
    headers = _owner_headers(client)
    page = client.get("/dashboards", headers=headers).json()
    assert [d["name"] for d in page["items"]] == [DEMO_DASHBOARD]
    dashboard = client.get(f"/dashboards/{page['items'][0]['id']}", headers=headers).json()
    indicators = [w["indicator"] for w in dashboard["widgets"]]
    assert {"kpis", "valor-mes-a-mes", "mapa-por-uf"} <= set(indicators)

    # Every widget answers (none in error), and the KPI total is the CSV's total over the answered range.
    data = client.get(f"/dashboards/{dashboard['id']}/data", headers=headers).json()
    assert all(w["data"] is not None and w["error"] is None for w in data["widgets"]), data
    rows = list(csv.DictReader(io.StringIO(demo_csv().decode("cp1252")), delimiter=";"))
    expected = sum(
        (
            Decimal(r["Valor"].replace(".", "").replace(",", "."))
            for r in rows
            if data["from"] <= "-".join(reversed(r["Data"].split("/"))) <= data["to"]
        ),
        Decimal(0),
    )
    kpis = next(w for w in data["widgets"] if w["indicator"] == "kpis")["data"]
    assert Decimal(str(kpis["current"]["total_value"])) == expected


def test_seed_leaves_an_org_that_has_dashboards_alone(client):
    seed_demo()
    headers = _owner_headers(client)
    dashboard_id = client.get("/dashboards", headers=headers).json()["items"][0]["id"]
    client.patch(f"/dashboards/{dashboard_id}", headers=headers, json={"name": "Minhas vendas"})
    seed_demo()
    assert [d["name"] for d in client.get("/dashboards", headers=headers).json()["items"]] == ["Minhas vendas"]


def test_demo_owner_token_is_scoped_to_the_demo_org(client, org_a):
    """The seed adds nothing to other orgs."""
    seed_demo()
    assert client.get("/dashboards", headers=org_a.headers()).json()["total"] == 0
