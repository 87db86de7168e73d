// Hash routes (#/dashboards/3?uf=SP): nothing here can clash with the API's own paths.

const routes = [];
let current = null; // {controller, cleanup}
let notFound = null;

/** route("/dashboards/:id", view): view(container, {params, query, signal}) may return a cleanup function. */
export function route(pattern, view) {
  const names = [];
  const regex = new RegExp(`^${pattern.replace(/:([a-z]+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  })}$`);
  routes.push({ regex, names, view });
}

export function fallback(view) { notFound = view; }

/** The current hash as {path, query}. */
export function location() {
  const hash = window.location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  return { path: path || "/", query: new URLSearchParams(search) };
}

export function navigate(path) {
  if (window.location.hash === `#${path}`) render();
  else window.location.hash = path;
}

/** Go to path in place of the current entry (the back button skips it). */
export function redirect(path) {
  window.location.replace(`#${path}`);
}

/** Change the query of the current route without re-rendering it (e.g. dashboard filters). */
export function replaceQuery(query) {
  const { path } = location();
  const search = new URLSearchParams(
    Object.entries(query).filter(([, v]) => v !== null && v !== undefined && v !== ""),
  ).toString();
  window.history.replaceState(null, "", `#${path}${search ? `?${search}` : ""}`);
}

let container = null;
let guard = () => null;

/** guard({path, query}) may answer another path to go to instead (e.g. sign-in). */
export function setGuard(fn) { guard = fn; }

export async function render() {
  const loc = location();
  const redirect = guard(loc);
  if (redirect && redirect !== loc.path) {
    navigate(redirect);
    return;
  }
  if (current) {
    current.controller.abort();
    try { current.cleanup?.(); } catch (err) { console.error(err); }
  }
  const controller = new AbortController();
  current = { controller, cleanup: null };
  const match = routes
    .map((r) => ({ r, m: r.regex.exec(loc.path) }))
    .find(({ m }) => m);
  const params = {};
  let view = notFound;
  if (match) {
    match.r.names.forEach((name, i) => { params[name] = decodeURIComponent(match.m[i + 1]); });
    view = match.r.view;
  }
  container.replaceChildren();
  window.scrollTo(0, 0);
  try {
    const cleanup = await view(container, { params, query: loc.query, signal: controller.signal });
    if (current.controller === controller) current.cleanup = cleanup;
    else cleanup?.();
  } catch (err) {
    if (err?.name !== "AbortError") throw err;
  }
}

export function start(el) {
  container = el;
  window.addEventListener("hashchange", () => render());
  return render();
}
