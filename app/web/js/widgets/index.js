// Widget bodies: one renderer per indicator, shared by the dashboard page and the embed page.
// A renderer gets the body element and the widget's data (as GET /dashboards/{id}/data answers it) and
// returns a dispose function.

import { h } from "../dom.js";
import {
  formatCell, formatChange, formatCurrency, formatDate, formatInteger, formatMonth, formatPercent, formatPeriod, GRAIN_LABELS,
} from "../format.js";
import { emptyState, notice } from "../ui.js";
import { ufLabel } from "../ufs.js";
import { categoriesOption, cumulativeOption, dataTable, monthlyOption, mountChart, seriesOption } from "./charts.js";
import { mapFootnote, mountMap } from "./map.js";

/** What each ready-made indicator is called in the interface. */
export const INDICATOR_LABELS = {
  "valor-mes-a-mes": "Valor mês a mês (linha)",
  "mapa-por-uf": "Mapa por UF",
  kpis: "Indicadores-chave (KPIs)",
  "top-categorias": "Top categorias (barras)",
  "acumulado-ano": "Acumulado no ano (linha)",
  "serie-temporal": "Série temporal (dia, semana, mês, trimestre ou ano)",
};

/** A chart body: the chart (a canvas ECharts draws) plus its numbers as a table. */
async function chartBody(body, caption, table, mount) {
  const canvasBox = h("div", { class: "chart", "data-testid": "chart", role: "img", "aria-label": caption });
  body.append(canvasBox, h("div", { class: "table-wrap" }, table));
  const mounted = await mount(canvasBox);
  canvasBox.dataset.rendered = "true";
  return () => mounted.dispose();
}

function monthly(body, data, widget) {
  const items = data.items || [];
  const table = dataTable(widget.title, ["Mês", "Valor", "Variação"], items.map((i) => ({
    key: i.month, value: i.value, cells: [formatMonth(i.month), formatCurrency(i.value), formatChange(i.change_pct)],
  })));
  return chartBody(body, `Gráfico de linha: ${widget.title}`, table, (el) => mountChart(el, monthlyOption(items)));
}

function cumulative(body, data, widget) {
  const items = data.items || [];
  const table = dataTable(widget.title, ["Mês", "No mês", "Acumulado"], items.map((i) => ({
    key: i.month, value: i.cumulative,
    cells: [formatMonth(i.month), formatCurrency(i.value), formatCurrency(i.cumulative)],
  })));
  return chartBody(body, `Gráfico de linha: ${widget.title}`, table, (el) => mountChart(el, cumulativeOption(items)));
}

function timeSeries(body, data, widget) {
  const items = data.items || [];
  const grain = data.grain || "month";
  const table = dataTable(widget.title, ["Período", "Valor", "Registros"], items.map((i) => ({
    key: i.period, value: i.value, attrs: { "data-start": i.start, "data-end": i.end },
    cells: [formatPeriod(i.period, grain), formatCurrency(i.value), formatInteger(i.row_count)],
  })));
  return chartBody(body, `Série temporal por ${GRAIN_LABELS[grain] || grain}: ${widget.title}`, table, (el) => mountChart(el, seriesOption(items, grain)));
}

function categories(body, data, widget) {
  const rows = (data.items || []).map((i) => ({ label: i.category ?? "(sem categoria)", value: i.value, share_pct: i.share_pct }));
  if (data.others) {
    rows.push({ label: "Outras", value: data.others, share_pct: data.total ? (100 * data.others) / data.total : null });
  }
  const table = dataTable(widget.title, ["Categoria", "Valor", "Participação"], rows.map((r) => ({
    key: r.label, value: r.value, cells: [r.label, formatCurrency(r.value), formatPercent(r.share_pct)],
  })));
  return chartBody(body, `Gráfico de barras: ${widget.title}`, table, (el) => mountChart(el, categoriesOption(rows)));
}

async function map(body, data, widget) {
  const items = data.items || [];
  const table = dataTable(widget.title, ["UF", "Valor", "Participação"], items.map((i) => ({
    key: i.uf, value: i.value, attrs: { "data-uf": i.uf, "data-share": i.share_pct },
    cells: [ufLabel(i.uf), formatCurrency(i.value), formatPercent(i.share_pct)],
  })));
  const canvasBox = h("div", {
    class: "chart chart-map", "data-testid": "map", role: "img", "aria-label": `Mapa do Brasil por UF: ${widget.title}`,
  });
  body.append(canvasBox, h("div", { class: "table-wrap" }, table));
  const mounted = await mountMap(canvasBox, data);
  canvasBox.dataset.rendered = "true";
  body.append(await mapFootnote(data));
  return () => mounted.dispose();
}

const KPI_CARDS = [
  ["total_value", "Total", formatCurrency],
  ["row_count", "Registros", formatInteger],
  ["average_value", "Ticket médio", formatCurrency],
  ["distinct_categories", "Categorias", formatInteger],
];

