// The list of the org's dashboards; create one (empty, or the sample layout when the org has none).

import { api, listAll } from "../api.js";
import { can } from "../auth.js";
import { h, replace } from "../dom.js";
import { formatDateTime } from "../format.js";
import { location, navigate, redirect, replaceQuery } from "../router.js";
import { emptyState, loading, promptDialog } from "../ui.js";

/** The sample layout (the same widgets `make run` seeds for the demo org). */
export const SAMPLE_DASHBOARD = {
  name: "Vendas",
  description: "Vendas mês a mês, por UF e por categoria.",
  widgets: [
    { title: "Indicadores do período", indicator: "kpis", params: {}, position: { x: 0, y: 0, w: 12, h: 2 } },
    { title: "Vendas mês a mês", indicator: "valor-mes-a-mes", params: {}, position: { x: 0, y: 2, w: 7, h: 5 } },
    { title: "Vendas por UF", indicator: "mapa-por-uf", params: {}, position: { x: 7, y: 2, w: 5, h: 5 } },
    { title: "Top categorias", indicator: "top-categorias", params: { limit: 6 }, position: { x: 0, y: 7, w: 6, h: 4 } },
    { title: "Acumulado no ano", indicator: "acumulado-ano", params: {}, position: { x: 6, y: 7, w: 6, h: 4 } },
  ],
};

export async function dashboardsView(container, { query, signal }) {
  document.title = "Painéis · Painel";
  container.append(loading());
  const dashboards = await listAll("/dashboards", { signal });
  // The user went elsewhere meanwhile: never pull them back. The address is checked too, because a new hash may
  // already be set while its hashchange (which aborts this view) is still queued behind this answer.
  if (signal.aborted || location().path !== "/dashboards") return;
  if (query.get("landing") && dashboards.length === 1) {
    // Right after sign-in, an org with one dashboard opens on it.
    redirect(`/dashboards/${dashboards[0].id}`);
    return;
  }
  if (query.get("landing")) replaceQuery({});

  async function create() {
    await promptDialog("Novo painel", "Nome do painel", "", async (name) => {
      const created = await api.post("/dashboards", { name });
      navigate(`/dashboards/${created.id}?edit=1`);
    });
  }

  async function createSample(button) {
    button.disabled = true;
    try {
      const created = await api.post("/dashboards", SAMPLE_DASHBOARD);
      navigate(`/dashboards/${created.id}`);
    } finally {
      button.disabled = false;
    }
  }

  const editor = can("Editor");
  const list = dashboards.length
    ? h("ul", { class: "cards", "data-testid": "dashboard-list" }, dashboards.map((d) => h("li", {},
      h("a", { class: "card", href: `#/dashboards/${d.id}`, "data-testid": "dashboard-item", "data-id": d.id },
        h("strong", { class: "card-title" }, d.name),
        d.description ? h("span", { class: "card-text" }, d.description) : null,
        h("span", { class: "card-meta" }, `Atualizado em ${formatDateTime(d.updated_at)}`)))))
    : emptyState(editor
      ? "Esta organização ainda não tem painéis. Crie um vazio ou comece pelo painel de exemplo."
      : "Esta organização ainda não tem painéis. Peça a um Editor para criar um.",
    editor ? h("button", {
      type: "button", class: "btn btn-primary", "data-testid": "create-sample",
      onclick: (e) => createSample(e.currentTarget),
    }, "Criar painel de exemplo") : null);

  replace(container,
    h("div", { class: "page-head" }, h("h1", {}, "Painéis"),
      h("div", { class: "toolbar" }, editor
        ? h("button", { type: "button", class: "btn btn-primary", onclick: create, "data-testid": "dashboard-create" }, "Novo painel")
        : null)),
    list);
}
