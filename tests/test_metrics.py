"""GET /metrics: what real requests, uploads, runs and ticks count, and who may read it."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app.core.config import get_settings
from app.core.db import get_engine
from app.cron.scheduler import tick
from app.main import create_app
from tests.ingest_helpers import make_csv, sample_rows, upload
from tests.routers.test_datasources import make_source, run

SCRAPE = {"Authorization": "Bearer not-needed-outside-production"}


def samples(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape: (name, labels) -> value."""
    r = client.get("/metrics", headers=SCRAPE)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
    }


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_method_and_status(client, org_a):
    before = samples(client)
    for dashboard_id in (101, 202, 303):  # three raw paths, one template
        assert client.get(f"/dashboards/{dashboard_id}", headers=org_a.headers("Viewer")).status_code == 404
    assert client.get("/dashboards/7").status_code == 401
    assert client.get("/health").status_code == 200
    assert client.get("/no/such/path/4711").status_code == 404
    after = samples(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    template = "/dashboards/{dashboard_id}"
    assert delta("painel_http_requests_total", route=template, method="GET", status="404") == 3
    assert delta("painel_http_requests_total", route=template, method="GET", status="401") == 1
    assert delta("painel_http_requests_total", route="/health", method="GET", status="200") == 1
    assert delta("painel_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert delta("painel_http_request_duration_seconds_count", route=template, method="GET") == 4
    assert delta("painel_http_request_duration_seconds_bucket", route=template, method="GET", le="+Inf") == 4
    assert delta("painel_http_request_duration_seconds_sum", route=template, method="GET") > 0
    # No raw path ever becomes a label value.
    assert not [key for key in after if any("4711" in v or "/dashboards/101" in v for _, v in key[1])]


def test_a_failing_route_is_counted_as_a_500():
    app = create_app()

    @app.get("/boom/{n}")
    def boom(n: int) -> None:
        raise RuntimeError("boom")

    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        before = value(samples(client), "painel_http_requests_total", route="/boom/{n}", method="GET", status="500")
        assert client.get("/boom/1").status_code == 500
        assert client.get("/boom/2").status_code == 500
        after = value(samples(client), "painel_http_requests_total", route="/boom/{n}", method="GET", status="500")
    assert after - before == 2


def test_an_upload_counts_its_loaded_and_rejected_rows_and_its_batch(client, org_a):
    rows = sample_rows(30)
    content = make_csv(rows).replace(b"\r\n", b"\r\n31/02/2024;1,00;SP;X;bad date\r\n", 1)  # one rejected line
    before = samples(client)
    r = upload(client, org_a.headers("Editor"), content)
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["rows_loaded"], report["rows_rejected"]) == (30, 1)
    dry = upload(client, org_a.headers("Editor"), make_csv(sample_rows(5, seed=3)), dry_run=True)
    assert dry.status_code == 201 and dry.json()["dry_run"] is True and dry.json()["rows_loaded"] == 5
    empty = upload(client, org_a.headers("Editor"), b"Data;Valor\r\n", filename="empty.csv")
    assert empty.status_code == 422
    after = samples(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("painel_ingest_rows_loaded_total") == report["rows_loaded"]  # the dry run stores nothing
    assert delta("painel_ingest_rows_rejected_total") == report["rows_rejected"]
    assert delta("painel_ingest_batch_duration_seconds_count", status="loaded") == 1
    assert delta("painel_ingest_batch_duration_seconds_count", status="dry_run") == 1
    assert delta("painel_ingest_batch_duration_seconds_count", status="failed") == 1


def test_job_runs_and_scheduler_ticks_are_counted(client, org_a):
    before = samples(client)
    dead = make_source(client, org_a, "postgresql+psycopg2://u:p@127.0.0.1:1/x", is_recurring=True)
    assert tick()["ran"] == 1  # the dead source fails
    assert tick()["ran"] == 0  # nothing due (the retry waits for its backoff)
    file_source = upload(client, org_a.headers("Editor"), make_csv(sample_rows(3))).json()["data_source_id"]
    assert run(client, org_a, file_source)["status"] == "skipped"
    after = samples(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert dead["id"] != file_source
    assert delta("painel_scheduler_ticks_total") == 2
    assert delta("painel_job_run_duration_seconds_count", status="failed") == 1
    assert delta("painel_job_run_duration_seconds_count", status="skipped") == 1
    assert delta("painel_job_run_duration_seconds_count", status="success") == 0


def test_the_pool_gauge_follows_checked_out_connections(client):
    def in_use() -> float:
        return value(samples(client), "painel_db_pool_connections_in_use")

    idle = in_use()
    with get_engine().connect() as first, get_engine().connect() as second:
        first.execute(text("SELECT 1"))
        second.execute(text("SELECT 1"))
        assert in_use() == idle + 2
    assert in_use() == idle


def test_metrics_need_the_token_when_one_is_set(client, monkeypatch):
    settings = get_settings()
    token = "m3tr1cs-" + "Zq8vX2kP9wL4nR7tY1bH6cJ5"
    monkeypatch.setattr(settings, "METRICS_TOKEN", token)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {token}"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and "painel_http_requests_total" in ok.text


def test_metrics_do_not_exist_in_production_without_a_token(client, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "APP_ENV", "production")
    missing = client.get("/metrics")
    assert missing.status_code == 404
    assert missing.json()["detail"] == client.get("/no-such-route").json()["detail"]
    monkeypatch.setattr(settings, "METRICS_TOKEN", "m3tr1cs-" + "Zq8vX2kP9wL4nR7tY1bH6cJ5")
    assert client.get("/metrics").status_code == 401


def test_metrics_are_not_in_the_openapi_document(client):
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("method", ["BREW", "PROPFIND"])
def test_unknown_methods_share_one_label_value(client, method):
    client.request(method, "/health")
    labels = {dict(key[1]).get("method") for key in samples(client) if key[0] == "painel_http_requests_total"}
    assert method not in labels and "OTHER" in labels


def test_retention_counts_the_rows_it_removes(client, org_a):
    from app.services.jobs import retention
    from tests.services.test_retention import BAD, age

    old = upload(client, org_a.headers("Editor"), make_csv(sample_rows(4)) + BAD).json()  # 5 staged, 1 rejected
    upload(client, org_a.headers("Editor"), make_csv(sample_rows(2, seed=2)))
    age([old["batch_id"]], days=400)
    before = samples(client)
    assert retention.purge_expired(days=30).staging_rows == 5
    after = samples(client)
    for table, removed in (("staging_rows", 5), ("rejected_rows", 1)):
        name = "painel_retention_rows_removed_total"
        assert value(after, name, table=table) - value(before, name, table=table) == removed
