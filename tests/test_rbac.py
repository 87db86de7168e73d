"""Every protected route x every role: below the route's minimum role is 403, at or above it is not.

ROUTE_ROLES must list every route of the app: a new route without an entry fails the coverage test.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from app.models import ROLE_ORDER

PUBLIC = {("GET", "/health"), ("GET", "/health/ready"), ("POST", "/auth/dev-login"), ("POST", "/auth/token")}

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
}


def _app_routes(app):
    return {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods} - {
        (m, p) for m, p in [("HEAD", "/health")]}


def test_table_covers_every_route(app):
    missing = _app_routes(app) - PUBLIC - set(ROUTE_ROLES)
    assert not missing, f"routes without an RBAC entry: {sorted(missing)}"


CASES = [(method, path, minimum, role.value) for (method, path), minimum in sorted(ROUTE_ROLES.items())
         for role in ROLE_ORDER]


@pytest.mark.parametrize("method, path, minimum, role", CASES)
def test_role_gate(client, org_a, method, path, minimum, role):
    url = path.replace("{user_id}", "999999").replace("{id}", "999999")
    # An empty JSON body: permission is checked before the body is validated or the id is looked up.
    r = client.request(method, url, headers=org_a.headers(role), json={})
    allowed = ROLE_ORDER.index(type(ROLE_ORDER[0])(role)) >= ROLE_ORDER.index(type(ROLE_ORDER[0])(minimum))
    if allowed:
        assert r.status_code not in (401, 403), (r.status_code, r.text)
    else:
        assert r.status_code == 403, (r.status_code, r.text)
        assert r.json()["code"] == "insufficient_role"
        assert f"requires the {minimum} role" in r.json()["detail"]
