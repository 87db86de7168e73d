// mapa-por-uf: a choropleth of Brazil's states, drawn by ECharts from the vendored SVG map (CC BY 4.0).

import { h } from "../dom.js";
import { formatCurrency, formatCurrencyCompact, formatPercent } from "../format.js";
import { UF_NAMES, ufLabel } from "../ufs.js";
import { escapeHtml, followSize, loadLib } from "./charts.js";

const MAP_NAME = "BR-UF";
const NARROW_PX = 440; // below this width the legend goes under the map
let registered = false;

/** Register the states once: each <path> named by its UF code, which is what the API answers. */
async function ensureMap() {
  const { echarts, brazilMap } = await loadLib();
  if (!registered) {
    const paths = brazilMap.locations
      .map((loc) => `<path name="${escapeHtml(loc.id.toUpperCase())}" d="${escapeHtml(loc.path)}"/>`)
      .join("");
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${escapeHtml(brazilMap.viewBox)}">${paths}</svg>`;
    echarts.registerMap(MAP_NAME, { svg });
    registered = true;
  }
  return echarts;
}

/**
 * The map's option. narrow (a phone-sized box): the legend lies under the map, centred, instead of beside it,
 * where it would cover the western states.
 */
export function mapOption(data, { narrow = false } = {}) {
  const items = data.items || [];
  const byUf = Object.fromEntries(items.map((i) => [i.uf, i]));
  const max = Math.max(0, ...items.map((i) => i.value));
  return {
    tooltip: {
      trigger: "item",
      confine: true,
      className: "chart-tooltip",
      borderWidth: 0,
      formatter: (p) => {
        const item = byUf[p.name];
        const parts = [ufLabel(p.name), formatCurrency(item?.value ?? 0), `${formatPercent(item?.share_pct ?? 0)} do total`];
        return parts.map(escapeHtml).join("<br>");
      },
    },
    visualMap: {
      type: "continuous",
      min: 0,
      max: max || 1,
      ...(narrow
        ? { orient: "horizontal", left: "center", bottom: 0, itemHeight: 140, itemWidth: 10 }
        : { left: 0, bottom: 0, itemHeight: 90, itemWidth: 10 }),
      text: [formatCurrencyCompact(max), formatCurrencyCompact(0)],
      textStyle: { color: "#555", fontSize: 11 },
      calculable: false,
      realtime: false,
      inRange: { color: ["#e3eef9", "#6fa8dc", "#0b5394"] },
      formatter: (v) => formatCurrencyCompact(v),
    },
    series: [{
      type: "map",
      map: MAP_NAME,
      roam: false,
      selectedMode: false,
      nameProperty: "name",
      layoutCenter: narrow ? ["50%", "44%"] : ["55%", "50%"],
      layoutSize: narrow ? "86%" : "95%",
      itemStyle: { borderColor: "#fff", borderWidth: 0.6, areaColor: "#eee" },
      emphasis: { label: { show: false }, itemStyle: { areaColor: "#e69138" } },
      label: { show: false },
      data: Object.keys(UF_NAMES).map((uf) => ({ name: uf, value: byUf[uf]?.value ?? 0 })),
    }],
  };
}

/** Mount the map on el; same contract as mountChart. */
export async function mountMap(el, data) {
  const echarts = await ensureMap();
  const chart = echarts.init(el, null, { renderer: "canvas" });
  const narrow = el.clientWidth < NARROW_PX;
  chart.setOption({ animation: false, textStyle: { fontFamily: "inherit" }, ...mapOption(data, { narrow }) });
  const observer = followSize(el, chart);
  return {
    chart,
    dispose() {
      observer.disconnect();
      chart.dispose();
    },
  };
}

/** The amount without a UF, and the map's credit (its license asks for it). */
export async function mapFootnote(data) {
  const { BRAZIL_MAP_LICENSE } = await loadLib();
  return h("p", { class: "widget-footnote" },
    data.unassigned ? `Sem UF: ${formatCurrency(data.unassigned)}. ` : "",
    "Mapa: ",
    h("a", { href: BRAZIL_MAP_LICENSE, target: "_blank", rel: "noopener" }, "MapSVG, CC BY 4.0"),
    ".");
}
