"""The API's contract as a browser app or a generated client sees it: the errors the OpenAPI document describes
are the ones answered (problem+json), the security schemes Swagger's Authorize offers, CORS, and /docs and /redoc
working with no network (their assets come from the app itself)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from app.core.config import get_settings
from app.main import CORS_EXPOSED_HEADERS, CORS_REQUEST_HEADERS, DOCUMENTED_ROUTERS, create_app
from app.schemas.errors import Problem
from tests.ingest_helpers import make_csv, sample_rows, upload

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def spec(app):
    return app.openapi()


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_the_documented_422_is_the_problem_the_api_answers(spec, client, org_a):
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "code"}
    assert set(schemas["Problem"]["properties"]) >= {"instance", "request_id", "errors"}
    assert set(schemas["ProblemFieldError"]["properties"]) == {"field", "message", "type"}
    for path, method, operation in _operations(spec):
        if operation.get("parameters") or "requestBody" in operation:
            assert operation["responses"]["422"]["content"] == {PROBLEM: {"schema": PROBLEM_REF}}, (method, path)
        for status, response in operation["responses"].items():
            if status[0] in "45":  # every error is documented as a Problem, never as application/json
                assert list(response["content"]) == [PROBLEM], (method, path, status)
    r = client.post("/api-keys", headers=org_a.headers("Admin"), json={"name": "", "role": "Owner", "extra": 1})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    problem = Problem.model_validate(r.json())
    assert problem.code == "validation_error" and problem.request_id == r.headers["x-request-id"]
    assert {(e.field, e.type) for e in problem.errors or []} == {
        ("name", "string_too_short"),
        ("role", "value_error"),
        ("extra", "extra_forbidden"),
    }


def test_common_errors_are_documented_where_they_are_answered(spec, client, org_a, monkeypatch):
    """Provoke each common 4xx on a real route and check that route documents it, with the body it answers."""
    dashboard = client.post("/dashboards", headers=org_a.headers("Editor"), json={"name": "D"}).json()
    monkeypatch.setattr(get_settings(), "MAX_UPLOAD_MB", 1)
    big = make_csv(sample_rows(40_000))
    member = {"email": "viewer@org-a.example.com", "role": "Viewer"}
    cases = [
        (401, "get", "/dashboards", lambda: client.get("/dashboards")),
        (403, "post", "/dashboards", lambda: client.post("/dashboards", headers=org_a.headers("Viewer"), json={})),
        (404, "get", "/dashboards/{dashboard_id}", lambda: client.get("/dashboards/999999", headers=org_a.headers())),
        (409, "post", "/members", lambda: client.post("/members", headers=org_a.headers("Admin"), json=member)),
        (413, "post", "/ingest/csv", lambda: upload(client, org_a.headers(), big)),
        (415, "post", "/ingest/csv", lambda: upload(client, org_a.headers(), b"\x00\x01\x02binary" * 50)),
        (
            422,
            "get",
            "/dashboards/{dashboard_id}/data",
            lambda: client.get(f"/dashboards/{dashboard['id']}/data?from=2025-01-01", headers=org_a.headers()),
        ),
    ]
    for status, method, path, call in cases:
        r = call()
        assert r.status_code == status, (path, r.status_code, r.text)
        assert r.headers["content-type"] == PROBLEM
        Problem.model_validate(r.json())
        documented = spec["paths"][path][method]["responses"]
        assert str(status) in documented, f"{method.upper()} {path} answers {status} but does not document it"
    codes = [client.post("/auth/token", data={"username": "x@example.com", "password": "wrong"}) for _ in range(11)]
    assert codes[-1].status_code == 429 and Problem.model_validate(codes[-1].json()).code == "rate_limited"
    assert {"401", "403", "429"} <= set(spec["paths"]["/auth/token"]["post"]["responses"])


def test_authorize_offers_password_bearer_and_api_key(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/auth/token"
    assert (schemes["BearerToken"]["type"], schemes["BearerToken"]["scheme"]) == ("http", "bearer")
    assert (schemes["ApiKey"]["in"], schemes["ApiKey"]["name"]) == ("header", "X-API-Key")
    me = spec["paths"]["/auth/me"]["get"]
    assert sorted(next(iter(s)) for s in me["security"]) == ["ApiKey", "BearerToken", "OAuth2PasswordBearer"]
    # Every operation that reads a credential offers the three, in the same order; public ones offer none.
    alternatives = [{"OAuth2PasswordBearer": []}, {"BearerToken": []}, {"ApiKey": []}]
    for path, method in [
        ("/indicators/valor-mes-a-mes", "get"),
        ("/dashboards/{dashboard_id}/data", "get"),
        ("/members", "post"),
        ("/auth/switch-org", "post"),
    ]:
        assert spec["paths"][path][method]["security"] == alternatives, (path, method)
    for path, method in [("/health", "get"), ("/auth/token", "post"), ("/auth/dev-login", "post")]:
        assert "security" not in spec["paths"][path][method], (path, method)
    form = spec["paths"]["/auth/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    form_schema = spec["components"]["schemas"][form["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"username", "password", "org_slug"} <= set(form_schema["properties"])


def _cors_client(origins):
    app = create_app()
    app.cors_origins = tuple(origins)
    return TestClient(app)


DEV_ORIGIN = "http://127.0.0.1:5173"


def test_hot_paths_are_matched_first_and_documented_in_reading_order(app, spec):
    """The indicators and dashboards are included right after /health (matched first), while the document lists
    every router's paths in DOCUMENTED_ROUTERS' order."""
    documented = [route.path for router in DOCUMENTED_ROUTERS for route in router.routes if route.include_in_schema]
    assert list(spec["paths"]) == list(dict.fromkeys(documented))
    matched = [getattr(c, "path", None) for c in iter_route_contexts(app.routes)]
    assert matched.index("/indicators/valor-mes-a-mes") < matched.index("/auth/me") < matched.index("/embed/tokens")
    assert matched.index("/health") < matched.index("/indicators/valor-mes-a-mes")


def test_cors_preflight_and_exposed_headers_when_configured(org_a):
    with _cors_client([DEV_ORIGIN]) as cors:
        pre = cors.options(
            "/indicators/kpis",
            headers={
                "Origin": DEV_ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": ", ".join(h.lower() for h in CORS_REQUEST_HEADERS),
            },
        )
        assert pre.status_code == 200, pre.text
        assert pre.headers["access-control-allow-origin"] == DEV_ORIGIN
        allowed = {h.strip().lower() for h in pre.headers["access-control-allow-headers"].split(",")}
        assert {h.lower() for h in CORS_REQUEST_HEADERS} <= allowed
        assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(pre.headers["access-control-allow-methods"].split(", "))
        got = cors.get("/dashboards", headers={"Origin": DEV_ORIGIN, **org_a.headers()})
        assert got.status_code == 200 and got.headers["access-control-allow-origin"] == DEV_ORIGIN
        exposed = {h.strip() for h in got.headers["access-control-expose-headers"].split(",")}
        assert {"ETag", "X-Request-ID", "Content-Disposition", "Location"} <= exposed == set(CORS_EXPOSED_HEADERS)
        # Errors carry the CORS headers too, so a browser app can read the problem and its request id.
        denied = cors.get("/dashboards", headers={"Origin": DEV_ORIGIN})
        assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == DEV_ORIGIN
        # Another origin gets no CORS headers: the browser keeps the answer from the page.
        other = cors.get("/dashboards", headers={"Origin": "http://evil.example", **org_a.headers()})
        assert "access-control-allow-origin" not in other.headers
        refused = cors.options(
            "/dashboards", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


def test_without_cors_origins_a_preflight_is_405_without_cors_headers(client):
    pre = client.options("/dashboards", headers={"Origin": DEV_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 405 and pre.headers["content-type"] == PROBLEM
    assert not any(name.startswith("access-control-") for name in pre.headers)


ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_only_same_origin_assets(client, page):
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    # The browser itself is told to load and call nothing but this app.
    policy = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == policy["connect-src"] == "'self'" and policy["img-src"] == "'self' data:"
    assert "http://" not in r.text and "https://" not in r.text and "//" not in r.text.replace("://", "")
    assets = ASSET.findall(r.text)
    assert len(assets) >= 2 and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:
        loaded = client.get(asset)
        assert loaded.status_code == 200 and len(loaded.content) > 1000, asset
    assert client.get("/openapi.json").status_code == 200
