"""Google Sheets through the real gspread/google-auth code path, against a local Sheets API server."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.core.config import get_settings
from tests.sheets_server import TOKEN, SheetsServer

SHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
ROWS = [
    ["Relatório de vendas"],
    [],
    ["Data", "Valor", "UF", "Categoria"],
    [45292, 1234.56, "SP", "A"],  # serial date (2024-01-01) and a number, as UNFORMATTED_VALUE gives
    ["15/01/2024", "1.000,50", "rj", "B"],  # text cells typed by hand
    [45337, 99.9, "Minas Gerais", "A"],  # 2024-02-15
    [45338, "abc", "SP", "B"],
]  # a bad value: rejected, accounted for


@pytest.fixture
def sheets(monkeypatch):
    with SheetsServer() as server:
        settings = get_settings()
        monkeypatch.setattr(settings, "SHEETS_API_BASE_URL", server.base_url)
        monkeypatch.setattr(settings, "GOOGLE_TOKEN_URI", server.token_uri)
        monkeypatch.setattr(settings, "SHEETS_RETRY_BASE_SECONDS", 0.0)
        server.state.sheets[SHEET_ID] = {"Plan1": ROWS}
        yield server


def service_account() -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "painel-test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "painel-reader@painel-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://evil.example/token",
    }


def authorized_user() -> dict:
    return {"type": "authorized_user", "token": TOKEN, "refresh_token": "r", "client_id": "c", "client_secret": "s"}


def put_creds(client, org, creds, role="Admin"):
    return client.put("/datasources/google-credentials", headers=org.headers(role), json={"credentials": creds})


def ingest(client, org, **body):
    return client.post(
        "/ingest/sheets", headers=org.headers("Editor"), json={"spreadsheet_id": SHEET_ID, "range": "Plan1", **body}
    )


def test_service_account_flow_loads_exact_values(client, org_a, sheets):
    creds = service_account()
    r = put_creds(client, org_a, creds)
    assert r.status_code == 200 and r.json()["client_email"] == creds["client_email"]
    assert creds["private_key"] not in r.text
    body = ingest(client, org_a)
    assert body.status_code == 201, body.text
    report = body.json()
    assert (report["rows_received"], report["rows_loaded"], report["rows_rejected"]) == (4, 3, 1)
    assert report["rejected_sample"][0]["line"] == 7 and report["rejected_sample"][0]["value"] == "abc"
    assert sheets.state.token_requests == 1  # the token came from the configured endpoint, not the JSON's
    items = client.get(
        "/indicators/valor-mes-a-mes", headers=org_a.headers(), params={"from": "2024-01-01", "to": "2024-02-29"}
    ).json()["items"]
    assert [i["value"] for i in items] == [float(Decimal("1234.56") + Decimal("1000.50")), 99.9]
    ufs = {
        i["uf"]: i["value"]
        for i in client.get(
            "/indicators/mapa-por-uf", headers=org_a.headers(), params={"from": "2024-01-01", "to": "2024-12-31"}
        ).json()["items"]
    }
    assert (ufs["SP"], ufs["RJ"], ufs["MG"]) == (1234.56, 1000.5, 99.9)


def test_authorized_user_flow_and_source_reuse(client, org_a, sheets):
    assert put_creds(client, org_a, authorized_user()).status_code == 200
    first = ingest(client, org_a).json()
    again = ingest(client, org_a, data_source_id=first["data_source_id"]).json()
    assert again["data_source_id"] == first["data_source_id"] and again["rows_loaded"] == 3
    sources = client.get("/datasources", headers=org_a.headers()).json()["items"]
    assert [(s["type"], s["config"]["spreadsheet_id"]) for s in sources] == [("google_sheets", SHEET_ID)]


def test_errors_are_clear(client, org_a, sheets):
    sa = service_account()
    put_creds(client, org_a, sa)
    missing = client.post(
        "/ingest/sheets",
        headers=org_a.headers("Editor"),
        json={"spreadsheet_id": "1MissingSheet0000000000000", "range": "Plan1"},
    )
    assert missing.status_code == 404 and missing.json()["code"] == "sheet_not_found"
    sheets.state.forbidden.add(SHEET_ID)
    denied = ingest(client, org_a)
    assert denied.status_code == 403 and sa["client_email"] in denied.json()["detail"]
    sheets.state.forbidden.clear()
    sheets.state.rate_limited[SHEET_ID] = 2  # retried with backoff, then succeeds
    assert ingest(client, org_a).status_code == 201
    sheets.state.rate_limited[SHEET_ID] = 100  # retries exhausted
    limited = ingest(client, org_a)
    assert limited.status_code == 503 and limited.json()["code"] == "sheets_unavailable"
    sheets.state.rate_limited.clear()
    bad_range = ingest(client, org_a, range="NoSuchSheet")
    assert bad_range.status_code == 422


def test_no_credentials_and_bad_credentials(client, org_a, org_b, sheets):
    r = ingest(client, org_a)
    assert r.status_code == 422 and r.json()["code"] == "google_credentials_missing"
    assert put_creds(client, org_a, {"type": "service_account"}).status_code == 422
    assert put_creds(client, org_a, authorized_user(), role="Editor").status_code == 403
    # Org B's credentials never serve org A.
    put_creds(client, org_b, authorized_user())
    assert ingest(client, org_a).status_code == 422


def test_credentials_never_returned(client, org_a, sheets):
    sa = service_account()
    put_creds(client, org_a, sa)
    ingest(client, org_a)
    for path in ("/datasources", "/ingest/batches", "/jobs/runs", "/auth/me"):
        text = client.get(path, headers=org_a.headers()).text
        assert "PRIVATE KEY" not in text and sa["private_key"][40:80] not in text


def test_sheets_append_mode_adds_the_range_again(client, org_a, sheets):
    from tests.ingest_helpers import assert_rollups_match_facts, curated_totals

    assert put_creds(client, org_a, service_account()).status_code == 200
    first = ingest(client, org_a).json()
    one = curated_totals(org_a.id, first["data_source_id"])
    assert one == (Decimal("1234.56") + Decimal("1000.50") + Decimal("99.9"), 3)
    again = ingest(client, org_a, data_source_id=first["data_source_id"], mode="append")
    assert again.status_code == 201, again.text
    assert again.json()["mode"] == "append"
    assert curated_totals(org_a.id, first["data_source_id"]) == (one[0] * 2, 6)
    assert_rollups_match_facts()
    replaced = ingest(client, org_a, data_source_id=first["data_source_id"])
    assert replaced.json()["mode"] == "replace"
    assert curated_totals(org_a.id, first["data_source_id"]) == one
    assert_rollups_match_facts()
