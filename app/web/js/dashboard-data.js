// Loading a dashboard's widget data.
//
// Without UF/category filters: one call, GET /dashboards/{id}/data?from=&to= (the API's default range is the
// last 12 months of the org's data). That endpoint takes no UF/category, so with a view filter each widget is
// fetched from its own endpoint (GET /indicators/{key} or GET /indicators/custom/{id}/run) with the widget's
// params and the filter on top (the filter wins over a widget's own uf/category). Both paths answer the same
// shape: {from, to, as_of, widgets: [{id, title, indicator, custom_indicator_id, position, data | error}]}.

import { api, ApiError } from "./api.js";

const RANGE_PARAMS = ["from", "to", "start", "end"];

export const hasViewFilters = (filters) => Boolean(filters.uf || filters.category);

async function customDefinition(id, cache, signal) {
  if (!cache.has(id)) cache.set(id, api.get(`/indicators/custom/${id}`, undefined, { signal }));
  return cache.get(id);
}

async function fetchWidget(widget, range, filters, cache, signal) {
  const viewFilters = {};
  if (filters.uf) viewFilters.uf = filters.uf;
  if (filters.category) viewFilters.category = filters.category;
  if (widget.indicator) {
    return api.get(`/indicators/${encodeURIComponent(widget.indicator)}`,
      { ...widget.params, from: range.from, to: range.to, ...viewFilters }, { signal });
  }
  // Custom SQL: pass what it declares, as the dashboard data endpoint does (range under from/to/start/end).
  const definition = await customDefinition(widget.custom_indicator_id, cache, signal);
  const declared = new Set(definition.parameters.map((p) => p.name));
  const all = { from: range.from, to: range.to, start: range.from, end: range.to, ...widget.params, ...viewFilters };
  const query = Object.fromEntries(Object.entries(all).filter(([name]) => declared.has(name)));
  const data = await api.get(`/indicators/custom/${widget.custom_indicator_id}/run`, query, { signal });
  const ignored = Object.keys(viewFilters).filter((name) => !declared.has(name));
  return ignored.length ? { ...data, ignored_filters: ignored } : data;
}

/** One widget's entry ({id, ..., data} or {..., error}) fetched from its own endpoint. */
async function widgetEntry(widget, range, filters, cache, signal) {
  const entry = {
    id: widget.id, title: widget.title, indicator: widget.indicator,
    custom_indicator_id: widget.custom_indicator_id, position: widget.position,
  };
  try {
    entry.data = await fetchWidget(widget, range, filters, cache, signal);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    entry.error = { code: err.code, detail: err.detail };
  }
  return entry;
}

/** One widget's data for `range` ({from, to}, both required) and `filters`, e.g. after its grain changed. */
export function loadWidgetData(widget, range, filters, { signal } = {}) {
  return widgetEntry(widget, range, filters, new Map(), signal);
}

/** The widget with the params the view shows (a grain chosen without editing overrides the saved one). */
export const withOverride = (widget, override) => (override ? { ...widget, params: { ...widget.params, ...override } } : widget);

/**
 * The data of every widget of `dashboard` for `range` ({from, to}, both or neither) and `filters` ({uf, category}).
 * `defaultRange` fills a missing range when per-widget calls need one (they require from/to). `overrides`
 * (widget index -> params) are params shown but not saved: those widgets are fetched on their own.
 */
export async function loadDashboardData(dashboard, range, filters, { signal, defaultRange, overrides = new Map() } = {}) {
  const wantRange = range.from && range.to ? { from: range.from, to: range.to } : {};
  const cache = new Map();
  if (!hasViewFilters(filters)) {
    const data = await api.get(`/dashboards/${dashboard.id}/data`, wantRange, { signal });
    if (!overrides.size) return data;
    const widgets = await Promise.all(data.widgets.map((entry, i) => (overrides.has(i)
      ? widgetEntry(withOverride(dashboard.widgets[i], overrides.get(i)), data, filters, cache, signal)
      : entry)));
    return { ...data, widgets };
  }
  let effective = wantRange.from ? wantRange : defaultRange;
  if (!effective) {
    const first = await api.get(`/dashboards/${dashboard.id}/data`, {}, { signal });
    effective = { from: first.from, to: first.to };
  }
  const widgets = await Promise.all(dashboard.widgets.map((widget, i) =>
    widgetEntry(withOverride(widget, overrides.get(i)), effective, filters, cache, signal)));
  const asOf = widgets.map((w) => w.data?.as_of).find(Boolean) ?? null;
  return { dashboard_id: dashboard.id, from: effective.from, to: effective.to, as_of: asOf, widgets };
}

/**
 * What the filters can offer, from GET /indicators/dimensions without a range: every category and UF the org
 * has data for (with row counts), and its first and last dates.
 */
export async function filterOptions({ signal } = {}) {
  const dims = await api.get("/indicators/dimensions", undefined, { signal });
  return {
    categories: (dims.categories || []).map((c) => c.category).filter(Boolean),
    ufs: (dims.ufs || []).map((u) => u.uf).filter(Boolean),
    firstDate: dims.first_date,
    lastDate: dims.last_date,
  };
}

export { RANGE_PARAMS };
