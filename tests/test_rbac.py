"""Every protected route x every credential: users of every role, org API keys of every role, embed tokens.

- A user below the route's minimum role gets 403 `insufficient_role`; at or above it, never 401/403.
- An API key gets the same gates as a user of its role, except on USERS_ONLY routes (members, API keys, passwords,
  switching orgs): 403 `user_required` whatever its role.
- An embed token gets 403 `embed_token_not_allowed` everywhere except EMBED_READS, where a dashboard it does not
  name answers 404 (tests/routers/test_embed.py reads the dashboards it does name).

ROUTE_ROLES must list every route of the app: a new route without an entry fails the coverage test.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.models import ROLE_ORDER, Role

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/health/ready"),
    ("POST", "/auth/dev-login"),
    ("POST", "/auth/token"),
    # The web app: a static page and its assets; every call they make goes through the API's own gates.
    ("GET", "/"),
    ("GET", "/embed"),
    ("GET", "/web/{asset_path:path}"),
}
# Guarded by their own credential, not a member's role: /metrics by METRICS_TOKEN (tests/test_metrics.py).
OWN_GUARD = {("GET", "/metrics")}

# (method, path) -> minimum role; "Member" means any authenticated member.
ROUTE_ROLES = {
    ("POST", "/auth/password"): "Viewer",
    ("POST", "/auth/switch-org"): "Viewer",
    ("GET", "/auth/me"): "Viewer",
    ("GET", "/members"): "Viewer",
    ("POST", "/members"): "Admin",
    ("PATCH", "/members/{user_id}"): "Admin",
    ("DELETE", "/members/{user_id}"): "Admin",
    ("GET", "/organizations/current"): "Viewer",
    ("PATCH", "/organizations/current"): "Owner",
    ("POST", "/ingest/csv"): "Editor",
    ("POST", "/ingest/xlsx"): "Editor",
    ("GET", "/ingest/batches"): "Viewer",
    ("GET", "/ingest/batches/{batch_id}"): "Viewer",
    ("GET", "/ingest/batches/{batch_id}/errors"): "Viewer",
    ("GET", "/ingest/batches/{batch_id}/preview"): "Viewer",
    ("POST", "/ingest/batches/{batch_id}/restore"): "Editor",
    ("GET", "/indicators"): "Viewer",
    ("GET", "/indicators/valor-mes-a-mes"): "Viewer",
    ("GET", "/indicators/mapa-por-uf"): "Viewer",
    ("GET", "/indicators/kpis"): "Viewer",
    ("GET", "/indicators/top-categorias"): "Viewer",
    ("GET", "/indicators/acumulado-ano"): "Viewer",
    ("GET", "/indicators/serie-temporal"): "Viewer",
    ("GET", "/indicators/dimensions"): "Viewer",
    ("GET", "/indicators/custom"): "Viewer",
    ("POST", "/indicators/custom"): "Admin",
    ("GET", "/indicators/custom/{indicator_id}"): "Viewer",
    ("PATCH", "/indicators/custom/{indicator_id}"): "Admin",
    ("DELETE", "/indicators/custom/{indicator_id}"): "Admin",
    ("GET", "/indicators/custom/{indicator_id}/run"): "Viewer",
    ("GET", "/dashboards"): "Viewer",
    ("POST", "/dashboards"): "Editor",
    ("POST", "/dashboards/import"): "Editor",
    ("GET", "/dashboards/{dashboard_id}"): "Viewer",
    ("PATCH", "/dashboards/{dashboard_id}"): "Editor",
    ("DELETE", "/dashboards/{dashboard_id}"): "Editor",
    ("POST", "/dashboards/{dashboard_id}/duplicate"): "Editor",
    ("GET", "/dashboards/{dashboard_id}/export"): "Viewer",
    ("GET", "/dashboards/{dashboard_id}/data"): "Viewer",
    ("POST", "/ingest/sheets"): "Editor",
    ("GET", "/datasources"): "Viewer",
    ("POST", "/datasources"): "Admin",
    ("POST", "/datasources/test"): "Admin",
    ("PUT", "/datasources/google-credentials"): "Admin",
    ("GET", "/datasources/{source_id}"): "Viewer",
    ("PATCH", "/datasources/{source_id}"): "Admin",
    ("DELETE", "/datasources/{source_id}"): "Admin",
    ("POST", "/datasources/{source_id}/run"): "Editor",
    ("GET", "/datasources/{source_id}/batches"): "Viewer",
    ("GET", "/jobs/runs"): "Viewer",
    ("GET", "/jobs/runs/{run_id}"): "Viewer",
    ("GET", "/audit"): "Admin",
    ("POST", "/api-keys"): "Admin",
    ("GET", "/api-keys"): "Admin",
    ("DELETE", "/api-keys/{key_id}"): "Admin",
    ("POST", "/embed/tokens"): "Editor",
    ("POST", "/embed/tokens/revoke-all"): "Admin",
}

# Routes that need a signed-in person: an API key is refused whatever its role.
USERS_ONLY = {
    ("POST", "/auth/password"),
    ("POST", "/auth/switch-org"),
    ("GET", "/auth/me"),
    ("POST", "/members"),
    ("PATCH", "/members/{user_id}"),
    ("DELETE", "/members/{user_id}"),
    ("POST", "/api-keys"),
    ("GET", "/api-keys"),
    ("DELETE", "/api-keys/{key_id}"),
}
# The only routes an embed token may call (for the dashboards it names).
EMBED_READS = {("GET", "/dashboards/{dashboard_id}"), ("GET", "/dashboards/{dashboard_id}/data")}
KEY_ROLES = [Role.VIEWER, Role.EDITOR, Role.ADMIN]  # an API key is never an Owner


def _app_routes(app):
    # FastAPI includes routers as nested route objects: walk them to every APIRoute with its full path.
    contexts = iter_route_contexts(app.routes)
    return {(m, c.path) for c in contexts if isinstance(c.original_route, APIRoute) for m in c.methods} - {
        (m, p) for m, p in [("HEAD", "/health")]
    }


def test_table_covers_every_route(app):
    routes = _app_routes(app)
    assert len(routes) > len(PUBLIC) + 40, "the route walk found too few routes to be the app's"
    missing = routes - PUBLIC - OWN_GUARD - set(ROUTE_ROLES)
    assert not missing, f"routes without an RBAC entry: {sorted(missing)}"
    stale = (set(ROUTE_ROLES) | USERS_ONLY | EMBED_READS) - routes
    assert not stale, f"RBAC entries for routes that do not exist: {sorted(stale)}"


def _url(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "999999", path)


CASES = [
    (method, path, minimum, role.value)
    for (method, path), minimum in sorted(ROUTE_ROLES.items())
    for role in ROLE_ORDER
]


@pytest.mark.parametrize(("method", "path", "minimum", "role"), CASES)
def test_role_gate(client, org_a, method, path, minimum, role):
    url = _url(path)
    # An empty JSON body: permission is checked before the body is validated or the id is looked up.
    r = client.request(method, url, headers=org_a.headers(role), json={})
    allowed = ROLE_ORDER.index(Role(role)) >= ROLE_ORDER.index(Role(minimum))
    if allowed:
        # Allowed: the request gets past the gate and fails (if at all) on its own terms, never with a 5xx.
        assert r.status_code not in (401, 403) and r.status_code < 500, (r.status_code, r.text)
    else:
        assert r.status_code == 403, (r.status_code, r.text)
        assert r.json()["code"] == "insufficient_role"
        assert f"requires the {minimum} role" in r.json()["detail"]


KEY_CASES = [
    (method, path, minimum, role.value) for (method, path), minimum in sorted(ROUTE_ROLES.items()) for role in KEY_ROLES
]


@pytest.mark.parametrize(("method", "path", "minimum", "role"), KEY_CASES)
def test_api_key_gate(client, org_a, method, path, minimum, role):
    created = client.post("/api-keys", headers=org_a.headers(), json={"name": f"{role} key", "role": role})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    # Both ways of presenting a key: the Viewer and Admin keys as X-API-Key, the Editor key as a Bearer value.
    headers = {"Authorization": f"Bearer {key}"} if role == "Editor" else {"X-API-Key": key}
    r = client.request(method, _url(path), headers=headers, json={})
    if (method, path) in USERS_ONLY:
        assert r.status_code == 403, (r.status_code, r.text)
        assert r.json()["code"] == "user_required"
    elif ROLE_ORDER.index(Role(role)) >= ROLE_ORDER.index(Role(minimum)):
        assert r.status_code not in (401, 403) and r.status_code < 500, (r.status_code, r.text)
    else:
        assert r.status_code == 403, (r.status_code, r.text)
        assert r.json()["code"] == "insufficient_role"
        assert f"requires the {minimum} role" in r.json()["detail"]


@pytest.fixture
def embed_token(client, org_a) -> str:
    """An embed token of org A for one real dashboard (not the 999999 the gate test asks for)."""
    dashboard = client.post("/dashboards", headers=org_a.headers("Editor"), json={"name": "Embedded"}).json()
    r = client.post("/embed/tokens", headers=org_a.headers("Editor"), json={"dashboard_ids": [dashboard["id"]]})
    assert r.status_code == 200, r.text
    return r.json()["token"]


@pytest.mark.parametrize(("method", "path"), sorted(ROUTE_ROLES))
def test_embed_token_gate(client, embed_token, method, path):
    r = client.request(method, _url(path), headers={"Authorization": f"Bearer {embed_token}"}, json={})
    assert r.headers["content-type"] == "application/problem+json", r.text
    if (method, path) in EMBED_READS:
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), r.text  # not one of its dashboards
    else:
        assert (r.status_code, r.json()["code"]) == (403, "embed_token_not_allowed"), r.text
