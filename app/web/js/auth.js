// The signed-in session: the token lives in memory and in this tab's sessionStorage (never in a URL or a
// cookie), so a reload keeps you signed in and closing the tab signs you out.

import { api, ApiError, request, setTokenProvider } from "./api.js";

const TOKEN_KEY = "painel.token";
const MODE_KEY = "painel.signin-mode";

let token = null;
let me = null;

function storageGet(key) {
  try { return window.sessionStorage.getItem(key); } catch { return null; }
}
function storageSet(key, value) {
  try {
    if (value === null) window.sessionStorage.removeItem(key);
    else window.sessionStorage.setItem(key, value);
  } catch { /* storage blocked (private mode, third-party frame): memory only */ }
}

export function getToken() {
  if (token === null) token = storageGet(TOKEN_KEY);
  return token;
}

function setToken(value) {
  token = value;
  me = null;
  storageSet(TOKEN_KEY, value);
}

setTokenProvider(getToken);

export const isSignedIn = () => Boolean(getToken());

/** "dev" (email + org, development servers) or "password"; remembered once dev-login answered 404. */
export const signInMode = () => storageGet(MODE_KEY) || "dev";
export const setSignInMode = (mode) => storageSet(MODE_KEY, mode);

/** Development sign-in. Resolves false when this server has no dev-login (404): use the password form. */
export async function devLogin(email, orgSlug) {
  try {
    const body = await request("POST", "/auth/dev-login", { json: { email, org_slug: orgSlug }, auth: false });
    setToken(body.access_token);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      setSignInMode("password");
      return false;
    }
    throw err;
  }
}

/** Email and password (the OAuth2 password form of POST /auth/token); org slug optional. */
export async function passwordLogin(email, password, orgSlug) {
  const form = new URLSearchParams({ username: email, password });
  if (orgSlug) form.set("org_slug", orgSlug);
  const body = await request("POST", "/auth/token", { form, auth: false });
  setToken(body.access_token);
}

/** You, the current org and role, and your memberships (cached until the token changes). */
export async function loadMe({ signal } = {}) {
  if (!me) me = await api.get("/auth/me", undefined, { signal });
  return me;
}

export const currentMe = () => me;

const ROLES = ["Viewer", "Editor", "Admin", "Owner"];
/** Whether the signed-in role is at least `role` (Viewer < Editor < Admin < Owner). */
export function can(role) {
  return Boolean(me) && ROLES.indexOf(me.role) >= ROLES.indexOf(role);
}

export async function switchOrg(orgSlug) {
  const body = await api.post("/auth/switch-org", { org_slug: orgSlug });
  setToken(body.access_token);
  return loadMe();
}

export function signOut() {
  setToken(null);
}
