// One dashboard: its widgets on the grid, the date range and UF/category filters, and (for Editors) editing:
// rename, duplicate, delete, add/edit/move/remove widgets. Widgets are saved with PATCH /dashboards/{id}
// (the API replaces the whole widget list; widget ids change, their order does not).

import { api, listAll } from "../api.js";
import { can } from "../auth.js";
import { filterOptions, hasViewFilters, loadDashboardData, loadWidgetData, withOverride } from "../dashboard-data.js";
import { createGrid } from "../dashboard-grid.js";
import { h, options, replace } from "../dom.js";
import { formatDate, formatDateTime, parseDate } from "../format.js";
import { move, nextSlot, normalize } from "../layout.js";
import { navigate, replaceQuery } from "../router.js";
import { confirmDialog, errorNotice, loading, notice, promptDialog, toast } from "../ui.js";
import { UF_CODES, ufLabel } from "../ufs.js";
import { loadLib } from "../widgets/charts.js";
import { editWidget } from "./widget-editor.js";

/** The body PATCH /dashboards/{id} takes for one widget (WidgetIn). */
export function widgetIn(w) {
  const out = { title: w.title, params: w.params || {}, position: normalize(w.position) };
  if (w.custom_indicator_id) out.custom_indicator_id = w.custom_indicator_id;
  else out.indicator = w.indicator;
  return out;
}

