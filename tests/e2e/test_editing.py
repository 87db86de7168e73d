"""Dashboards in the browser: create, add/edit/move/remove widgets, rename, duplicate, delete; each step checked
against the API."""

from __future__ import annotations

from tests.e2e.conftest import shot, sign_in
from tests.e2e.helpers import table_values, wait_dashboard, widget


def positions(api, dashboard_id):
    return [(w["indicator"], w["position"]) for w in api.get(f"/dashboards/{dashboard_id}")["widgets"]]


def wait_saved(page):
    page.locator(".save-status", has_text="Salvo").wait_for()


def test_create_edit_and_delete_a_dashboard(demo, page):
    api = demo.api
    sign_in(page, demo.base_url)
    wait_dashboard(page)  # one dashboard: the app opens on it
    page.goto(f"{demo.base_url}/#/dashboards")
    page.get_by_test_id("dashboard-item").first.wait_for()
    assert [i.inner_text().split("\n")[0] for i in page.get_by_test_id("dashboard-item").all()] == ["Vendas (demo)"]

    # A new, empty dashboard opens in edit mode.
    page.get_by_test_id("dashboard-create").click()
    dialog = page.get_by_test_id("prompt-dialog")
    dialog.locator("input").fill("Painel e2e")
    dialog.locator("[data-action=ok]").click()
    page.get_by_text("Este painel ainda não tem widgets.").wait_for()
    new_id = int(page.url.split("#/dashboards/")[1].split("?")[0])
    assert api.get(f"/dashboards/{new_id}")["name"] == "Painel e2e"

    # Add the KPI cards, then the top categories fixed on RJ, top 3.
    page.get_by_test_id("widget-add").click()
    dialog = page.get_by_test_id("widget-dialog")
    dialog.get_by_test_id("widget-indicator").select_option("kpis")
    dialog.get_by_test_id("widget-title").fill("Resumo")
    dialog.locator("[data-action=save]").click()
    marker = wait_dashboard(page)
    assert positions(api, new_id) == [("kpis", {"x": 0, "y": 0, "w": 12, "h": 2})]

    page.get_by_test_id("widget-add").click()
    dialog = page.get_by_test_id("widget-dialog")
    dialog.get_by_test_id("widget-indicator").select_option("top-categorias")
    assert dialog.get_by_test_id("widget-title").input_value() == "Top categorias"  # named after the indicator
    dialog.locator("select[name=uf]").select_option("RJ")
    dialog.locator("input[name=limit]").fill("3")
    dialog.locator("[data-action=save]").click()
    marker = wait_dashboard(page, marker)
    saved = api.get(f"/dashboards/{new_id}")["widgets"]
    assert saved[1]["params"] == {"uf": "RJ", "limit": 3}
    assert saved[1]["position"] == {"x": 0, "y": 2, "w": 6, "h": 4}
    meta = page.get_by_test_id("dashboard-meta")
    rng = {"from": meta.get_attribute("data-from"), "to": meta.get_attribute("data-to")}
    top = api.get("/indicators/top-categorias", **rng, uf="RJ", limit=3)
    expected = {i["category"]: i["value"] for i in top["items"]} | {"Outras": top["others"]}
    assert top["others"] > 0 and table_values(widget(page, "top-categorias")) == expected

    # Move it right, then up: it swaps places with the KPI cards.
    bars = widget(page, "top-categorias")
    bars.locator("[data-move=right]").click()
    bars.locator("[data-move=up]").click()
    wait_saved(page)
    assert positions(api, new_id) == [
        ("kpis", {"x": 0, "y": 4, "w": 12, "h": 2}),
        ("top-categorias", {"x": 1, "y": 0, "w": 6, "h": 4}),
    ]
    box = bars.bounding_box()
    assert box["y"] < widget(page, "kpis").bounding_box()["y"]  # drawn where it was saved
    shot(page, "dashboard-editing")

    # Edit the KPI widget's size, then remove the bars.
    widget(page, "kpis").get_by_test_id("widget-edit").click()
    dialog = page.get_by_test_id("widget-dialog")
    dialog.locator("input[type=number]").first.fill("8")
    dialog.locator("[data-action=save]").click()
    marker = wait_dashboard(page, marker)
    assert positions(api, new_id)[0] == ("kpis", {"x": 0, "y": 4, "w": 8, "h": 2})
    widget(page, "top-categorias").get_by_test_id("widget-remove").click()
    page.get_by_test_id("confirm-dialog").locator("[data-action=ok]").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=widget]').length === 1")
    assert [w for w, _ in positions(api, new_id)] == ["kpis"]

    # Rename, duplicate, delete.
    page.get_by_test_id("dashboard-rename").click()
    dialog = page.get_by_test_id("prompt-dialog")
    dialog.locator("input").fill("Resumo RJ")
    dialog.locator("[data-action=ok]").click()
    page.get_by_test_id("dashboard-title").filter(has_text="Resumo RJ").wait_for()
    assert api.get(f"/dashboards/{new_id}")["name"] == "Resumo RJ"

    page.get_by_test_id("dashboard-duplicate").click()
    page.wait_for_function("(id) => !location.hash.startsWith(`#/dashboards/${id}`)", arg=new_id)
    copy_id = int(page.url.split("#/dashboards/")[1].split("?")[0])
    wait_dashboard(page)
    copy = api.get(f"/dashboards/{copy_id}")
    assert copy["name"] == "Resumo RJ (copy)" and [w["indicator"] for w in copy["widgets"]] == ["kpis"]

    page.get_by_test_id("dashboard-delete").click()
    page.get_by_test_id("confirm-dialog").locator("[data-action=ok]").click()
    page.wait_for_function("() => location.hash === '#/dashboards'")
    page.get_by_test_id("dashboard-item").first.wait_for()
    names = sorted(d["name"] for d in api.get("/dashboards")["items"])
    assert names == ["Resumo RJ", "Vendas (demo)"]
    assert sorted(i.inner_text().split("\n")[0] for i in page.get_by_test_id("dashboard-item").all()) == names


