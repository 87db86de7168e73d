"""Custom SELECT indicators: exact results, typed binds, tenant scoping by the database, hostile SQL refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.ingest_helpers import Row, make_csv, upload

ROWS_A = [
    Row(date(2024, 1, 5), Decimal("100.10"), "SP", "A"),
    Row(date(2024, 1, 20), Decimal("50.05"), "RJ", "B"),
    Row(date(2024, 2, 3), Decimal("25.00"), "SP", "A"),
]
ROWS_B = [Row(date(2024, 1, 7), Decimal("7777.77"), "SP", "SECRET-B")]

BY_UF = {
    "name": "Por UF",
    "sql": "SELECT uf, SUM(value) AS total, COUNT(*) AS n FROM facts "
    "WHERE date BETWEEN :start AND :end GROUP BY uf ORDER BY uf",
    "parameters": [{"name": "start", "type": "date"}, {"name": "end", "type": "date"}],
}


@pytest.fixture
def data(client, org_a, org_b):
    assert upload(client, org_a.headers(), make_csv(ROWS_A)).status_code == 201
    assert upload(client, org_b.headers(), make_csv(ROWS_B)).status_code == 201


def create(client, org, body, role="Admin"):
    return client.post("/indicators/custom", headers=org.headers(role), json=body)


def test_create_and_run_with_typed_binds(client, org_a, data):
    ci = create(client, org_a, BY_UF)
    assert ci.status_code == 201, ci.text
    r = client.get(
        f"/indicators/custom/{ci.json()['id']}/run",
        headers=org_a.headers("Viewer"),
        params={"start": "2024-01-01", "end": "2024-01-31"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"] == ["uf", "total", "n"] and body["truncated"] is False
    assert [(row["uf"], round(float(row["total"]), 2), row["n"]) for row in body["rows"]] == [
        ("RJ", 50.05, 1),
        ("SP", 100.10, 1),
    ]


def test_missing_or_bad_parameter_is_422(client, org_a, data):
    ci = create(client, org_a, BY_UF).json()
    r = client.get(f"/indicators/custom/{ci['id']}/run", headers=org_a.headers(), params={"start": "2024-01-01"})
    assert r.status_code == 422 and "end" in r.json()["detail"]
    r = client.get(
        f"/indicators/custom/{ci['id']}/run",
        headers=org_a.headers(),
        params={"start": "yesterday", "end": "2024-01-01"},
    )
    assert r.status_code == 422 and "start" in r.json()["detail"]


def test_undeclared_bind_refused(client, org_a):
    r = create(client, org_a, {"name": "x", "sql": "SELECT * FROM facts WHERE uf = :uf", "parameters": []})
    assert r.status_code == 422 and ":uf" in r.json()["detail"]


def test_admin_only_writes_viewer_runs(client, org_a, data):
    assert create(client, org_a, BY_UF, role="Editor").status_code == 403
    ci = create(client, org_a, BY_UF).json()
    assert (
        client.patch(f"/indicators/custom/{ci['id']}", headers=org_a.headers("Editor"), json={"name": "y"}).status_code
        == 403
    )
    r = client.patch(f"/indicators/custom/{ci['id']}", headers=org_a.headers("Admin"), json={"name": "Renamed"})
    assert r.json()["name"] == "Renamed"
    assert client.delete(f"/indicators/custom/{ci['id']}", headers=org_a.headers("Admin")).status_code == 204


def test_other_org_cannot_see_or_run(client, org_a, org_b, data):
    ci = create(client, org_a, BY_UF).json()
    for method, path in [("get", ""), ("get", "/run?start=2024-01-01&end=2024-12-31"), ("delete", ""), ("patch", "")]:
        kwargs = {"json": {"name": "z"}} if method == "patch" else {}
        assert (
            getattr(client, method)(
                f"/indicators/custom/{ci['id']}{path}", headers=org_b.headers(), **kwargs
            ).status_code
            == 404
        )
    assert client.get("/indicators/custom", headers=org_b.headers()).json()["items"] == []


def test_everything_reads_only_callers_rows(client, org_a, data):
    ci = create(
        client, org_a, {"name": "all", "sql": "SELECT category, value FROM facts ORDER BY value", "parameters": []}
    ).json()
    rows = client.get(f"/indicators/custom/{ci['id']}/run", headers=org_a.headers()).json()["rows"]
    assert sorted(r["category"] for r in rows) == ["A", "A", "B"]
    assert "SECRET-B" not in str(rows)


HOSTILE = [
    "SELECT 1; SELECT 2",
    "SELECT * FROM facts; DROP TABLE facts",
    "DELETE FROM facts",
    "UPDATE facts SET value = 0",
    "INSERT INTO facts (value) VALUES (1)",
    "WITH d AS (DELETE FROM facts RETURNING *) SELECT * FROM d",
    "WITH u AS (UPDATE facts SET value = 0 RETURNING *) SELECT * FROM u",
    "SELECT * INTO stolen FROM facts",
    "SELECT * FROM facts FOR UPDATE",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_sleep(30)",
    "SELECT * FROM facts WHERE 1 = (SELECT 1 FROM pg_sleep(30))",
    "SELECT 1 /* harmless */ ; DELETE FROM facts",
    "SELECT 1 -- comment\n; DROP TABLE users",
    "SELECT email FROM users",
    "SELECT * FROM memberships",
    "SELECT * FROM organizations",
    "SELECT 1 UNION SELECT hashed_password FROM users",
    "SELECT (SELECT email FROM users LIMIT 1) AS e FROM facts",
    "SELECT * FROM public.facts",
    "SELECT * FROM main.facts",
    "SELECT * FROM pg_catalog.pg_tables",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM sqlite_master",
    "SELECT current_setting('app.current_org')",
    "SELECT set_config('app.current_org', '2', false)",
    "SELECT dblink('host=evil', 'select 1')",
    "SELECT lo_import('/etc/passwd')",
    "COPY facts TO '/tmp/x'",
    "SET ROLE postgres",
    "SELECT * FROM generate_series(1, 100000000)",
    "SELECT * FROM facts WHERE uf = ?",
    "SELECT * FROM staging_rows",
    "SELECT * FROM facts f JOIN ingestion_batches b ON b.id = f.batch_id",
]


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_is_refused(client, org_a, sql):
    r = create(client, org_a, {"name": "evil", "sql": sql, "parameters": []})
    assert r.status_code == 422, (sql, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"]
    assert client.get("/indicators/custom", headers=org_a.headers()).json()["items"] == []


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT SUM(value) AS total FROM facts WHERE organization_id = {other}",
        "SELECT SUM(value) AS total FROM facts WHERE data_source_id = {other_source} OR 1 = 1",
        "SELECT SUM(value) AS total FROM facts WHERE category = 'SECRET-B' OR category IS NOT NULL",
    ],
)
def test_literal_other_org_ids_return_only_callers_data(client, org_a, org_b, data, sql):
    other_source = client.get("/ingest/batches", headers=org_b.headers()).json()["items"][0]["data_source_id"]
    r = create(
        client, org_a, {"name": "try", "sql": sql.format(other=org_b.id, other_source=other_source), "parameters": []}
    )
    if r.status_code == 422:
        return  # refused outright
    run = client.get(f"/indicators/custom/{r.json()['id']}/run", headers=org_a.headers())
    if run.status_code == 422:
        return  # the database refused it (organization_id is not visible)
    total = run.json()["rows"][0]["total"]
    assert total is None or round(float(total), 2) in (0.0, 175.15)


def test_ctes_windows_and_attributes(client, org_a, data):
    sql = (
        "WITH m AS (SELECT category, SUM(value) AS total FROM facts GROUP BY category) "
        "SELECT category, total, RANK() OVER (ORDER BY total DESC) AS position FROM m ORDER BY category"
    )
    ci = create(client, org_a, {"name": "cte", "sql": sql, "parameters": []})
    assert ci.status_code == 201, ci.text
    rows = client.get(f"/indicators/custom/{ci.json()['id']}/run", headers=org_a.headers()).json()["rows"]
    assert [(r["category"], round(float(r["total"]), 2), r["position"]) for r in rows] == [
        ("A", 125.10, 1),
        ("B", 50.05, 2),
    ]
    attr = create(
        client,
        org_a,
        {"name": "attr", "parameters": [], "sql": "SELECT COUNT(*) AS n FROM facts WHERE attributes IS NOT NULL"},
    )
    assert client.get(f"/indicators/custom/{attr.json()['id']}/run", headers=org_a.headers()).json()["rows"] == [
        {"n": 3}
    ]


def test_row_cap_and_statement_timeout(client, org_a, data, monkeypatch):
    from app.services.indicators import custom

    monkeypatch.setattr(custom, "ROW_CAP", 2)
    ci = create(client, org_a, {"name": "all", "sql": "SELECT value FROM facts ORDER BY value", "parameters": []})
    body = client.get(f"/indicators/custom/{ci.json()['id']}/run", headers=org_a.headers()).json()
    assert (body["truncated"], body["truncated_reason"], len(body["rows"])) == (True, "rows", 2)
    monkeypatch.setattr(custom, "STATEMENT_TIMEOUT_MS", 200)
    slow = create(
        client,
        org_a,
        {
            "name": "slow",
            "parameters": [],
            "sql": (
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
                "SELECT COUNT(*) AS c FROM n"
            ),
        },
    )
    assert slow.status_code == 201, slow.text
    r = client.get(f"/indicators/custom/{slow.json()['id']}/run", headers=org_a.headers())
    assert r.status_code == 422 and r.json()["code"] == "query_failed"
    assert "cancelled" in r.json()["detail"] or "took longer" in r.json()["detail"], r.json()
