// Entry point: the embed page, or the app (top bar, hash routes, sign-in guard).

import { onUnauthorized } from "./api.js";
import { currentMe, isSignedIn, loadMe, signOut, switchOrg } from "./auth.js";
import { h, options, replace } from "./dom.js";
import { fallback, location, navigate, route, setGuard, start } from "./router.js";
import { emptyState, errorNotice, toast } from "./ui.js";
import { batchView } from "./views/batch.js";
import { dashboardView } from "./views/dashboard.js";
import { dashboardsView } from "./views/dashboards.js";
import { datasourceHistoryView, datasourcesView } from "./views/datasources.js";
import { embedView, isEmbedLocation } from "./views/embed.js";
import { signInView } from "./views/signin.js";
import { uploadView } from "./views/upload.js";

const app = document.getElementById("app");
const topbar = document.getElementById("topbar");

const ROLE_LABELS = { Viewer: "Leitor", Editor: "Editor", Admin: "Administrador", Owner: "Proprietário" };
// Made once: re-creating the logo on every navigation would ask the server for it again.
const brand = h("a", { class: "brand", href: "#/dashboards" }, h("img", { src: "/web/img/icon.svg", alt: "", width: 22, height: 22 }), "Painel");
const NAV = [["/dashboards", "Painéis"], ["/upload", "Enviar dados"], ["/datasources", "Fontes de dados"]];

function renderTopbar() {
  const me = currentMe();
  if (!me) {
    topbar.hidden = true;
    return;
  }
  const here = location().path;
  const orgs = me.memberships.map((m) => [m.organization.slug, m.organization.name]);
  const orgSwitcher = orgs.length > 1
    ? h("select", {
      class: "org-switch", "aria-label": "Organização", "data-testid": "org-switcher",
      onchange: async (e) => {
        try {
          await switchOrg(e.target.value);
          toast(`Organização: ${currentMe().organization.name}`);
          renderTopbar();
          navigate("/dashboards");
        } catch (err) {
          toast(err.detail || err.message, "error");
          e.target.value = me.organization.slug;
        }
      },
    }, options(orgs, me.organization.slug))
    : h("span", { class: "org-name", "data-testid": "org-name" }, me.organization.name);
  replace(topbar,
    brand,
    h("nav", { class: "nav" }, NAV.map(([path, label]) => h("a", {
      href: `#${path}`, class: here.startsWith(path) ? "active" : null, "aria-current": here.startsWith(path) ? "page" : null,
    }, label))),
    h("div", { class: "session" },
      orgSwitcher,
      h("span", { class: "user", title: me.user.email }, `${me.user.email} · ${ROLE_LABELS[me.role] || me.role}`),
      h("button", { type: "button", class: "btn btn-small", "data-testid": "signout", onclick: () => { signOut(); topbar.hidden = true; navigate("/sign-in"); } }, "Sair")));
  topbar.hidden = false;
}

/** Views that need a session wait for /auth/me (role and org) before they render. */
function authed(view) {
  return async (container, ctx) => {
    await loadMe({ signal: ctx.signal });
    renderTopbar();
    return view(container, ctx);
  };
}

function guarded(view) {
  return async (container, ctx) => {
    try {
      return await view(container, ctx);
    } catch (err) {
      if (err.name === "AbortError" || err.status === 401) return undefined;
      if (err.status === 404) {
        replace(container, emptyState("Não encontrado: ele pode ter sido excluído, ou pertence a outra organização.",
          h("a", { class: "btn", href: "#/dashboards" }, "Voltar aos painéis")));
        return undefined;
      }
      replace(container, errorNotice(err, "Não foi possível abrir esta página"));
      return undefined;
    }
  };
}

function startApp() {
  onUnauthorized(() => {
    // Token expired or revoked: back to sign-in, then back here.
    if (!isSignedIn()) return; // several calls failed at once: one redirect is enough
    const { path } = location();
    signOut();
    topbar.hidden = true;
    navigate(`/sign-in?expired=1${path.startsWith("/sign-in") ? "" : `&next=${encodeURIComponent(path)}`}`);
  });
  route("/sign-in", guarded(signInView));
  route("/dashboards", guarded(authed(dashboardsView)));
  route("/dashboards/:id", guarded(authed(dashboardView)));
  route("/upload", guarded(authed(uploadView)));
  route("/batches/:id", guarded(authed(batchView)));
  route("/datasources", guarded(authed(datasourcesView)));
  route("/datasources/:id", guarded(authed(datasourceHistoryView)));
  fallback(guarded(authed(async (container) => {
    container.append(emptyState("Página não encontrada.", h("a", { class: "btn", href: "#/dashboards" }, "Ir para os painéis")));
  })));
  setGuard(({ path }) => {
    if (path === "/") return "/dashboards";
    if (!isSignedIn() && path !== "/sign-in") return `/sign-in${path === "/dashboards" ? "" : `?next=${encodeURIComponent(path)}`}`;
    if (isSignedIn() && path === "/sign-in") return "/dashboards";
    return null;
  });
  window.addEventListener("hashchange", renderTopbar);
  return start(app);
}

if (isEmbedLocation()) {
  embedView(app);
} else {
  startApp();
}