export async function dashboardView(container, { params, query, signal }) {
  container.append(loading());
  loadLib(); // the chart library downloads while the dashboard and its data are fetched
  const id = Number(params.id);
  const range = { from: query.get("from") || "", to: query.get("to") || "" };
  const filters = { uf: query.get("uf") || "", category: query.get("category") || "" };
  // Without view filters the data needs only the id: fetch it alongside the dashboard, not after it.
  const firstData = hasViewFilters(filters) ? null : loadDashboardData({ id }, range, filters, { signal });
  firstData?.catch(() => {}); // its error is shown when it is awaited, below
  let dashboard = await api.get(`/dashboards/${id}`, undefined, { signal });
  const state = {
    editing: query.get("edit") === "1" && can("Editor"),
    range,
    filters,
    shownRange: null, // the range the last answer was for (the API's default when none was asked)
    data: null,
    loadSeq: 0,
    saveTimer: null,
    grains: new Map(), // widget index -> grain chosen while not editing (shown, not saved)
    grainSeq: new Map(), // widget index -> the last grain request (an older answer is dropped)
  };
  let grid = null;

  const titleEl = h("h1", { "data-testid": "dashboard-title" }, dashboard.name);
  const meta = h("p", { class: "meta", "data-testid": "dashboard-meta" });
  const banner = h("div", { class: "banner" });
  const gridBox = h("div", { class: "grid-box", "data-testid": "dashboard-body" });
  const saveStatus = h("span", { class: "save-status", "aria-live": "polite" });

  // --- filters -------------------------------------------------------------------------------------------
  const fromInput = h("input", { type: "text", name: "from", inputmode: "numeric", placeholder: "dd/mm/aaaa", size: 10, "data-testid": "filter-from" });
  const toInput = h("input", { type: "text", name: "to", inputmode: "numeric", placeholder: "dd/mm/aaaa", size: 10, "data-testid": "filter-to" });
  const ufSelect = h("select", { name: "uf", "data-testid": "filter-uf" });
  const setUfOptions = (codes) => {
    const selected = ufSelect.value || state.filters.uf;
    replace(ufSelect, options([["", "Todas"], ...codes.map((uf) => [uf, ufLabel(uf)])], selected));
  };
  setUfOptions(UF_CODES); // until GET /indicators/dimensions says which UFs have data
  const categoryList = h("datalist", { id: `categories-${id}` });
  const categoryInput = h("input", {
    type: "text", name: "category", list: categoryList.id, placeholder: "Todas", value: state.filters.category,
    "data-testid": "filter-category", maxlength: 255,
  });
  const filterError = h("div", { class: "filter-error" });
  const filterForm = h("form", { class: "filters", "data-testid": "filters", onsubmit: (e) => { e.preventDefault(); applyFilters(); } },
    h("label", {}, h("span", {}, "De"), fromInput),
    h("label", {}, h("span", {}, "Até"), toInput),
    h("label", {}, h("span", {}, "UF"), ufSelect),
    h("label", {}, h("span", {}, "Categoria"), categoryInput, categoryList),
    h("button", { type: "submit", class: "btn btn-primary", "data-testid": "filter-apply" }, "Aplicar"),
    h("button", { type: "button", class: "btn", onclick: clearFilters, "data-testid": "filter-clear" }, "Limpar"),
    filterError);

  function applyFilters() {
    const from = fromInput.value.trim() ? parseDate(fromInput.value) : "";
    const to = toInput.value.trim() ? parseDate(toInput.value) : "";
    if (from === null || to === null) return replace(filterError, notice("error", "Data inválida: use dd/mm/aaaa."));
    if (Boolean(from) !== Boolean(to)) return replace(filterError, notice("error", "Informe as duas datas, ou nenhuma."));
    if (from && from > to) return replace(filterError, notice("error", "A data inicial é depois da final."));
    filterError.replaceChildren();
    state.range = { from, to };
    state.filters = { uf: ufSelect.value, category: categoryInput.value.trim() };
    syncQuery();
    return loadData();
  }

  function clearFilters() {
    fromInput.value = "";
    toInput.value = "";
    ufSelect.value = "";
    categoryInput.value = "";
    applyFilters();
  }

  function syncQuery() {
    replaceQuery({ ...state.range, ...state.filters, edit: state.editing ? "1" : "" });
  }

  // --- data ----------------------------------------------------------------------------------------------
  async function loadData(prefetched = null) {
    const seq = ++state.loadSeq;
    const done = grid?.setLoading();
    try {
      const data = await (prefetched ?? loadDashboardData(dashboard, state.range, state.filters,
        { signal, defaultRange: state.shownRange, overrides: grainOverrides() }));
      if (seq !== state.loadSeq) return;
      state.data = data;
      state.shownRange = { from: data.from, to: data.to };
      if (!state.range.from) {
        fromInput.value = formatDate(data.from);
        toInput.value = formatDate(data.to);
      }
      const filterText = [state.filters.uf && `UF ${state.filters.uf}`, state.filters.category && `categoria "${state.filters.category}"`]
        .filter(Boolean).join(", ");
      replace(meta,
        `Período: ${formatDate(data.from)} a ${formatDate(data.to)}`,
        filterText ? ` · Filtro: ${filterText}` : "",
        data.as_of ? ` · Dados carregados em ${formatDateTime(data.as_of)}` : "");
      meta.dataset.from = data.from;
      meta.dataset.to = data.to;
      replace(banner, data.as_of ? null : notice("info",
        "Ainda não há dados nesta organização. ",
        can("Editor") ? h("a", { href: "#/upload" }, "Envie um arquivo CSV ou XLSX") : "Peça a um Editor para enviar os dados",
        " e os widgets se preenchem."));
      await grid.setData(data, { orgHasData: Boolean(data.as_of) });
      gridBox.dataset.loaded = String(seq);
    } catch (err) {
      if (err.name === "AbortError") return;
      replace(banner, errorNotice(err, "Não foi possível carregar os dados"));
    } finally {
      done?.();
    }
  }

  /** UF and category choices: what the org has data for (GET /indicators/dimensions), loaded once. */
  async function loadFilterOptions() {
    try {
      const { ufs, categories } = await filterOptions({ signal });
      const keep = [ufSelect.value, state.filters.uf].filter(Boolean); // a chosen UF stays even without data
      setUfOptions([...new Set([...ufs, ...keep])].sort());
      ufSelect.dataset.source = "dimensions";
      const names = [...categories].sort((a, b) => a.localeCompare(b, "pt-BR"));
      replace(categoryList, names.map((name) => h("option", { value: name })));
      categoryList.dataset.source = "dimensions";
    } catch (err) {
      if (err.name !== "AbortError") console.info("filter options unavailable:", err.message); // the 27 UFs stay
    }
  }

  // --- grains (serie-temporal) ---------------------------------------------------------------------------
  const grainOverrides = () => new Map([...state.grains].map(([index, grain]) => [index, { grain }]));
  const shownGrain = (index) => state.grains.get(index) || dashboard.widgets[index]?.params?.grain || "month";

  /** A new grain for widget `index`: saved in its params while editing, else shown for this visit only. */
  async function changeGrain(index, grain) {
    const seq = (state.grainSeq.get(index) || 0) + 1;
    state.grainSeq.set(index, seq);
    if (state.editing) {
      await flushLayoutSave();
      const widgets = dashboard.widgets.map((w, i) => (i === index ? { ...w, params: { ...w.params, grain } } : w));
      try {
        await saveWidgets(widgets);
      } catch (err) {
        toast(`Não foi possível salvar o agrupamento: ${err.detail || err.message}`, "error");
        return;
      }
      state.grains.delete(index);
    } else {
      state.grains.set(index, grain);
    }
    if (!state.shownRange || state.grainSeq.get(index) !== seq) return;
    grid.setWidgetLoading(index);
    const widget = withOverride(dashboard.widgets[index], grainOverrides().get(index));
    try {
      const entry = await loadWidgetData(widget, state.shownRange, state.filters, { signal });
      if (state.grainSeq.get(index) !== seq) return;
      if (state.data) state.data.widgets[index] = entry;
      await grid.setWidgetData(index, entry, { orgHasData: Boolean(state.data?.as_of) });
    } catch (err) {
      if (err.name !== "AbortError") toast(err.detail || err.message, "error");
    }
  }

  // --- editing -------------------------------------------------------------------------------------------
  let editCtx = null;
  async function loadEditContext() {
    if (!editCtx) {
      const [catalog, customs, sources, choices] = await Promise.all([
        listAll("/indicators", { signal }), listAll("/indicators/custom", { signal }), listAll("/datasources", { signal }),
        filterOptions({ signal }).catch(() => ({ categories: [] })), // suggestions only
      ]);
      editCtx = { catalog, customs, sources, categories: choices.categories };
    }
    return { ...editCtx, nextSlot: nextSlot(dashboard.widgets.map((w) => w.position)) };
  }

  async function saveWidgets(widgets) {
    saveStatus.textContent = "Salvando…";
    try {
      // No abort signal: a save started here finishes even if the user navigates away.
      dashboard = await api.patch(`/dashboards/${id}`, { widgets: widgets.map(widgetIn) });
      saveStatus.textContent = "Salvo";
      return dashboard;
    } catch (err) {
      saveStatus.textContent = "";
      throw err;
    }
  }

  function scheduleLayoutSave() {
    clearTimeout(state.saveTimer);
    saveStatus.textContent = "Alterações não salvas…";
    state.saveTimer = setTimeout(async () => {
      state.saveTimer = null;
      try {
        await saveWidgets(dashboard.widgets);
      } catch (err) {
        toast(`Não foi possível salvar o layout: ${err.detail || err.message}`, "error");
      }
    }, 600);
  }

  function moveWidget(index, direction) {
    const positions = move(dashboard.widgets.map((w) => w.position), index, direction);
    dashboard.widgets = dashboard.widgets.map((w, i) => ({ ...w, position: positions[i] }));
    grid.positions(positions);
    scheduleLayoutSave();
  }

  async function flushLayoutSave() {
    if (state.saveTimer) {
      clearTimeout(state.saveTimer);
      state.saveTimer = null;
      await saveWidgets(dashboard.widgets);
    }
  }

  async function addOrEditWidget(index) {
    await flushLayoutSave();
    const ctx = await loadEditContext();
    const existing = index === undefined ? null : dashboard.widgets[index];
    const saved = await editWidget(existing, ctx, async (widget) => {
      const widgets = [...dashboard.widgets];
      if (existing) widgets[index] = widget;
      else widgets.push(widget);
      await saveWidgets(widgets);
    });
    if (saved) {
      if (existing) state.grains.delete(index); // the dialog saved its own grain
      toast(existing ? "Widget atualizado." : "Widget adicionado.");
      renderGrid();
      await loadData();
    }
  }

  async function removeWidget(index) {
    const widget = dashboard.widgets[index];
    if (!(await confirmDialog("Remover widget", `Remover "${widget.title}" deste painel?`, "Remover", true))) return;
    await flushLayoutSave();
    try {
      await saveWidgets(dashboard.widgets.filter((_, i) => i !== index));
    } catch (err) {
      toast(err.detail || err.message, "error");
      return;
    }
    if (state.data) state.data = { ...state.data, widgets: state.data.widgets.filter((_, i) => i !== index) };
    state.grains = new Map([...state.grains].filter(([i]) => i !== index).map(([i, g]) => [i > index ? i - 1 : i, g]));
    renderGrid();
    if (state.data) await grid.setData(state.data, { orgHasData: Boolean(state.data.as_of) });
  }

  const moveButton = (index, direction, label, symbol) => h("button", {
    type: "button", class: "btn btn-small btn-icon", title: label, "aria-label": label,
    "data-move": direction, onclick: () => moveWidget(index, direction),
  }, symbol);

  function widgetControls(widget, index) {
    if (!state.editing) return null;
    return h("span", { class: "edit-tools", "data-testid": "widget-edit-tools" },
      moveButton(index, "left", "Mover para a esquerda", "←"),
      moveButton(index, "up", "Mover para cima", "↑"),
      moveButton(index, "down", "Mover para baixo", "↓"),
      moveButton(index, "right", "Mover para a direita", "→"),
      h("button", { type: "button", class: "btn btn-small", onclick: () => addOrEditWidget(index), "data-testid": "widget-edit" }, "Editar"),
      h("button", { type: "button", class: "btn btn-small btn-danger", onclick: () => removeWidget(index), "data-testid": "widget-remove" }, "Remover"));
  }

  function renderGrid() {
    grid?.dispose();
    grid = createGrid(dashboard.widgets, { controls: widgetControls, onGrain: changeGrain, grainOf: shownGrain });
    replace(gridBox, dashboard.widgets.length ? grid.el : h("div", { class: "empty" },
      h("p", {}, "Este painel ainda não tem widgets."),
      can("Editor") ? h("button", { type: "button", class: "btn btn-primary", onclick: () => addOrEditWidget() }, "Adicionar widget") : null));
  }

  async function rename() {
    await flushLayoutSave();
    const ok = await promptDialog("Renomear painel", "Nome", dashboard.name, async (name) => {
      dashboard = await api.patch(`/dashboards/${id}`, { name }, { signal });
    });
    if (ok) {
      titleEl.textContent = dashboard.name;
      document.title = `${dashboard.name} · Painel`;
      toast("Painel renomeado.");
    }
  }

  async function duplicate() {
    await flushLayoutSave();
    try {
      const copy = await api.post(`/dashboards/${id}/duplicate`, undefined, { signal });
      toast("Cópia criada.");
      navigate(`/dashboards/${copy.id}`);
    } catch (err) {
      toast(err.detail || err.message, "error");
    }
  }

  /** The share dialog: an embed token with the filters shown now (optionally locked), and its link. */
  async function share() {
    const { shareDialog } = await import("./share.js"); // loaded on first use, off the dashboard's first paint
    return shareDialog(dashboard, { range: state.shownRange, filters: state.filters });
  }

  async function remove() {
    if (!(await confirmDialog("Excluir painel", `Excluir o painel "${dashboard.name}"? Esta ação não pode ser desfeita.`, "Excluir", true))) return;
    clearTimeout(state.saveTimer);
    state.saveTimer = null;
    try {
      await api.del(`/dashboards/${id}`, { signal });
      toast("Painel excluído.");
      navigate("/dashboards");
    } catch (err) {
      toast(err.detail || err.message, "error");
    }
  }

  const editToggle = h("button", {
    type: "button", class: "btn", "data-testid": "edit-toggle",
    onclick: async () => {
      await flushLayoutSave().catch((err) => toast(err.detail || err.message, "error"));
      state.editing = !state.editing;
      syncQuery();
      renderToolbar();
      renderGrid();
      if (state.data) await grid.setData(state.data, { orgHasData: Boolean(state.data.as_of) });
    },
  });
  const toolbar = h("div", { class: "toolbar" });
  function renderToolbar() {
    editToggle.textContent = state.editing ? "Concluir edição" : "Editar";
    container.classList.toggle("editing", state.editing);
    replace(toolbar, can("Editor") ? [
      state.editing ? h("button", { type: "button", class: "btn btn-primary", onclick: () => addOrEditWidget(), "data-testid": "widget-add" }, "Adicionar widget") : null,
      h("button", { type: "button", class: "btn", onclick: share, "data-testid": "dashboard-share" }, "Compartilhar"),
      editToggle,
      h("button", { type: "button", class: "btn", onclick: rename, "data-testid": "dashboard-rename" }, "Renomear"),
      h("button", { type: "button", class: "btn", onclick: duplicate, "data-testid": "dashboard-duplicate" }, "Duplicar"),
      h("button", { type: "button", class: "btn btn-danger", onclick: remove, "data-testid": "dashboard-delete" }, "Excluir"),
      saveStatus,
    ] : null);
  }

  // --- first render --------------------------------------------------------------------------------------
  document.title = `${dashboard.name} · Painel`;
  if (state.range.from) {
    fromInput.value = formatDate(state.range.from);
    toInput.value = formatDate(state.range.to);
  }
  renderToolbar();
  renderGrid();
  replace(container,
    h("div", { class: "page-head" }, h("div", {}, h("a", { href: "#/dashboards", class: "back" }, "← Painéis"), titleEl), toolbar),
    dashboard.description ? h("p", { class: "description" }, dashboard.description) : null,
    filterForm, meta, banner, gridBox);
  await loadData(firstData);
  loadFilterOptions(); // after the first paint: the 27 UFs serve until then

  return () => {
    // A move not saved yet is saved on the way out.
    if (state.saveTimer) {
      clearTimeout(state.saveTimer);
      saveWidgets(dashboard.widgets).catch(() => {});
    }
    container.classList.remove("editing");
    grid?.dispose();
  };
}
