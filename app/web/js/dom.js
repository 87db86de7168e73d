// Building DOM safely: text from the API always goes in as text nodes (never parsed as HTML).

/**
 * h("a", {href: "#/x", class: "btn", "data-testid": "t", onclick: fn}, "text", child, [more])
 * Attributes: class, on<event> (listener), true (empty attribute), null/false/undefined (left out).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "value" && "value" in el) el.value = value;
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings, numbers, nested arrays; null and false are skipped). */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replace all children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** An <option> list for a <select>: [[value, label], ...], with `selected` chosen. */
export function options(pairs, selected) {
  return pairs.map(([value, label]) =>
    h("option", { value, selected: String(value) === String(selected ?? "") }, label));
}
