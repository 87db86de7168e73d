def test_liveness(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readiness_reports_database_and_migrations_at_head(client):
    r = client.get("/health/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def test_unknown_route_is_problem_json(client):
    r = client.get("/no-such-route")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "not_found"


def test_openapi_documents_every_route_and_the_bearer_flow(client, app):
    spec = client.get("/openapi.json").json()
    assert (
        spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/auth/token"
    )
    for path in (
        "/indicators/valor-mes-a-mes",
        "/indicators/mapa-por-uf",
        "/ingest/csv",
        "/datasources/test",
        "/dashboards/{dashboard_id}/data",
        "/jobs/runs",
    ):
        assert path in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_nul_characters_are_a_422_not_a_500(client, org_a):
    r = client.post("/dashboards", headers=org_a.headers(), json={"name": "a\u0000b"})
    assert r.status_code in (201, 422)  # SQLite stores NUL; Postgres text cannot
    if r.status_code == 422:
        assert r.json()["code"] == "nul_character"
    assert client.get("/dashboards", headers=org_a.headers()).json()["total"] == (1 if r.status_code == 201 else 0)
