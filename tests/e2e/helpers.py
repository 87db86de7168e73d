"""Helpers for the e2e tests: pt-BR formatting as the page shows it, and waiting for the dashboard to render."""

from __future__ import annotations

NBSP = "\xa0"


def brl(value: float) -> str:
    """R$ 1.234,56 as Intl.NumberFormat('pt-BR', {style: 'currency', currency: 'BRL'}) writes it."""
    whole, cents = f"{abs(value):,.2f}".split(".")
    text = f"R${NBSP}{whole.replace(',', '.')},{cents}"
    return f"-{text}" if value < 0 else text


def pct(value: float) -> str:
    """25,48% (up to 2 decimals, no trailing zeros)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text}%"


WIDGETS_SETTLED = """() => {
  const widgets = [...document.querySelectorAll('[data-testid=widget]')];
  return widgets.length > 0 && widgets.every((w) => w.dataset.state === 'ready' || w.dataset.state === 'error');
}"""


def wait_dashboard(page, previous: str | None = None) -> str:
    """Wait until every widget is drawn (after a reload when `previous` is the last load's marker); answers the
    new marker."""
    page.wait_for_function(
        "(prev) => { const b = document.querySelector('[data-testid=dashboard-body]');"
        " return b && b.dataset.loaded && b.dataset.loaded !== prev; }",
        arg=previous or "",
    )
    page.wait_for_function(WIDGETS_SETTLED)
    return page.get_by_test_id("dashboard-body").get_attribute("data-loaded")


def painted_pixels(locator) -> int:
    """How many pixels of the chart's canvas are painted (0 when there is no canvas or it is blank)."""
    return locator.evaluate(
        """(el) => {
          const canvas = el.querySelector('canvas');
          if (!canvas || !canvas.width || !canvas.height) return 0;
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let painted = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i]) painted += 1;
          return painted;
        }"""
    )


def kpi_values(page) -> dict[str, float]:
    return {
        el.get_attribute("data-kpi"): float(el.get_attribute("data-value"))
        for el in page.get_by_test_id("kpi-value").all()
    }


def table_values(widget, key_attr: str = "data-key") -> dict[str, float]:
    """A chart widget's numbers from its data table: key -> raw value."""
    rows = widget.locator("[data-testid=widget-table] tbody tr")
    return {row.get_attribute(key_attr): float(row.get_attribute("data-value")) for row in rows.all()}


def widget(page, indicator: str):
    return page.locator(f"[data-testid=widget][data-indicator='{indicator}']")
