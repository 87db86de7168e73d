"""SQL data sources on real Postgres and MariaDB: CRUD with masked secrets, runs into the same pipeline,
incremental loads, streaming in bounded memory, and the connection test's refusals at the HTTP boundary."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import make_url, select

from app.core.db import session_scope
from app.core.security import decrypt_secret
from app.models import DataSource
from app.services import rate_limits
from tests.conftest import all_orgs_session
from tests.ingest_helpers import assert_rollups_match_facts

PG_PASSWORD, MY_PASSWORD = "S3cr3t-Pg!pass", "My-S3cret!pw"


def vendas_rows(n: int, seed: int = 5, start_id: int = 1):
    rng = random.Random(seed)
    return [
        {
            "id": start_id + i,
            "data": date(2024, 1, 1) + timedelta(days=rng.randint(0, 365)),
            "valor": Decimal(rng.randint(100, 500_000)) / 100,
            "uf": rng.choice(["SP", "RJ", "MG", "BA"]),
            "produto": rng.choice(["A", "B", "C"]),
        }
        for i in range(n)
    ]


def create_table(db, rows, table="vendas"):
    db.execute(
        f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, data DATE, valor NUMERIC(14,2), uf CHAR(2), "
        "produto VARCHAR(20))"
    )
    if rows:
        db.execute(
            f"INSERT INTO {table} (id, data, valor, uf, produto) VALUES (:id, :data, :valor, :uf, :produto)",
            params=rows,
        )


def monthly(rows, year=2024):
    sums = {m: Decimal(0) for m in range(1, 13)}
    for r in rows:
        if r["data"].year == year:
            sums[r["data"].month] += r["valor"]
    return [float(sums[m]) for m in range(1, 13)]


def make_source(client, org, url, query="SELECT data, valor, uf, produto FROM vendas", **extra):
    body = {
        "name": extra.pop("name", "ERP"),
        "type": "sql",
        "config": {"sqlalchemy_url": url, "query": query, **extra.pop("config", {})},
        **extra,
    }
    r = client.post("/datasources", headers=org.headers("Admin"), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def run(client, org, source_id):
    r = client.post(f"/datasources/{source_id}/run", headers=org.headers("Editor"))
    assert r.status_code == 200, r.text
    return r.json()


def valor_mes(client, org, **params):
    r = client.get(
        "/indicators/valor-mes-a-mes",
        headers=org.headers("Viewer"),
        params={"from": "2024-01-01", "to": "2024-12-31", **params},
    )
    return [i["value"] for i in r.json()["items"]]


@pytest.mark.parametrize("kind", ["pg", "mysql"])
def test_sql_source_ingests_into_indicators(client, org_a, request, kind):
    db = request.getfixturevalue("customer_pg" if kind == "pg" else "customer_mysql")
    rows = vendas_rows(400)
    create_table(db, rows)
    source = make_source(client, org_a, db.url)
    password = PG_PASSWORD if kind == "pg" else MY_PASSWORD
    assert password not in json.dumps(source) and "***" in source["config"]["sqlalchemy_url"]
    result = run(client, org_a, source["id"])
    assert (result["status"], result["rows_loaded"], result["trigger"]) == ("success", 400, "manual"), result
    assert valor_mes(client, org_a) == monthly(rows)
    # A full refresh: the second run replaces, never doubles.
    db.execute("DELETE FROM vendas WHERE id > 300")
    assert run(client, org_a, source["id"])["rows_loaded"] == 300
    assert valor_mes(client, org_a) == monthly(rows[:300])


def test_password_is_encrypted_at_rest_and_never_returned(client, org_a, org_b, customer_pg):
    create_table(customer_pg, vendas_rows(10))
    source = make_source(client, org_a, customer_pg.url)
    with session_scope(org_a.id) as s:
        stored = s.scalars(select(DataSource).where(DataSource.id == source["id"])).one()
        assert PG_PASSWORD not in json.dumps(stored.config_json)
        assert PG_PASSWORD not in stored.secret_encrypted and decrypt_secret(stored.secret_encrypted) == PG_PASSWORD
    run(client, org_a, source["id"])
    h = org_a.headers()
    bodies = [
        client.get(p, headers=h).text
        for p in ("/datasources", f"/datasources/{source['id']}", "/jobs/runs", "/ingest/batches")
    ]
    bodies.append(client.patch(f"/datasources/{source['id']}", headers=h, json={"name": "ERP 2"}).text)
    # Sending the masked URL back keeps the stored password (the source still runs).
    masked = client.get(f"/datasources/{source['id']}", headers=h).json()["config"]["sqlalchemy_url"]
    bodies.append(
        client.patch(f"/datasources/{source['id']}", headers=h, json={"config": {"sqlalchemy_url": masked}}).text
    )
    assert run(client, org_a, source["id"])["status"] == "success"
    for body in bodies:
        assert PG_PASSWORD not in body
    assert client.get(f"/datasources/{source['id']}", headers=org_b.headers()).status_code == 404
    assert client.get("/datasources", headers=org_b.headers()).json()["items"] == []


def test_incremental_run_appends_only_new_rows(client, org_a, customer_pg):
    first = vendas_rows(50, seed=1)
    create_table(customer_pg, first)
    source = make_source(
        client,
        org_a,
        customer_pg.url,
        query="SELECT id, data, valor, uf FROM vendas",
        config={"incremental_column": "id"},
    )
    assert run(client, org_a, source["id"])["rows_loaded"] == 50
    more = vendas_rows(20, seed=2, start_id=51)
    customer_pg.execute(
        "INSERT INTO vendas (id, data, valor, uf, produto) VALUES (:id, :data, :valor, :uf, :produto)", params=more
    )
    assert run(client, org_a, source["id"])["rows_loaded"] == 20
    assert run(client, org_a, source["id"])["rows_loaded"] == 0
    assert valor_mes(client, org_a) == monthly(first + more)
    assert assert_rollups_match_facts() > 0  # appended days were recomputed, the others kept


def test_large_table_streams_in_bounded_memory(client, org_a, customer_pg, monkeypatch):
    import tracemalloc

    from app.services.ingest import pipeline

    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5_000)  # both runs span many chunks

    customer_pg.execute(
        "CREATE TABLE big AS SELECT g AS id, DATE '2024-01-01' + (g % 366) AS data, "
        "(g % 1000)::numeric / 10 AS valor, 'SP'::text AS uf FROM generate_series(1, 150000) g"
    )

    def peak(limit: int) -> tuple[int, int]:
        source = make_source(
            client,
            org_a,
            customer_pg.url,
            name=f"big-{limit}",
            query=f"SELECT data, valor, uf FROM big WHERE id <= {limit}",
        )
        tracemalloc.start()
        result = run(client, org_a, source["id"])
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return result["rows_loaded"], top

    small_rows, small_peak = peak(30_000)
    big_rows, big_peak = peak(150_000)
    assert (small_rows, big_rows) == (30_000, 150_000)
    # Five times the rows, about the same peak: the rows are streamed in chunks, never held all at once.
    assert big_peak < small_peak * 1.6, (small_peak, big_peak)


def test_failed_run_is_recorded_with_a_clear_error(client, org_a, customer_pg):
    create_table(customer_pg, [])
    source = make_source(client, org_a, customer_pg.url, query="SELECT data, valor FROM vendas")
    customer_pg.execute("DROP TABLE vendas")
    result = run(client, org_a, source["id"])
    assert result["status"] == "failed" and "vendas" in result["error"] and PG_PASSWORD not in result["error"]
    runs = client.get("/jobs/runs", headers=org_a.headers("Viewer"), params={"status": "failed"}).json()
    assert runs["total"] == 1 and runs["items"][0]["id"] == result["id"]


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"sqlalchemy_url": "sqlite:////etc/passwd", "query": "SELECT 1"}, "sqlite"),
        (
            {"sqlalchemy_url": "postgresql://u:p@127.0.0.1/db?options=-c%20search_path%3Devil", "query": "SELECT 1"},
            "options",
        ),
        ({"sqlalchemy_url": "postgresql://u:p@127.0.0.1/db", "query": "DELETE FROM vendas"}, "SELECT"),
        ({"sqlalchemy_url": "postgresql://u:p@127.0.0.1/db", "query": "SELECT 1; SELECT 2"}, "one statement"),
        ({"sqlalchemy_url": "postgresql://u:p@127.0.0.1/db"}, "query"),
    ],
)
def test_invalid_sql_source_is_422(client, org_a, config, fragment):
    r = client.post("/datasources", headers=org_a.headers("Admin"), json={"name": "x", "type": "sql", "config": config})
    assert r.status_code == 422 and fragment.lower() in r.json()["detail"].lower(), r.text
    assert client.get("/datasources", headers=org_a.headers()).json()["items"] == []


def test_connection_test_endpoint(client, org_a, customer_mysql, customer_pg, monkeypatch):
    rate_limits.reset()
    pg = client.post("/datasources/test", headers=org_a.headers("Admin"), json={"sqlalchemy_url": customer_pg.url})
    assert pg.status_code == 200, pg.text
    assert pg.json()["ok"] is True and pg.json()["dialect"] == "postgresql" and pg.json()["latency_ms"] >= 0
    assert PG_PASSWORD not in pg.text
    ok = client.post("/datasources/test", headers=org_a.headers("Admin"), json={"sqlalchemy_url": customer_mysql.url})
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["dialect"] == "mysql"
    assert "MariaDB" in ok.json()["server_version"]
    assert (
        client.post(
            "/datasources/test", headers=org_a.headers("Editor"), json={"sqlalchemy_url": customer_mysql.url}
        ).status_code
        == 403
    )
    bad = client.post(
        "/datasources/test",
        headers=org_a.headers("Admin"),
        json={
            "sqlalchemy_url": make_url(customer_mysql.url)
            .set(password="wrong-pw")
            .render_as_string(hide_password=False)
        },
    )
    assert bad.status_code == 422 and bad.json()["code"] == "auth_failed" and "wrong-pw" not in bad.text
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "ALLOW_PRIVATE_DATASOURCE_HOSTS", False)
    meta = client.post(
        "/datasources/test",
        headers=org_a.headers("Admin"),
        json={"sqlalchemy_url": "postgresql://u:p@169.254.169.254:5432/db"},
    )
    assert meta.status_code == 403 and meta.json()["code"] == "private_host_refused"


def test_connection_test_is_rate_limited_per_org(client, org_a, org_b):
    rate_limits.reset()
    url = {"sqlalchemy_url": "sqlite:///x.db"}
    codes = [client.post("/datasources/test", headers=org_a.headers("Admin"), json=url).status_code for _ in range(11)]
    assert codes[:10] == [422] * 10 and codes[10] == 429
    assert client.post("/datasources/test", headers=org_b.headers("Admin"), json=url).status_code == 422
    rate_limits.reset()


def test_file_source_config_and_recurring_rules(client, org_a):
    r = client.post(
        "/datasources",
        headers=org_a.headers("Admin"),
        json={"name": "f", "type": "csv_upload", "config": {}, "is_recurring": True},
    )
    assert r.status_code == 422
    r = client.post("/datasources", headers=org_a.headers("Admin"), json={"name": "f", "type": "csv_upload"})
    assert r.status_code == 201 and r.json()["config"] == {}
    assert client.delete(f"/datasources/{r.json()['id']}", headers=org_a.headers("Editor")).status_code == 403
    assert client.delete(f"/datasources/{r.json()['id']}", headers=org_a.headers("Admin")).status_code == 204


def test_deleting_a_source_removes_its_data_only(client, org_a):
    from tests.ingest_helpers import make_csv, sample_rows, stored_counts, upload

    keep = upload(client, org_a.headers(), make_csv(sample_rows(10, seed=1)), filename="keep.csv").json()
    gone = upload(client, org_a.headers(), make_csv(sample_rows(7, seed=2)), filename="gone.csv").json()
    before = stored_counts(org_a.id)
    assert client.delete(f"/datasources/{gone['data_source_id']}", headers=org_a.headers("Admin")).status_code == 204
    after = stored_counts(org_a.id)
    assert (after["facts"], after["staging_rows"], after["data_sources"]) == (10, 10, 1)
    assert before["facts"] == 17
    assert client.get(f"/ingest/batches/{gone['batch_id']}", headers=org_a.headers()).status_code == 404
    assert client.get(f"/ingest/batches/{keep['batch_id']}", headers=org_a.headers()).status_code == 200


def test_incremental_on_a_timestamp_column_in_mariadb(client, org_a, customer_mysql):
    customer_mysql.execute("CREATE TABLE pedidos (criado_em DATETIME(6) PRIMARY KEY, valor DECIMAL(12,2))")
    insert = "INSERT INTO pedidos VALUES (:t, :v)"
    customer_mysql.execute(insert, params=[{"t": f"2024-03-0{d} 10:00:00.5", "v": Decimal(d)} for d in range(1, 6)])
    source = make_source(
        client,
        org_a,
        customer_mysql.url,
        query="SELECT criado_em AS data, valor FROM pedidos",
        config={"incremental_column": "data"},
    )
    assert run(client, org_a, source["id"])["rows_loaded"] == 5
    customer_mysql.execute(insert, params=[{"t": "2024-03-09 08:00:00.25", "v": Decimal("100.50")}])
    assert run(client, org_a, source["id"])["rows_loaded"] == 1
    assert run(client, org_a, source["id"])["rows_loaded"] == 0
    assert valor_mes(client, org_a)[2] == 115.5


@pytest.mark.parametrize(
    "change",
    [
        {"host": "127.0.0.2"},
        {"port": 5433},
        {"database": "postgres"},
        {"username": "postgres"},
        {"query": {"sslmode": "disable"}},
        {"drivername": "mysql+pymysql"},
    ],
)
def test_stored_password_only_goes_where_it_was_given(client, org_a, customer_pg, change):
    create_table(customer_pg, vendas_rows(5))
    source = make_source(client, org_a, customer_pg.url)
    h = org_a.headers()
    masked = make_url(client.get(f"/datasources/{source['id']}", headers=h).json()["config"]["sqlalchemy_url"])
    assert masked.password == "***"
    elsewhere = masked.set(**change).render_as_string(hide_password=False).replace("%2A%2A%2A", "***")
    r = client.patch(f"/datasources/{source['id']}", headers=h, json={"config": {"sqlalchemy_url": elsewhere}})
    assert r.status_code == 422 and r.json()["code"] == "password_required", r.text
    with all_orgs_session() as s:
        stored = s.scalars(select(DataSource).where(DataSource.id == source["id"])).one()
        assert make_url(stored.config_json["sqlalchemy_url"]) == make_url(customer_pg.url)._replace(password=None)
        assert decrypt_secret(stored.secret_encrypted) == PG_PASSWORD
    # With its own password the new URL is accepted as any URL would be (here: refused or not by the URL rules).
    explicit = masked.set(password="another-pw", **change).render_as_string(hide_password=False)
    r = client.patch(f"/datasources/{source['id']}", headers=h, json={"config": {"sqlalchemy_url": explicit}})
    assert r.status_code != 500 and r.json().get("code") != "password_required", r.text


def test_masked_password_is_kept_when_only_the_query_changes(client, org_a, customer_pg):
    rows = vendas_rows(30)
    create_table(customer_pg, rows)
    source = make_source(client, org_a, customer_pg.url)
    h = org_a.headers()
    masked = client.get(f"/datasources/{source['id']}", headers=h).json()["config"]["sqlalchemy_url"]
    query = "SELECT data, valor, uf FROM vendas WHERE uf = 'SP'"
    r = client.patch(
        f"/datasources/{source['id']}", headers=h, json={"config": {"sqlalchemy_url": masked, "query": query}}
    )
    assert r.status_code == 200, r.text
    assert run(client, org_a, source["id"])["rows_loaded"] == sum(1 for row in rows if row["uf"] == "SP")


def test_source_names_are_unique_per_type(client, org_a):
    h = org_a.headers()
    first = client.post("/datasources", headers=h, json={"name": "Planilha", "type": "csv_upload"})
    assert first.status_code == 201
    again = client.post("/datasources", headers=h, json={"name": "Planilha", "type": "csv_upload"})
    assert again.status_code == 409 and again.json()["code"] == "duplicate_name"
    other_type = client.post("/datasources", headers=h, json={"name": "Planilha", "type": "xlsx_upload"})
    assert other_type.status_code == 201
    renamed = client.post("/datasources", headers=h, json={"name": "Outra", "type": "csv_upload"}).json()
    clash = client.patch(f"/datasources/{renamed['id']}", headers=h, json={"name": "Planilha"})
    assert clash.status_code == 409 and clash.json()["code"] == "duplicate_name"
    assert [s["name"] for s in client.get("/datasources", headers=h).json()["items"]] == [
        "Outra",
        "Planilha",
        "Planilha",
    ]
