// Sign-in: dev-login (email + org, development servers) or email + password (POST /auth/token).
// The form starts in dev-login mode; a 404 from /auth/dev-login means this server has none, and the form
// switches to the password (and remembers it for this tab).

import { devLogin, passwordLogin, setSignInMode, signInMode } from "../auth.js";
import { h, replace } from "../dom.js";
import { navigate } from "../router.js";
import { errorNotice, notice } from "../ui.js";
import { loadLib } from "../widgets/charts.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export async function signInView(container, { query }) {
  document.title = "Entrar · Painel";
  let mode = signInMode();
  // Prefilled with the demo account only on a local development server.
  const demo = LOOPBACK.has(window.location.hostname);
  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "username", value: demo ? "dev@example.com" : "", "data-testid": "signin-email" });
  const org = h("input", { type: "text", name: "org", autocomplete: "organization", value: demo ? "demo" : "", "data-testid": "signin-org", pattern: "[a-z0-9]([a-z0-9\\-]*[a-z0-9])?", title: "Letras minúsculas, números e hífens" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", "data-testid": "signin-password" });
  const message = h("div", { class: "signin-message" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-testid": "signin-submit" }, "Entrar");
  const passwordField = h("label", { class: "field" }, h("span", {}, "Senha"), password);
  const orgHint = h("small", { class: "hint" });
  const modeLink = h("button", { type: "button", class: "link", "data-testid": "signin-mode" });

  function applyMode() {
    passwordField.hidden = mode !== "password";
    password.required = mode === "password";
    org.required = mode === "dev";
    orgHint.textContent = mode === "dev"
      ? "Login de desenvolvimento: entra na organização (ou a cria, se não existir) sem senha."
      : "Opcional: a organização em que entrar, se você participa de várias.";
    modeLink.textContent = mode === "dev" ? "Entrar com senha" : "Entrar sem senha (servidor de desenvolvimento)";
  }
  modeLink.addEventListener("click", () => {
    mode = mode === "dev" ? "password" : "dev";
    setSignInMode(mode);
    message.replaceChildren();
    applyMode();
  });

  if (query.get("expired")) message.append(notice("info", "Sua sessão terminou. Entre de novo."));

  const form = h("form", { class: "signin", "data-testid": "signin-form", novalidate: false },
    h("h1", {}, "Entrar no Painel"),
    message,
    h("label", { class: "field" }, h("span", {}, "E-mail"), email),
    h("label", { class: "field" }, h("span", {}, "Organização"), org, orgHint),
    passwordField,
    submit,
    h("p", { class: "signin-alt" }, modeLink));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    message.replaceChildren();
    try {
      if (mode === "dev") {
        const ok = await devLogin(email.value.trim(), org.value.trim().toLowerCase());
        if (!ok) {
          mode = "password";
          applyMode();
          message.append(notice("info", "Este servidor não tem login de desenvolvimento. Entre com sua senha."));
          password.focus();
          return;
        }
      } else {
        await passwordLogin(email.value.trim(), password.value, org.value.trim().toLowerCase());
      }
      const next = query.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("/sign-in") ? next : "/dashboards?landing=1");
    } catch (err) {
      const text = err.status === 401 ? { detail: "E-mail ou senha incorretos.", code: err.code }
        : err.status === 403 ? { detail: "Você não participa desta organização.", code: err.code } : err;
      replace(message, errorNotice(text));
    } finally {
      submit.disabled = false;
    }
  });

  applyMode();
  container.append(h("div", { class: "signin-page" }, form,
    h("p", { class: "signin-foot" }, "A API e sua documentação: ", h("a", { href: "/docs" }, "/docs"))));
  (email.value ? (org.value ? submit : org) : email).focus();
  // While the user types, fetch the chart library the dashboards need (about 1 MB).
  (window.requestIdleCallback || setTimeout)(() => loadLib().catch(() => {}));
}
