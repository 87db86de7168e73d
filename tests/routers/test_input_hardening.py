"""Every bad input is a 4xx and every 5xx is explainable: NUL characters, absurd nesting, oversized chunked
bodies, request ids in headers, bodies and logs."""

from __future__ import annotations

import json
import logging

from sqlalchemy import func, select

from app.core.db import session_scope
from app.models import Dashboard, DataSource, IngestionBatch
from app.services import dashboards as dashboard_service


def count(model) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def sheets_source(mapping) -> dict:
    return {"name": "s", "type": "google_sheets", "config": {"spreadsheet_id": "abcdefghijkl", "mapping": mapping}}


def test_nul_in_json_values_is_422_and_nothing_is_stored(client, org_a):
    h = org_a.headers()
    r = client.post("/datasources", headers=h, json=sheets_source({"date": "Data\u0000"}))
    assert r.status_code == 422 and r.json()["code"] == "nul_character", r.text
    assert r.headers["content-type"] == "application/problem+json"
    widget = {"title": "t", "indicator": "kpis", "params": {"category": "Eletr\u0000nicos"}}
    r = client.post("/dashboards", headers=h, json={"name": "d", "widgets": [widget]})
    assert r.status_code == 422 and r.json()["code"] == "nul_character", r.text
    assert (count(DataSource), count(Dashboard)) == (0, 0)
    # An escaped backslash followed by "u0000" is ordinary text, not a NUL.
    literal = client.post("/datasources", headers=h, json=sheets_source({"date": "\\u0000"}))
    assert literal.status_code == 201, literal.text
    assert literal.json()["config"]["mapping"] == {"date": "\\u0000"}


def test_deeply_nested_json_is_422(client, org_a):
    deep = '{"a":' * 100_000 + '"x"' + "}" * 100_000
    body = '{"name": "s", "type": "google_sheets", "config": {"spreadsheet_id": "abcdefghijkl", "mapping": ' + deep
    r = client.post(
        "/datasources", headers={**org_a.headers(), "Content-Type": "application/json"}, content=body + "}}"
    )
    assert r.status_code == 422 and r.json()["code"] == "json_too_deep", r.text
    widget = {"title": "t", "indicator": "kpis", "params": json.loads('{"a":' * 40 + "1" + "}" * 40)}
    r = client.post("/dashboards", headers=org_a.headers(), json={"name": "d", "widgets": [widget]})
    assert r.status_code == 422 and r.json()["code"] == "json_too_deep"
    assert (count(DataSource), count(Dashboard)) == (0, 0)


def test_upload_mapping_field_with_nul_or_deep_nesting_is_422(client, org_a):
    csv = b"data;valor\n01/01/2024;1,00\n"
    for mapping, fragment in (
        ('{"a":' * 100_000 + '"x"' + "}" * 100_000, "nested deeper"),
        ('{"date": "data\\u0000"}', "NUL"),
    ):
        r = client.post(
            "/ingest/csv", headers=org_a.headers("Editor"), files={"file": ("v.csv", csv)}, data={"mapping": mapping}
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_mapping" and fragment in r.json()["detail"]
    assert (count(DataSource), count(IngestionBatch)) == (0, 0)


def test_chunked_upload_over_the_limit_is_413(client, org_a, monkeypatch):
    from app.core import limits

    monkeypatch.setattr(limits, "MULTIPART_SLACK_BYTES", 0)
    limit = 50 * 2**20

    def chunks():  # no Content-Length: the body streams in chunks past the limit
        for _ in range(limit // 2**20 + 2):
            yield b"x" * 2**20

    r = client.post(
        "/ingest/csv",
        headers={**org_a.headers("Editor"), "Content-Type": "multipart/form-data; boundary=b"},
        content=chunks(),
    )
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large", r.text
    assert count(IngestionBatch) == 0


def test_request_id_is_echoed_in_header_and_problem_body(client, org_a):
    r = client.get("/dashboards/999", headers={**org_a.headers(), "X-Request-ID": "trace-123"})
    assert r.status_code == 404
    assert r.headers["x-request-id"] == "trace-123" == r.json()["request_id"]
    generated = client.get("/dashboards/999", headers={**org_a.headers(), "X-Request-ID": "bad id\nInjected: 1"})
    rid = generated.headers["x-request-id"]
    assert len(rid) == 32 and rid == generated.json()["request_id"] and "\n" not in rid
    assert client.get("/health").headers["x-request-id"]


def test_a_500_is_logged_with_its_traceback_and_request_id(client, org_a, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom in the service")

    monkeypatch.setattr(dashboard_service, "list_dashboards", broken)
    with caplog.at_level(logging.ERROR, logger="painel.errors"):
        r = client.get("/dashboards", headers={**org_a.headers(), "X-Request-ID": "req-500"})
    assert r.status_code == 500 and r.json()["code"] == "internal_error"
    assert r.json()["request_id"] == "req-500" == r.headers["x-request-id"]
    assert "boom in the service" not in r.text
    records = [rec for rec in caplog.records if rec.name == "painel.errors"]
    assert len(records) == 1 and records[0].exc_info is not None
    assert records[0].exc_info[0] is ZeroDivisionError
    assert "ZeroDivisionError: boom in the service" in caplog.text and "NoneType: None" not in caplog.text
    assert "(request req-500)" in records[0].getMessage()
