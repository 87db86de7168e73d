"""The app at a laptop's 1280x800 and a phone's 390 px: nothing wider than the screen, no widget title under its
tools, the map whole inside its card, dialogs on screen. Screenshots of each land in test-output/e2e/."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import OUTPUT, open_page, shot, sign_in
from tests.e2e.helpers import painted_pixels, wait_dashboard, widget
from tests.e2e.test_grains import add_time_series

VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}

# Elements that stick out of the page's width (the cause of a sideways scroll on a phone); a wide table inside its
# own scrolling box (.table-scroll) is fine.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter((el) => el.getClientRects().length && !el.closest('.table-wrap, .table-scroll, dialog:not([open])'))
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width && (r.right > width + 1 || r.left < -1); })
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)
    .slice(0, 10);
}"""

# Widgets whose title runs under their header tools (grain, "Tabela", edit buttons).
CROWDED_HEADERS = """() => [...document.querySelectorAll('[data-testid=widget]')].filter((w) => {
  const title = w.querySelector('.widget-heading').getBoundingClientRect();
  const tools = w.querySelector('.widget-tools').getBoundingClientRect();
  const sameLine = title.bottom > tools.top && tools.bottom > title.top;
  return tools.width && sameLine && title.right > tools.left + 1;
}).map((w) => w.getAttribute('aria-label'))"""

INSIDE = """([inner, outer]) => {
  const a = document.querySelector(inner).getBoundingClientRect();
  const b = document.querySelector(outer).getBoundingClientRect();
  return a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
}"""


@pytest.fixture(params=list(VIEWPORTS))
def sized_page(browser, request):
    """A page at each size (the phone one with touch, as a phone is); script errors fail the test."""
    size = request.param
    context = browser.new_context(
        viewport=VIEWPORTS[size], locale="pt-BR", timezone_id="America/Sao_Paulo", has_touch=size == "390"
    )
    page, problems = open_page(context)
    yield size, page
    context.close()
    assert not problems, problems


def test_dashboard_upload_and_embed_fit_the_screen(demo, sized_page):
    size, page = sized_page
    add_time_series(demo.api, demo.dashboard_id, grain="week")
    sign_in(page, demo.base_url)
    wait_dashboard(page)
    page.locator("[data-testid=filter-uf][data-source=dimensions]").wait_for(state="attached")
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate(CROWDED_HEADERS) == []
    assert page.evaluate(INSIDE, ["[data-testid=map] canvas", "[data-testid=widget][data-indicator=mapa-por-uf]"])
    assert painted_pixels(widget(page, "mapa-por-uf").locator(".chart")) > 2000
    for indicator in ("valor-mes-a-mes", "top-categorias", "acumulado-ano", "serie-temporal"):
        assert painted_pixels(widget(page, indicator).locator(".chart")) > 2000, indicator
    shot(page, f"layout-{size}-dashboard")
    for indicator in ("mapa-por-uf", "kpis", "serie-temporal"):  # close-ups, to read labels and legends
        widget(page, indicator).screenshot(path=str(OUTPUT / f"layout-{size}-{indicator}.png"))

    # Editing: the move and edit buttons fit beside (or under) the titles.
    page.get_by_test_id("edit-toggle").click()
    page.get_by_test_id("widget-edit-tools").first.wait_for()
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate(CROWDED_HEADERS) == []
    shot(page, f"layout-{size}-editing")

    # The share dialog stays on screen.
    page.get_by_test_id("dashboard-share").click()
    dialog = page.get_by_test_id("share-dialog")
    dialog.get_by_test_id("share-create").click()
    dialog.get_by_test_id("share-url").wait_for()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[size]["width"]
    url = dialog.get_by_test_id("share-url").input_value()
    shot(page, f"layout-{size}-share")
    dialog.locator("[data-action=cancel]").click()

    page.goto(f"{demo.base_url}/#/upload")
    page.get_by_test_id("upload-dropzone").wait_for()
    page.get_by_test_id("recent-batches").wait_for()
    assert page.evaluate(OVERFLOWING) == []
    shot(page, f"layout-{size}-upload")

    page.goto(url)
    page.locator("[data-testid=map][data-rendered=true]").wait_for()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=widget][data-state=ready]').length === 6")
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate(INSIDE, ["[data-testid=map] canvas", "[data-testid=widget][data-indicator=mapa-por-uf]"])
    shot(page, f"layout-{size}-embed")
