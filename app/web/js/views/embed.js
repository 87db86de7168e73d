// The embed page: one dashboard, read-only, from an embed token alone.
//
// Opened as /embed#token=...&dashboard=ID (a fragment never reaches the server, its logs or a proxy), or as
// /embed?token=...&dashboard=ID. The token is read ONCE, kept in memory and in this tab's sessionStorage (so a
// reload works), and removed from the address bar at once. It is sent as `Authorization: Bearer <token>` to
// GET /dashboards/{id} and GET /dashboards/{id}/data, the only calls this page makes. (/#/embed?token=... works
// too, but only /embed may be shown inside another site's frame.)

import { api, setTokenProvider } from "../api.js";
import { createGrid } from "../dashboard-grid.js";
import { h, replace } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { errorNotice, loading, notice } from "../ui.js";

const KEY = "painel.embed";

export const isEmbedLocation = () => window.location.pathname === "/embed" || window.location.hash.startsWith("#/embed");

/** {token, dashboard} from the URL (then scrubbed from it), else from this tab's storage. */
export function takeEmbedParams() {
  const fromSearch = new URLSearchParams(window.location.search);
  const hash = window.location.hash.replace(/^#/, "");
  const fromHash = new URLSearchParams(hash.startsWith("/embed") ? hash.split("?")[1] || "" : hash);
  const token = fromSearch.get("token") || fromHash.get("token");
  const dashboard = fromSearch.get("dashboard") || fromHash.get("dashboard");
  if (token || dashboard) {
    window.history.replaceState(null, "", window.location.pathname === "/embed" ? "/embed" : "/#/embed");
  }
  if (token && dashboard) {
    try { window.sessionStorage.setItem(KEY, JSON.stringify({ token, dashboard })); } catch { /* memory only */ }
    return { token, dashboard };
  }
  try { return JSON.parse(window.sessionStorage.getItem(KEY)) || {}; } catch { return {}; }
}

export async function embedView(container) {
  document.body.classList.add("embed");
  const { token, dashboard: rawId } = takeEmbedParams();
  const id = Number(rawId);
  if (!token || !Number.isInteger(id) || id < 1) {
    replace(container, notice("error", "Link de incorporação incompleto: ele precisa de token e dashboard."));
    return;
  }
  setTokenProvider(() => token);
  container.replaceChildren(loading());
  try {
    const dashboard = await api.get(`/dashboards/${id}`);
    const data = await api.get(`/dashboards/${id}/data`);
    document.title = dashboard.name;
    const grid = createGrid(dashboard.widgets);
    replace(container,
      h("div", { class: "page-head" }, h("h1", {}, dashboard.name)),
      h("p", { class: "meta", "data-testid": "dashboard-meta" }, `Período: ${formatDate(data.from)} a ${formatDate(data.to)}`,
        data.as_of ? ` · Dados carregados em ${formatDateTime(data.as_of)}` : ""),
      grid.el);
    await grid.setData(data, { orgHasData: Boolean(data.as_of), readOnly: true });
  } catch (err) {
    replace(container, h("div", { class: "embed-problem", "data-testid": "embed-error", "data-status": err.status },
      embedProblem(err, token)));
  }
}

/** When the token says it expires (its standard JWT `exp`, read only to word the message); null if unreadable. */
export function tokenExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = JSON.parse(atob(part)).exp;
    return Number.isFinite(exp) ? new Date(exp * 1000) : null;
  } catch {
    return null;
  }
}

/** A message a visitor understands (never a blank page): expired, invalid or revoked, or no longer there. */
function embedProblem(err, token) {
  const askAgain = " Peça um novo link a quem o compartilhou.";
  if (err.status === 401) {
    const expiry = tokenExpiry(token);
    return expiry && expiry <= new Date()
      ? notice("error", `Este link de incorporação expirou em ${formatDateTime(expiry.toISOString())}.${askAgain}`)
      : notice("error", `Este link de incorporação expirou ou não é válido (ele pode ter sido revogado).${askAgain}`);
  }
  if (err.status === 403) return notice("error", `Este link de incorporação não é válido para esta página.${askAgain}`);
  if (err.status === 404) return notice("error", `Este painel não existe mais, ou o link não dá acesso a ele.${askAgain}`);
  return errorNotice(err, "Não foi possível carregar o painel");
}
