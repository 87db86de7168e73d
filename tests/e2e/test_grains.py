"""The time-series widget (serie-temporal) in the browser: its grain selector shows the API's buckets, and while
editing the chosen grain is saved in the widget's params."""

from __future__ import annotations

from tests.e2e.conftest import shot, sign_in
from tests.e2e.helpers import table_values, wait_dashboard

GRAIN_OPTIONS = [("day", "dia"), ("week", "semana"), ("month", "mês"), ("quarter", "trimestre"), ("year", "ano")]
MONTHS = ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"]


def period_label(period: str, grain: str) -> str:
    """The label the page shows for a bucket, computed here from the API's period."""
    if grain == "week":
        year, week = period.split("-W")
        return f"sem. {week}/{year}"
    if grain == "quarter":
        year, quarter = period.split("-Q")
        return f"{quarter}º tri/{year}"
    if grain == "month":
        year, month = period.split("-")
        return f"{MONTHS[int(month) - 1]}/{year}"
    return period


def shown_labels(series) -> list[str]:
    return [th.inner_text() for th in series.locator("[data-testid=widget-table] tbody th").all()]


def wait_grain(page, grain: str):
    series = page.locator(f"[data-testid=widget][data-indicator=serie-temporal][data-state=ready][data-grain={grain}]")
    series.wait_for()
    return series


def add_time_series(api, dashboard_id: int, **params) -> None:
    dashboard = api.get(f"/dashboards/{dashboard_id}")
    widgets = [{k: w[k] for k in ("title", "indicator", "params", "position")} for w in dashboard["widgets"]]
    widgets.append(
        {
            "title": "Vendas por período",
            "indicator": "serie-temporal",
            "params": params,
            "position": {"x": 0, "y": 11, "w": 12, "h": 4},
        }
    )
    api.send("PATCH", f"/dashboards/{dashboard_id}", json={"widgets": widgets})


def saved_params(api, dashboard_id: int) -> dict:
    widgets = api.get(f"/dashboards/{dashboard_id}")["widgets"]
    return next(w["params"] for w in widgets if w["indicator"] == "serie-temporal")


def test_grain_selector_shows_the_apis_buckets_and_editing_saves_it(demo, page):
    api = demo.api
    add_time_series(api, demo.dashboard_id)
    sign_in(page, demo.base_url)
    marker = wait_dashboard(page)
    meta = page.get_by_test_id("dashboard-meta")
    rng = {"from": meta.get_attribute("data-from"), "to": meta.get_attribute("data-to")}

    # Months by default (the API's default grain), with the five grains offered in Portuguese.
    series = wait_grain(page, "month")
    select = series.get_by_test_id("widget-grain")
    assert select.input_value() == "month"
    assert [(o.get_attribute("value"), o.inner_text()) for o in select.locator("option").all()] == GRAIN_OPTIONS
    months = api.get("/indicators/serie-temporal", **rng)
    assert months["grain"] == "month"
    assert table_values(series) == {i["period"]: i["value"] for i in months["items"]}
    assert shown_labels(series) == [period_label(i["period"], "month") for i in months["items"]]

    # Weeks, while viewing: the buckets are the API's, and nothing is saved.
    select.select_option("week")
    series = wait_grain(page, "week")
    weeks = api.get("/indicators/serie-temporal", **rng, grain="week")
    assert len(weeks["items"]) > len(months["items"])
    assert table_values(series) == {i["period"]: i["value"] for i in weeks["items"]}
    assert shown_labels(series) == [period_label(i["period"], "week") for i in weeks["items"]]
    starts = [row.get_attribute("data-start") for row in series.locator("[data-testid=widget-table] tbody tr").all()]
    assert starts == [i["start"] for i in weeks["items"]]
    assert saved_params(api, demo.dashboard_id) == {}
    assert page.get_by_test_id("dashboard-body").get_attribute("data-loaded") == marker  # only that widget reloaded
    shot(page, "time-series-weeks")

    # With a UF filter the widget keeps the grain chosen and shows the filtered buckets.
    page.get_by_test_id("filter-uf").select_option("RJ")
    page.get_by_test_id("filter-apply").click()
    marker = wait_dashboard(page, marker)
    series = wait_grain(page, "week")
    weeks_rj = api.get("/indicators/serie-temporal", **rng, grain="week", uf="RJ")
    assert table_values(series) == {i["period"]: i["value"] for i in weeks_rj["items"]}
    page.get_by_test_id("filter-clear").click()
    marker = wait_dashboard(page, marker)

    # While editing, a grain chosen is saved in the widget's params, and a reload shows it.
    page.get_by_test_id("edit-toggle").click()
    series = wait_grain(page, "week")
    series.get_by_test_id("widget-grain").select_option("quarter")
    series = wait_grain(page, "quarter")
    page.locator(".save-status", has_text="Salvo").wait_for()
    assert saved_params(api, demo.dashboard_id) == {"grain": "quarter"}
    quarters = api.get("/indicators/serie-temporal", **rng, grain="quarter")
    assert table_values(series) == {i["period"]: i["value"] for i in quarters["items"]}
    assert shown_labels(series) == [period_label(i["period"], "quarter") for i in quarters["items"]]

    page.reload()
    wait_dashboard(page)
    series = wait_grain(page, "quarter")
    assert series.get_by_test_id("widget-grain").input_value() == "quarter"
    assert table_values(series) == {i["period"]: i["value"] for i in quarters["items"]}

    # The widget dialog offers the grain too.
    series.get_by_test_id("widget-edit").click()
    dialog = page.get_by_test_id("widget-dialog")
    assert dialog.get_by_test_id("widget-grain-param").input_value() == "quarter"
    dialog.get_by_test_id("widget-grain-param").select_option("year")
    dialog.locator("[data-action=save]").click()
    series = wait_grain(page, "year")
    assert saved_params(api, demo.dashboard_id) == {"grain": "year"}
    years = api.get("/indicators/serie-temporal", **rng, grain="year")
    assert table_values(series) == {i["period"]: i["value"] for i in years["items"]}
