"""Custom SQL indicators as tables, a widget's own error, the embed page, and data sources with their runs."""

from __future__ import annotations

import json

from tests.e2e.conftest import shot, sign_in
from tests.e2e.helpers import kpi_values, wait_dashboard, widget

CUSTOM_SQL = "SELECT uf, COUNT(*) AS vendas, SUM(value) AS total FROM facts WHERE uf = :uf GROUP BY uf"


def test_custom_indicator_is_a_table_and_a_failing_widget_shows_its_error(demo, page):
    api = demo.api
    custom = api.send(
        "POST",
        "/indicators/custom",
        json={"name": "Vendas da UF", "sql": CUSTOM_SQL, "parameters": [{"name": "uf", "type": "string"}]},
    )
    dashboard = api.get(f"/dashboards/{demo.dashboard_id}")
    widgets = [
        {k: w[k] for k in ("title", "indicator", "params", "position")} for w in dashboard["widgets"] if w["indicator"]
    ]
    widgets.append(
        {
            "title": "Vendas em MG (SQL)",
            "custom_indicator_id": custom["id"],
            "params": {"uf": "MG"},
            "position": {"x": 0, "y": 11, "w": 6, "h": 3},
        }
    )
    api.send("PATCH", f"/dashboards/{demo.dashboard_id}", json={"widgets": widgets})

    sign_in(page, demo.base_url)
    wait_dashboard(page)
    table = widget(page, "custom").get_by_test_id("custom-table")
    run = api.get(f"/indicators/custom/{custom['id']}/run", uf="MG")
    assert [h.inner_text() for h in table.locator("thead th").all()] == run["columns"] == ["uf", "vendas", "total"]
    row = table.locator("tbody tr")
    assert row.count() == 1
    cells = row.first.locator("td")
    assert cells.nth(0).inner_text() == "MG"
    assert float(cells.nth(1).get_attribute("data-value")) == run["rows"][0]["vendas"]
    # SUM(value) is a number on SQLite and a decimal string on Postgres (NUMERIC): the page shows both as numbers.
    total = float(run["rows"][0]["total"])
    assert float(cells.nth(2).get_attribute("data-value")) == total
    total_text = f"{total:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert cells.nth(2).inner_text() == total_text  # 1.234,56

    # One widget failing (as GET /dashboards/{id}/data reports it) shows its own message; the others draw.
    def fail_the_map(route):
        body = route.fetch().json()
        for entry in body["widgets"]:
            if entry["indicator"] == "mapa-por-uf":
                entry.pop("data")
                entry["error"] = {
                    "code": "deadline_exceeded",
                    "detail": "Not run: the dashboard's 15 s deadline passed",
                }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route(f"**/dashboards/{demo.dashboard_id}/data*", fail_the_map)
    page.reload()
    wait_dashboard(page)
    error = widget(page, "mapa-por-uf").get_by_test_id("widget-error")
    assert "Not run: the dashboard's 15 s deadline passed" in error.inner_text()
    assert "(deadline_exceeded)" in error.inner_text() and "Recarregue a página" in error.inner_text()
    assert widget(page, "mapa-por-uf").get_attribute("data-state") == "error"
    assert widget(page, "kpis").get_attribute("data-state") == "ready" and kpi_values(page)
    shot(page, "widget-error")


def test_embed_page_reads_its_token_once_and_renders_read_only(demo, page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url.removeprefix(demo.base_url)))
    token = demo.api.send("POST", "/embed/tokens", json={"dashboard_ids": [demo.dashboard_id]})["token"]
    url = f"{demo.base_url}/embed?token={token}&dashboard={demo.dashboard_id}"
    page.goto(url)
    page.locator("[data-testid=map][data-rendered=true]").wait_for()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=widget][data-state=ready]').length === 5")
    assert page.url == f"{demo.base_url}/embed"  # the token left the address bar at once
    assert page.locator("#topbar").is_hidden()
    assert page.get_by_test_id("edit-toggle").count() == 0 and page.get_by_test_id("filters").count() == 0
    api_calls = [u for u in requests if not u.startswith(("/web/", "/embed"))]
    assert api_calls == [f"/dashboards/{demo.dashboard_id}", f"/dashboards/{demo.dashboard_id}/data"]
    kpis = next(w for w in demo.api.get(f"/dashboards/{demo.dashboard_id}/data")["widgets"] if w["indicator"] == "kpis")
    assert kpi_values(page) == {k: float(v) for k, v in kpis["data"]["current"].items()}
    shot(page, "embed")

    # A reload in the same tab still works (the token is kept in sessionStorage, not in the URL).
    page.reload()
    page.locator("[data-testid=map][data-rendered=true]").wait_for()

    # The fragment form (never sent to the server) works the same, in a new tab.
    other = page.context.new_page()
    seen: list[str] = []
    other.on("request", lambda r: seen.append(r.url))
    other.goto(f"{demo.base_url}/embed#token={token}&dashboard={demo.dashboard_id}")
    other.locator("[data-testid=map][data-rendered=true]").wait_for()
    assert other.url == f"{demo.base_url}/embed" and not any(token in u for u in seen)
    other.close()

    # A bad token says so (and does not send anyone to a sign-in page).
    page.goto(f"{demo.base_url}/embed?token=invalid&dashboard={demo.dashboard_id}")
    page.get_by_text("Este link de incorporação expirou ou não é válido").wait_for()
    assert page.url == f"{demo.base_url}/embed"


def test_data_sources_run_now_and_history(demo, page):
    # A SQL source whose database is not there: running it now records a failed run, shown with its error.
    source = demo.api.send(
        "POST",
        "/datasources",
        json={
            "name": "ERP (SQL)",
            "type": "sql",
            "config": {"sqlalchemy_url": "postgresql+psycopg2://leitor:segredo@127.0.0.1:9/erp", "query": "SELECT 1"},
        },
    )
    sign_in(page, demo.base_url)
    page.goto(f"{demo.base_url}/#/datasources")
    row = page.locator(f"[data-testid=source-row][data-id='{source['id']}']")
    row.get_by_text("nunca executada").wait_for()
    files = page.locator("[data-testid=source-row]").filter(has_text="Vendas (demo)")
    files.get_by_text("4.686 linhas").wait_for()
    assert files.get_by_test_id("source-run").count() == 0  # file sources are not "run"

    row.get_by_test_id("source-run").click()
    row.locator("[data-status=failed]").wait_for(timeout=30_000)
    runs = demo.api.get("/jobs/runs", data_source_id=source["id"])["items"]
    assert len(runs) == 1 and runs[0]["status"] == "failed" and runs[0]["trigger"] == "manual"
    shot(page, "datasources")

    row.get_by_test_id("source-history").click()
    history = page.get_by_test_id("run-row")
    history.first.wait_for()
    assert history.count() == 1
    text = history.first.inner_text()
    assert "manual" in text and "falhou" in text and runs[0]["error"][:40] in text
