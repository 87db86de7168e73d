"""Every protected route x every role: below the route's minimum role is 403, at or above it is not.

ROUTE_ROLES must list every route of the app: a new route without an entry fails the coverage test.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

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
    ("GET", "/indicators"): "Viewer",
    ("GET", "/indicators/valor-mes-a-mes"): "Viewer",
    ("GET", "/indicators/mapa-por-uf"): "Viewer",
    ("GET", "/indicators/kpis"): "Viewer",
    ("GET", "/indicators/top-categorias"): "Viewer",
    ("GET", "/indicators/acumulado-ano"): "Viewer",
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
    ("GET", "/jobs/runs"): "Viewer",
    ("GET", "/jobs/runs/{run_id}"): "Viewer",
    ("GET", "/audit"): "Admin",
}


def _app_routes(app):
    return {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods} - {
        (m, p) for m, p in [("HEAD", "/health")]
    }


def test_table_covers_every_route(app):
    missing = _app_routes(app) - PUBLIC - set(ROUTE_ROLES)
    assert not missing, f"routes without an RBAC entry: {sorted(missing)}"


CASES = [
    (method, path, minimum, role.value)
    for (method, path), minimum in sorted(ROUTE_ROLES.items())
    for role in ROLE_ORDER
]


@pytest.mark.parametrize(("method", "path", "minimum", "role"), CASES)
def test_role_gate(client, org_a, method, path, minimum, role):
    url = re.sub(r"\{[a-z_]+\}", "999999", path)
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
