// The API client: every call the app makes goes through here (same origin, Bearer token, problem+json errors).

/** An API error: HTTP status plus the problem+json body (code, detail, errors). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || (status === 0 ? "network_error" : "http_error");
    this.detail = this.message;
    this.problem = problem || {};
  }
}

let tokenProvider = () => null;
let unauthorizedHandler = () => {};

/** Where the Bearer token comes from (the signed-in session, or an embed token). */
export function setTokenProvider(fn) { tokenProvider = fn; }
/** Called on any 401 from an authenticated call (the app goes back to sign-in). */
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

export function buildUrl(path, query) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === null || value === undefined || value === "") continue;
    url.searchParams.set(key, String(value));
  }
  return url.pathname + url.search;
}

async function readProblem(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try { return await response.json(); } catch { /* fall through */ }
  }
  return { detail: `${response.status} ${response.statusText}`.trim() };
}

/**
 * request("GET", "/dashboards", {query, json, form, signal, auth})
 * json: a body sent as JSON; form: URLSearchParams or FormData. auth: false for sign-in calls, whose 401
 * means "wrong password", not "session over".
 */
export async function request(method, path, { query, json, form, signal, auth = true } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  const token = auth ? tokenProvider() : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(buildUrl(path, query), { method, headers, body, signal, credentials: "omit" });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { detail: "Sem conexão com o servidor. Verifique a rede e tente de novo." });
  }
  if (!response.ok) {
    const problem = await readProblem(response);
    if (response.status === 401 && auth) unauthorizedHandler(problem);
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  get: (path, query, opts) => request("GET", path, { ...opts, query }),
  post: (path, json, opts) => request("POST", path, { ...opts, json }),
  patch: (path, json, opts) => request("PATCH", path, { ...opts, json }),
  del: (path, opts) => request("DELETE", path, opts),
};

/** A list answer as a page, whether the API sent a plain array or {items, total, limit, offset}. */
export function asPage(body) {
  if (Array.isArray(body)) return { items: body, total: body.length, limit: body.length, offset: 0 };
  const items = body?.items ?? [];
  return { items, total: body?.total ?? items.length, limit: body?.limit ?? items.length, offset: body?.offset ?? 0 };
}

/** One page of a list endpoint (array or page shape). */
export async function listPage(path, { limit = 50, offset = 0, query, signal } = {}) {
  return asPage(await api.get(path, { ...query, limit, offset }, { signal }));
}

/** Every item of a list endpoint, following pages (for small lists: dashboards, sources, indicators). */
export async function listAll(path, { query, signal, pageSize = 200, max = 2000 } = {}) {
  const items = [];
  for (;;) {
    const page = await listPage(path, { limit: pageSize, offset: items.length, query, signal });
    items.push(...page.items);
    // A plain array is the whole list; a page says how many there are.
    if (!page.items.length || items.length >= page.total || items.length >= max) return items;
  }
}

/**
 * A multipart upload with progress (fetch cannot report upload progress; XMLHttpRequest can).
 * onProgress({loaded, total}) while the body is sent; onSent() once it is all sent and the server is working.
 * headers: extra request headers (e.g. Prefer). Resolves to {status, body, location} (the Location header, or
 * null); rejects with ApiError.
 */
export function uploadWithProgress(path, formData, { onProgress, onSent, signal, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    const token = tokenProvider();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress?.({ loaded: e.loaded, total: e.total });
    });
    xhr.upload.addEventListener("load", () => onSent?.());
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { body = null; }
      if (xhr.status >= 200 && xhr.status < 300) {
        return resolve({ status: xhr.status, body, location: xhr.getResponseHeader("Location") });
      }
      if (xhr.status === 401) unauthorizedHandler(body);
      reject(new ApiError(xhr.status, body || { detail: `${xhr.status} ${xhr.statusText}` }));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { detail: "O envio falhou: sem conexão com o servidor." })));
    xhr.addEventListener("abort", () => reject(new DOMException("Upload cancelado", "AbortError")));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(formData);
  });
}