function kpis(body, data) {
  const { current = {}, previous = {}, change_pct: change = {} } = data;
  body.append(h("div", { class: "kpis" }, KPI_CARDS.map(([key, label, fmt]) => {
    const delta = change[key];
    const trend = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
    return h("div", { class: "kpi", "data-testid": "kpi", "data-kpi": key },
      h("div", { class: "kpi-label" }, label),
      h("div", { class: "kpi-value", "data-testid": "kpi-value", "data-kpi": key, "data-value": current[key] }, fmt(current[key])),
      h("div", { class: `kpi-change kpi-${trend}`, title: `Período anterior: ${formatDate(previous.from)} a ${formatDate(previous.to)}` },
        delta === null || delta === undefined ? "sem base de comparação" : `${formatChange(delta)} vs período anterior`));
  })));
  return () => {};
}

// A NUMERIC result (Postgres SUM, AVG, ...) arrives as a decimal string ("12345.67") so that no digit is lost.
const DECIMAL_TEXT = /^-?\d+\.\d+$/;

/** The columns whose every value is a number or a decimal string: shown and kept (data-value) as numbers. */
function numericColumns(columns, rows) {
  return new Set(columns.filter((c) => rows.some((row) => row[c] !== null && row[c] !== undefined)
    && rows.every((row) => row[c] === null || row[c] === undefined || typeof row[c] === "number"
      || (typeof row[c] === "string" && DECIMAL_TEXT.test(row[c])))));
}

/** A custom SQL indicator: its columns and rows as a table. */
function customTable(body, data) {
  const columns = data.columns || [];
  const rows = data.rows || [];
  const numeric = numericColumns(columns, rows);
  body.append(h("div", { class: "table-wrap table-scroll" },
    h("table", { class: "grid-table", "data-testid": "custom-table" },
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => {
        const v = numeric.has(c) && typeof row[c] === "string" ? Number(row[c]) : row[c];
        return h("td", { class: typeof v === "number" ? "num" : null, "data-value": typeof v === "number" ? v : null }, formatCell(v));
      })))))));
  if (data.truncated) {
    body.append(notice("warning", `Resultado cortado (${data.truncated_reason === "bytes" ? "tamanho" : "número de linhas"}): `
      + `mostrando ${formatInteger(rows.length)} linhas.`));
  }
  return () => {};
}

const RENDERERS = {
  "valor-mes-a-mes": monthly,
  "mapa-por-uf": map,
  kpis,
  "top-categorias": categories,
  "acumulado-ano": cumulative,
  "serie-temporal": timeSeries,
};

/** Whether an indicator's answer has nothing to show for the range. */
function isEmpty(widget, data) {
  if (widget.custom_indicator_id) return !(data.rows || []).length;
  switch (widget.indicator) {
    case "kpis": return !data.current?.row_count;
    case "mapa-por-uf": return !data.total && !data.unassigned;
    case "top-categorias": return !(data.items || []).length;
    default: return !(data.items || []).some((i) => i.value);
  }
}

const ERROR_HELP = {
  deadline_exceeded: "O painel demorou demais para responder. Recarregue a página ou diminua o período.",
  query_failed: "A consulta SQL deste indicador falhou. Corrija o indicador personalizado (Admin).",
  statement_timeout: "A consulta demorou demais. Diminua o período ou simplifique o indicador.",
  result_too_large: "O resultado é grande demais. Agregue mais na consulta do indicador.",
};

/**
 * Fill `body` for one widget's entry ({data} or {error}). ctx.orgHasData: false when the org never loaded any
 * data (the empty state then points to the upload page). Returns a dispose function.
 */
export async function renderWidgetBody(body, widget, entry, ctx = {}) {
  body.replaceChildren();
  if (entry?.error) {
    body.append(h("div", { class: "widget-error", "data-testid": "widget-error" },
      notice("error", entry.error.detail || "Erro ao carregar este widget.",
        h("small", { class: "code" }, ` (${entry.error.code})`)),
      ERROR_HELP[entry.error.code] ? h("p", { class: "hint" }, ERROR_HELP[entry.error.code]) : null));
    return () => {};
  }
  const data = entry?.data;
  if (!data) {
    body.append(emptyState("Sem dados para este widget."));
    return () => {};
  }
  if (isEmpty(widget, data)) {
    body.append(ctx.orgHasData === false
      ? emptyState("Ainda não há dados nesta organização.",
        ctx.readOnly ? null : h("a", { class: "btn btn-primary", href: "#/upload" }, "Enviar um arquivo CSV ou XLSX"))
      : emptyState("Sem dados no período e nos filtros escolhidos. Amplie o período ou limpe os filtros."));
    return () => {};
  }
  const render = widget.custom_indicator_id ? customTable : RENDERERS[widget.indicator];
  if (!render) {
    body.append(notice("warning", `Indicador desconhecido para esta versão do app: ${widget.indicator}`));
    return () => {};
  }
  return render(body, data, widget);
}
