// The grid of widgets, shared by the dashboard page (with edit controls) and the embed page (read-only).

import { h, options } from "./dom.js";
import { GRAIN_LABELS } from "./format.js";
import { place } from "./layout.js";
import { loading } from "./ui.js";
import { renderWidgetBody } from "./widgets/index.js";

const PARAM_LABELS = { uf: "UF", category: "Categoria", data_source_id: "Fonte nº", limit: "Top" };
const SHOWN_ELSEWHERE = new Set(["grain"]); // serie-temporal's grain has its own selector (or is in the title)

/** A widget's fixed parameters in a few words ("UF RJ · Top 3"), so a filtered widget says so. */
export function paramsText(params) {
  return Object.entries(params || {})
    .filter(([name, value]) => value !== null && value !== undefined && value !== "" && !SHOWN_ELSEWHERE.has(name))
    .map(([name, value]) => `${PARAM_LABELS[name] || name} ${value}`)
    .join(" · ");
}

/** A serie-temporal widget's grain selector (dia, semana, mês, trimestre, ano). */
function grainSelect(grain, onChange) {
  return h("select", {
    class: "grain-select", "aria-label": "Agrupar por", title: "Agrupar por", "data-testid": "widget-grain",
    onchange: (e) => onChange(e.target.value),
  }, options(Object.entries(GRAIN_LABELS), grain));
}

/**
 * A grid for `widgets`. controls(widget, index) may return extra header buttons (edit mode).
 * onGrain(index, grain): a serie-temporal widget's grain was changed (no selector without it: the embed page);
 * grainOf(index) answers the grain shown.
 * Returns {el, setData(data, ctx), setWidgetData(index, entry, ctx), setWidgetLoading(index), positions(list),
 * dispose()}.
 */
export function createGrid(widgets, { controls, onGrain, grainOf } = {}) {
  const el = h("div", { class: "grid", "data-testid": "dashboard-grid" });
  const cards = [];
  let disposers = new Map(); // card index -> dispose

  widgets.forEach((widget, index) => {
    const body = h("div", { class: "widget-body" }, loading());
    const tableToggle = h("button", {
      type: "button", class: "btn btn-small btn-ghost table-toggle", title: "Alternar entre gráfico e tabela",
      "aria-pressed": "false", hidden: true,
      onclick: () => {
        const on = card.classList.toggle("show-table");
        tableToggle.setAttribute("aria-pressed", String(on));
        tableToggle.textContent = on ? "Gráfico" : "Tabela";
      },
    }, "Tabela");
    const card = h("article", {
      class: "widget",
      "data-testid": "widget",
      "data-indicator": widget.indicator || "custom",
      "data-custom-indicator-id": widget.custom_indicator_id,
      "data-index": index,
      "aria-label": widget.title,
    },
    h("header", { class: "widget-header" },
      h("div", { class: "widget-heading" },
        h("h3", { class: "widget-title" }, widget.title),
        paramsText(widget.params) ? h("p", { class: "widget-params", "data-testid": "widget-params" }, paramsText(widget.params)) : null),
      h("div", { class: "widget-tools" },
        widget.indicator === "serie-temporal" && onGrain
          ? grainSelect(grainOf?.(index) || widget.params?.grain || "month", (grain) => onGrain(index, grain)) : null,
        tableToggle, controls ? controls(widget, index) : null)),
    body);
    place(card, widget.position);
    cards.push({ card, body, tableToggle, widget });
    el.append(card);
  });

  function disposeAll() {
    disposers.forEach((dispose) => dispose());
    disposers = new Map();
  }

  async function renderCard(i, entry, ctx) {
    const { card, body, tableToggle, widget } = cards[i];
    disposers.get(i)?.();
    disposers.delete(i);
    card.dataset.state = "loading";
    try {
      disposers.set(i, await renderWidgetBody(body, widget, entry, ctx));
      const hasTable = Boolean(body.querySelector("[data-testid=widget-table]"));
      tableToggle.hidden = !hasTable;
      card.dataset.state = entry?.error ? "error" : "ready";
      if (entry?.data?.grain) card.dataset.grain = entry.data.grain; // the grain of the buckets shown
      if (entry?.data?.ignored_filters) {
        body.append(h("p", { class: "hint" },
          `Filtro não aplicado a este indicador: ${entry.data.ignored_filters.join(", ")}.`));
      }
    } catch (err) {
      console.error(err);
      card.dataset.state = "error";
      body.replaceChildren(h("p", { class: "notice notice-error" }, `Não foi possível desenhar este widget: ${err.message}`));
    }
  }

  return {
    el,
    /** Render each widget from the data answer (entries matched by order, as the API returns them). */
    async setData(data, ctx = {}) {
      disposeAll();
      await Promise.all(cards.map((_, i) => renderCard(i, data.widgets[i], ctx)));
    },
    /** Render one widget again (e.g. a new grain). */
    setWidgetData(index, entry, ctx = {}) {
      cards[index].card.classList.remove("is-loading");
      return renderCard(index, entry, ctx);
    },
    /** Show one widget as loading. */
    setWidgetLoading(index) {
      cards[index].card.classList.add("is-loading");
    },
    /** Show widgets as loading (a new range or filter is on its way). */
    setLoading() {
      cards.forEach(({ card }) => card.classList.add("is-loading"));
      return () => cards.forEach(({ card }) => card.classList.remove("is-loading"));
    },
    /** Apply new positions without redrawing (charts follow their box size). */
    positions(list) {
      list.forEach((pos, i) => place(cards[i].card, pos));
    },
    dispose: disposeAll,
  };
}
