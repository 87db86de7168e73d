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

/**
 * The data of every widget of `dashboard` for `range` ({from, to}, both or neither) and `filters` ({uf, category}).
 * `defaultRange` fills a missing range when per-widget calls need one (they require from/to).
 */
export async function loadDashboardData(dashboard, range, filters, { signal, defaultRange } = {}) {
  const wantRange = range.from && range.to ? { from: range.from, to: range.to } : {};
  if (!hasViewFilters(filters)) {
    return api.get(`/dashboards/${dashboard.id}/data`, wantRange, { signal });
  }
  let effective = wantRange.from ? wantRange : defaultRange;
  if (!effective) {
    const first = await api.get(`/dashboards/${dashboard.id}/data`, {}, { signal });
    effective = { from: first.from, to: first.to };
  }
  const cache = new Map();
  const widgets = await Promise.all(dashboard.widgets.map(async (widget) => {
    const entry = {
      id: widget.id, title: widget.title, indicator: widget.indicator,
      custom_indicator_id: widget.custom_indicator_id, position: widget.position,
    };
    try {
      entry.data = await fetchWidget(widget, effective, filters, cache, signal);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      entry.error = { code: err.code, detail: err.detail };
    }
    return entry;
  }));
  const asOf = widgets.map((w) => w.data?.as_of).find(Boolean) ?? null;
  return { dashboard_id: dashboard.id, from: effective.from, to: effective.to, as_of: asOf, widgets };
}

/**
 * Known categories for the filter's suggestions: the top categories of the range. One place to switch to
 * GET /indicators/dimensions when the API has it.
 */
export async function categoryOptions(range, { signal } = {}) {
  if (!range.from || !range.to) return [];
  const data = await api.get("/indicators/top-categorias", { from: range.from, to: range.to, limit: 100 }, { signal });
  return (data.items || []).map((i) => i.category).filter(Boolean);
}

export { RANGE_PARAMS };