LAYOUT_CASES = """async () => {
  const { move, normalize, nextSlot, resolve } = await import('/web/js/layout.js');
  const a = { x: 0, y: 0, w: 6, h: 2 }, b = { x: 0, y: 2, w: 6, h: 4 }, c = { x: 6, y: 0, w: 6, h: 3 };
  return {
    downSwaps: move([a, b, c], 0, 'down'),       // a goes below b, b takes a's top
    upSwaps: move([a, b, c], 1, 'up'),
    rightPushesDown: move([a, { x: 6, y: 0, w: 6, h: 2 }], 0, 'right'),
    leftAtEdge: move([a], 0, 'left'),
    upAtTop: move([c], 0, 'up'),
    downIntoGap: move([a], 0, 'down'),
    clamped: normalize({ x: 30, y: -2, w: 40, h: 0 }),
    overlapResolved: resolve([a, { x: 3, y: 1, w: 6, h: 2 }]),
    slot: nextSlot([a, b, c]),
  };
}"""


def test_grid_moves_swap_neighbours_and_never_overlap(server, page):
    page.goto(server.base_url + "/")
    got = page.evaluate(LAYOUT_CASES)
    p = lambda x, y, w, h: {"x": x, "y": y, "w": w, "h": h}  # noqa: E731
    assert got["downSwaps"] == [p(0, 4, 6, 2), p(0, 0, 6, 4), p(6, 0, 6, 3)]
    assert got["upSwaps"] == [p(0, 4, 6, 2), p(0, 0, 6, 4), p(6, 0, 6, 3)]
    assert got["rightPushesDown"] == [p(1, 0, 6, 2), p(6, 2, 6, 2)]
    assert got["leftAtEdge"] == [p(0, 0, 6, 2)] and got["upAtTop"] == [p(6, 0, 6, 3)]
    assert got["downIntoGap"] == [p(0, 1, 6, 2)]
    assert got["clamped"] == p(0, 0, 12, 1)
    assert got["overlapResolved"] == [p(0, 0, 6, 2), p(3, 2, 6, 2)]
    assert got["slot"] == p(0, 6, 6, 4)
