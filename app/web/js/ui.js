// Small shared pieces of interface: messages, empty states, dialogs, the toast.

import { h } from "./dom.js";

/** A message box: kind "error" | "info" | "warning". */
export function notice(kind, ...children) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}

/** An API error as a message the user can act on (the API's own detail, plus its code). */
export function errorNotice(err, prefix = "") {
  const detail = err?.detail || err?.message || "Erro inesperado.";
  return notice("error", prefix ? `${prefix}: ` : "", detail, err?.code ? h("small", { class: "code" }, ` (${err.code})`) : null);
}

/** An empty state: a sentence and, optionally, the action that fills it. */
export function emptyState(text, action) {
  return h("div", { class: "empty", "data-testid": "empty-state" }, h("p", {}, text), action || null);
}

export function loading(text = "Carregando…") {
  return h("p", { class: "loading", role: "status" }, text);
}

let toastTimer = null;
/** A short message at the bottom of the screen. */
export function toast(text, kind = "info") {
  let el = document.getElementById("toast");
  if (!el) {
    el = h("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  el.className = `toast toast-${kind} show`;
  el.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 3500);
}

/**
 * A modal dialog. body: nodes; actions: [{label, value, primary, danger}]. Resolves to the action's value
 * (or null when closed with Esc). onSubmit(value) may throw to keep the dialog open (its error is shown).
 */
export function openDialog({ title, body = [], actions = [], onSubmit, testid }) {
  return new Promise((resolve) => {
    const error = h("div", { class: "dialog-error" });
    const form = h("form", { method: "dialog", class: "dialog-form" },
      h("h2", {}, title),
      h("div", { class: "dialog-body" }, body),
      error,
      h("div", { class: "dialog-actions" },
        actions.map((a) => h("button", {
          type: a.value === null ? "button" : "submit",
          value: a.value ?? "",
          class: `btn ${a.primary ? "btn-primary" : ""} ${a.danger ? "btn-danger" : ""}`,
          "data-action": a.value ?? "cancel",
          onclick: a.value === null ? () => dialog.close("") : null,
        }, a.label))),
    );
    const dialog = h("dialog", { class: "dialog", "data-testid": testid || "dialog" }, form);
    let done = false;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const value = e.submitter?.value ?? "";
      if (!value) return dialog.close("");
      try {
        if (onSubmit) await onSubmit(value);
        done = true;
        dialog.close(value);
      } catch (err) {
        error.replaceChildren(errorNotice(err));
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(done ? dialog.returnValue : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export async function confirmDialog(title, text, confirmLabel = "Confirmar", danger = false) {
  const value = await openDialog({
    title,
    body: [h("p", {}, text)],
    actions: [{ label: "Cancelar", value: null }, { label: confirmLabel, value: "ok", primary: !danger, danger }],
    testid: "confirm-dialog",
  });
  return value === "ok";
}

/** Ask for one line of text; onSubmit(text) does the work (and may throw an API error to show). */
export async function promptDialog(title, label, initial, onSubmit) {
  const input = h("input", { type: "text", required: true, maxlength: 200, value: initial || "", name: "text" });
  const value = await openDialog({
    title,
    body: [h("label", { class: "field" }, h("span", {}, label), input)],
    actions: [{ label: "Cancelar", value: null }, { label: "Salvar", value: "ok", primary: true }],
    onSubmit: () => onSubmit(input.value.trim()),
    testid: "prompt-dialog",
  });
  return value === "ok";
}
