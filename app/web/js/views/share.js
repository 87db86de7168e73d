// "Compartilhar": an embed token for this dashboard (POST /embed/tokens, Editor or higher), with the filters shown
// now optionally locked into it, and the link and <iframe> snippet of the embed page that uses it.
//
// The link carries the token in the fragment (#token=...): a fragment never reaches a server, its logs or a proxy.
// Anyone holding the link sees the dashboard until the token expires (or an Admin revokes every embed token).

import { api } from "../api.js";
import { h, options, replace } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { errorNotice, openDialog, toast } from "../ui.js";
import { ufLabel } from "../ufs.js";

/** The lifetimes offered (seconds); the API accepts 60 s to 24 h. */
export const EXPIRY_CHOICES = [[900, "15 minutos"], [3600, "1 hora"], [8 * 3600, "8 horas"], [24 * 3600, "24 horas"]];
const DEFAULT_EXPIRY = 3600;

/** The embed page's address for a token: /embed#token=...&dashboard=ID on this origin. */
export function embedUrl(token, dashboardId) {
  const fragment = new URLSearchParams({ token, dashboard: String(dashboardId) });
  return `${window.location.origin}/embed#${fragment}`;
}

/** The HTML a customer pastes into their page (text shown to copy, never inserted into this page). */
export function iframeSnippet(url, title) {
  const attr = (text) => String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<iframe src="${attr(url)}" title="${attr(title)}" width="100%" height="900" style="border:0" loading="lazy"></iframe>`;
}

async function copy(input, label) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand?.("copy"); // older browsers, or a page without clipboard permission
  }
  toast(`${label} copiado.`);
}

/** A locked filter the user may keep or drop: a checkbox, checked by default. */
function lockBox(name, label) {
  const box = h("input", { type: "checkbox", name, checked: true, "data-testid": `share-lock-${name}` });
  return { box, el: h("label", { class: "check" }, box, ` ${label}`) };
}

/**
 * Open the share dialog for `dashboard`. view: {range: {from, to} shown now, filters: {uf, category}}.
 * Resolves when it is closed.
 */
export function shareDialog(dashboard, view) {
  const locks = {};
  if (view.range?.from && view.range?.to) {
    locks.range = lockBox("range", `Período: ${formatDate(view.range.from)} a ${formatDate(view.range.to)}`);
  }
  if (view.filters?.uf) locks.uf = lockBox("uf", `UF: ${ufLabel(view.filters.uf)}`);
  if (view.filters?.category) locks.category = lockBox("category", `Categoria: ${view.filters.category}`);
  const expiry = h("select", { name: "expires_in", "data-testid": "share-expiry" }, options(EXPIRY_CHOICES, DEFAULT_EXPIRY));
  const result = h("div", { class: "share-result", "data-testid": "share-result", "aria-live": "polite" });
  const create = h("button", { type: "button", class: "btn btn-primary", "data-testid": "share-create" }, "Gerar link");

  function lockedFilters() {
    const filters = {};
    if (locks.range?.box.checked) Object.assign(filters, { from: view.range.from, to: view.range.to });
    if (locks.uf?.box.checked) filters.uf = view.filters.uf;
    if (locks.category?.box.checked) filters.category = view.filters.category;
    return filters;
  }

  function showLink(answer) {
    const url = embedUrl(answer.token, dashboard.id);
    const urlInput = h("input", { type: "text", readonly: true, value: url, "data-testid": "share-url", "aria-label": "Link do painel" });
    const snippet = h("textarea", {
      readonly: true, rows: 3, "data-testid": "share-snippet", "aria-label": "Código para incorporar (iframe)",
    }, iframeSnippet(url, dashboard.name));
    replace(result,
      h("p", { class: "share-expires", "data-testid": "share-expires", "data-expires-at": answer.expires_at },
        `Link válido até ${formatDateTime(answer.expires_at)}.`),
      h("label", { class: "field" }, h("span", {}, "Link"), h("div", { class: "copy-row" }, urlInput,
        h("button", { type: "button", class: "btn", onclick: () => copy(urlInput, "Link") }, "Copiar"),
        h("a", { class: "btn", href: url, target: "_blank", rel: "noopener", "data-testid": "share-open" }, "Abrir"))),
      h("label", { class: "field" }, h("span", {}, "Incorporar em outro site (iframe)"), snippet,
        h("div", {}, h("button", { type: "button", class: "btn btn-small", onclick: () => copy(snippet, "Código") }, "Copiar código"))));
  }

  create.addEventListener("click", async () => {
    create.disabled = true;
    result.replaceChildren(h("p", { class: "loading", role: "status" }, "Gerando…"));
    try {
      const answer = await api.post("/embed/tokens", {
        dashboard_ids: [dashboard.id], filters: lockedFilters(), expires_in: Number(expiry.value),
      });
      showLink(answer);
      create.textContent = "Gerar outro link";
    } catch (err) {
      replace(result, errorNotice(err, "Não foi possível gerar o link"));
    } finally {
      create.disabled = false;
    }
  });

  const lockList = Object.values(locks);
  return openDialog({
    title: "Compartilhar painel",
    testid: "share-dialog",
    body: [
      h("p", { class: "hint" }, "Gera um link somente leitura, sem login, para abrir ou incorporar este painel em outro site. "
        + "Quem tiver o link vê o painel até ele expirar."),
      h("fieldset", { class: "params" }, h("legend", {}, "Travar os filtros atuais (quem abrir não pode mudá-los)"),
        lockList.length ? lockList.map((l) => l.el) : h("p", { class: "hint" }, "Nenhum filtro aplicado.")),
      h("label", { class: "field" }, h("span", {}, "Validade"), expiry),
      h("div", {}, create),
      result,
    ],
    actions: [{ label: "Fechar", value: null }],
  });
}
