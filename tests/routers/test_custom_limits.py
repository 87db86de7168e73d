"""Custom indicators and dashboard data stay bounded: rows, bytes, API memory and the whole call's time."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.core.config import get_settings
from app.services.indicators import custom
from tests.conftest import is_postgres
from tests.ingest_helpers import Row, make_csv, upload

MB = 1024 * 1024
# Row i holds 2**(i-1) characters: 16 MB in all, the last row 8 MB.
DOUBLING = (
    "WITH RECURSIVE d(i, s) AS (SELECT 1, 'x' UNION ALL SELECT i + 1, s || s FROM d WHERE i < 24) SELECT i, s FROM d"
)
SLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT COUNT(*) AS c FROM n"
)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE).group(1))


def measure_peak_rss_growth(call):
    """(result of call(), growth in MB of this process's peak RSS during the call)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the peak (VmHWM) to the current RSS
    before = _status_kb("VmRSS")
    result = call()
    return result, (_status_kb("VmHWM") - before) / 1024


def create(client, org, sql, name="q", parameters=()):
    r = client.post(
        "/indicators/custom",
        headers=org.headers("Admin"),
        json={"name": name, "sql": sql, "parameters": list(parameters)},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def run(client, org, indicator_id):
    return client.get(f"/indicators/custom/{indicator_id}/run", headers=org.headers("Viewer"))


def test_postgres_streams_a_huge_result_in_bounded_memory(client, org_a):
    if not is_postgres():
        pytest.skip("the server-side cursor is the Postgres path")
    rows = [
        Row(
            date(2024, 1, 1) + timedelta(days=i % 365), Decimal(i) / 4, ("SP", "RJ", "MG")[i % 3], f"{i:05d}" + "c" * 95
        )
        for i in range(1500)
    ]
    assert upload(client, org_a.headers(), make_csv(rows, encoding="utf-8")).status_code == 201
    categories, ufs = {r.category for r in rows}, {r.uf for r in rows}
    # 1500 x 1500 = 2.25M rows of ~120 bytes: buffered whole, this took hundreds of MB.
    ci = create(client, org_a, "SELECT a.category, b.uf, a.value + b.value AS total FROM facts a CROSS JOIN facts b")
    r, growth = measure_peak_rss_growth(lambda: run(client, org_a, ci))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["truncated"], body["truncated_reason"], len(body["rows"])) == (True, "rows", custom.ROW_CAP)
    assert body["columns"] == ["category", "uf", "total"]
    assert all(row["category"] in categories and row["uf"] in ufs for row in body["rows"])
    assert growth < 100, f"peak RSS grew by {growth:.0f} MB"


@pytest.fixture
def one_mb_cap(monkeypatch):
    monkeypatch.setattr(get_settings(), "CUSTOM_RESULT_MAX_BYTES", MB)
    return MB


def test_doubling_strings_stop_at_the_byte_cap(client, org_a, one_mb_cap):
    cap = one_mb_cap
    ci = create(client, org_a, DOUBLING)
    r, growth = measure_peak_rss_growth(lambda: run(client, org_a, ci))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["truncated"], body["truncated_reason"]) == (True, "bytes")
    kept = len(body["rows"])
    assert kept >= 1
    assert body["rows"] == [{"i": k, "s": "x" * 2 ** (k - 1)} for k in range(1, kept + 1)]
    kept_bytes = sum(len(row["s"]) for row in body["rows"])
    next_row = 2**kept
    assert kept_bytes <= cap < kept_bytes + next_row + 100 * kept  # cut at the row that would pass the cap
    assert len(r.content) <= cap + 10_000
    assert growth < 100, f"peak RSS grew by {growth:.0f} MB"


def test_a_first_row_larger_than_the_cap_is_422(client, org_a, one_mb_cap):
    ci = create(client, org_a, DOUBLING.replace("SELECT i, s FROM d", "SELECT s FROM d WHERE i = 24"))
    r, growth = measure_peak_rss_growth(lambda: run(client, org_a, ci))
    assert r.status_code == 422, r.text[:300]
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "result_too_large"
    assert str(one_mb_cap) in r.json()["detail"]
    assert len(r.content) < 2_000
    assert growth < 100, f"peak RSS grew by {growth:.0f} MB"


def test_bytes_cap_keeps_an_exact_prefix(client, org_a, monkeypatch):
    rows = [Row(date(2024, 2, 1 + i % 28), Decimal(1000 + i), "SP", f"categoria-{i:03d}") for i in range(200)]
    assert upload(client, org_a.headers(), make_csv(rows)).status_code == 201
    ci = create(client, org_a, "SELECT category, date FROM facts ORDER BY category")
    full = run(client, org_a, ci).json()
    assert full["truncated"] is False and full["truncated_reason"] is None
    assert [row["category"] for row in full["rows"]] == sorted(r.category for r in rows)
    monkeypatch.setattr(get_settings(), "CUSTOM_RESULT_MAX_BYTES", 2048)
    r = run(client, org_a, ci)
    cut = r.json()
    assert (cut["truncated"], cut["truncated_reason"]) == (True, "bytes")
    assert 0 < len(cut["rows"]) < len(full["rows"])
    assert cut["rows"] == full["rows"][: len(cut["rows"])]
    assert len(r.content) <= 2048 + 200


def test_dashboard_data_keeps_its_deadline(client, org_a, monkeypatch):
    rows = [Row(date(2024, 3, 1 + i), Decimal(f"{i + 1}0.50"), "SP", "A") for i in range(10)]
    assert upload(client, org_a.headers(), make_csv(rows)).status_code == 201
    deadline = 1.5
    monkeypatch.setattr(get_settings(), "DASHBOARD_DATA_DEADLINE_SECONDS", deadline)
    fast = create(client, org_a, "SELECT COUNT(*) AS n, SUM(value) AS total FROM facts", name="fast")
    slow = create(client, org_a, SLOW, name="slow")
    widgets = [
        {"title": "KPIs", "indicator": "kpis"},
        {"title": "Rápido", "custom_indicator_id": fast},
        {"title": "Lento 1", "custom_indicator_id": slow},
        {"title": "Lento 2", "custom_indicator_id": slow},
        {"title": "Rápido depois", "custom_indicator_id": fast},
    ]
    d = client.post("/dashboards", headers=org_a.headers("Editor"), json={"name": "Prazo", "widgets": widgets}).json()
    started = time.monotonic()
    r = client.get(f"/dashboards/{d['id']}/data", headers=org_a.headers("Viewer"))
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert elapsed < deadline + 1.5, f"took {elapsed:.1f} s"
    got = r.json()["widgets"]
    total = sum(row.value for row in rows)
    assert got[0]["data"]["current"]["total_value"] == float(total)
    assert [(k["n"], round(float(k["total"]), 2)) for k in got[1]["data"]["rows"]] == [(len(rows), float(total))]
    assert [(w["error"] or {}).get("code") for w in got] == [None, None, *["deadline_exceeded"] * 3]
    assert "cancelled" in got[2]["error"]["detail"]
    assert all(w["error"]["detail"].startswith("Not run") for w in got[3:])
    # A partial answer must not be reused from a cache.
    assert "etag" not in r.headers and r.headers["cache-control"] == "no-store"
