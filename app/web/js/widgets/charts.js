// ECharts, loaded on first use (the sign-in page does not wait for it), and the chart widgets.

import { h } from "../dom.js";
import {
  formatChange, formatCurrency, formatCurrencyCompact, formatDate, formatInteger, formatMonth, formatPercent, formatPeriod,
} from "../format.js";

let libPromise = null;
/** The vendored libraries ({echarts, brazilMap}), imported once. */
export function loadLib() {
  libPromise ??= import("../lib.js");
  return libPromise;
}

export const COLORS = ["#0b5394", "#e69138", "#6aa84f", "#8e7cc3", "#c27ba0", "#45818e", "#999999"];
const AXIS_LABEL = { color: "#555", fontSize: 11, hideOverlap: true };

/** Tooltip text is set as HTML by ECharts: everything from the API is escaped here first. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
const lines = (...parts) => parts.filter(Boolean).map(escapeHtml).join("<br>");

/**
 * Resize the chart with its box. A box of no size (hidden: "Tabela", a page being left) is skipped: ECharts would
 * lay the map out at scale 0 and fail inverting its transform.
 */
export function followSize(el, chart) {
  const observer = new ResizeObserver(([entry]) => {
    const { width, height } = entry.contentRect;
    if (width > 0 && height > 0 && !chart.isDisposed()) chart.resize();
  });
  observer.observe(el);
  return observer;
}

/**
 * Mount an ECharts instance on el (which must have a size) with `option`; it follows el's size.
 * Returns {chart, dispose}.
 */
export async function mountChart(el, option) {
  const { echarts } = await loadLib();
  const chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({ animation: false, color: COLORS, textStyle: { fontFamily: "inherit" }, ...option });
  const observer = followSize(el, chart);
  return {
    chart,
    dispose() {
      observer.disconnect();
      chart.dispose();
    },
  };
}

const baseTooltip = { confine: true, className: "chart-tooltip", borderWidth: 0, padding: [6, 10] };
// right: room for the last category label, which ECharts centres on the axis end (containLabel does not count it).
const grid = { left: 8, right: 28, top: 16, bottom: 8, containLabel: true };

/** valor-mes-a-mes: the value per month, with the change against the month before in the tooltip. */
export function monthlyOption(items) {
  return {
    grid,
    tooltip: {
      ...baseTooltip,
      trigger: "axis",
      formatter: (params) => {
        const item = items[params[0].dataIndex];
        return lines(formatMonth(item.month), formatCurrency(item.value),
          item.change_pct === null ? "" : `${formatChange(item.change_pct)} em relação ao mês anterior`);
      },
    },
    xAxis: { type: "category", data: items.map((i) => formatMonth(i.month)), axisLabel: AXIS_LABEL },
    yAxis: { type: "value", axisLabel: { ...AXIS_LABEL, formatter: formatCurrencyCompact } },
    series: [{
      type: "line", name: "Valor", data: items.map((i) => i.value), smooth: true, symbolSize: 6,
      areaStyle: { opacity: 0.12 },
    }],
  };
}

/**
 * serie-temporal: value per bucket of the grain; a line for days, weeks and months, bars for quarters and years
 * (a few wide buckets). The tooltip gives the bucket's days and its row count.
 */
export function seriesOption(items, grain) {
  const bars = grain === "quarter" || grain === "year";
  return {
    grid,
    tooltip: {
      ...baseTooltip,
      trigger: "axis",
      formatter: (params) => {
        const item = items[params[0].dataIndex];
        const days = item.start === item.end ? "" : `${formatDate(item.start)} a ${formatDate(item.end)}`;
        return lines(formatPeriod(item.period, grain), days, formatCurrency(item.value),
          `${formatInteger(item.row_count)} registros`);
      },
    },
    xAxis: { type: "category", data: items.map((i) => formatPeriod(i.period, grain)), axisLabel: AXIS_LABEL },
    yAxis: { type: "value", axisLabel: { ...AXIS_LABEL, formatter: formatCurrencyCompact } },
    series: [bars
      ? { type: "bar", name: "Valor", data: items.map((i) => i.value), barMaxWidth: 48 }
      : {
        type: "line", name: "Valor", data: items.map((i) => i.value), smooth: items.length < 40,
        showSymbol: items.length <= 24, symbolSize: 6, areaStyle: { opacity: 0.12 }, // dots only when few
      }],
  };
}

/** acumulado-ano: the year-to-date running total, one line per year (it restarts in January). */
export function cumulativeOption(items) {
  const years = [...new Set(items.map((i) => i.month.slice(0, 4)))];
  return {
    grid: { ...grid, top: years.length > 1 ? 28 : 16 },
    legend: years.length > 1 ? { top: 0, right: 0, textStyle: AXIS_LABEL } : undefined,
    tooltip: {
      ...baseTooltip,
      trigger: "axis",
      formatter: (params) => {
        const item = items[params[0].dataIndex];
        return lines(formatMonth(item.month), `Acumulado no ano: ${formatCurrency(item.cumulative)}`,
          `No mês: ${formatCurrency(item.value)}`);
      },
    },
    xAxis: { type: "category", data: items.map((i) => formatMonth(i.month)), axisLabel: AXIS_LABEL },
    yAxis: { type: "value", axisLabel: { ...AXIS_LABEL, formatter: formatCurrencyCompact } },
    series: years.map((year, n) => ({
      type: "line", name: year, symbolSize: 6, lineStyle: { width: 3 }, color: COLORS[(n + 2) % COLORS.length],
      data: items.map((i) => (i.month.startsWith(year) ? i.cumulative : null)),
    })),
  };
}

/** top-categorias: horizontal bars, largest on top, with "Outras" when the API reports the rest. */
export function categoriesOption(rows) {
  return {
    grid: { ...grid, right: 64 },
    tooltip: {
      ...baseTooltip,
      trigger: "item",
      formatter: (p) => {
        const row = rows[p.dataIndex];
        return lines(row.label, formatCurrency(row.value),
          row.share_pct === null ? "" : `${formatPercent(row.share_pct)} do total`);
      },
    },
    xAxis: { type: "value", axisLabel: { ...AXIS_LABEL, formatter: formatCurrencyCompact } },
    yAxis: {
      type: "category", inverse: true, data: rows.map((r) => r.label),
      axisLabel: { ...AXIS_LABEL, width: 110, overflow: "truncate" },
    },
    series: [{
      type: "bar", data: rows.map((r) => r.value), color: COLORS[1], barMaxWidth: 22,
      label: { show: true, position: "right", formatter: (p) => formatCurrencyCompact(p.value), ...AXIS_LABEL },
    }],
  };
}

/** An accessible table of a chart's numbers (hidden until "Tabela" is chosen); data-value holds raw numbers. */
export function dataTable(caption, headers, rows) {
  return h("table", { class: "data-table", "data-testid": "widget-table" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows.map((row) => h("tr", { "data-key": row.key, "data-value": row.value, ...row.attrs },
      row.cells.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))))));
}
