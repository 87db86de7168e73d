"""Uploads that do not hold the request: 202 with the batch's Location, progress while it loads, the same facts as a
synchronous upload, a failed load leaves nothing behind, and another org cannot see the batch."""

from __future__ import annotations

import tempfile
import time

import pytest

from app.core.config import get_settings
from app.core.db import session_scope
from app.models import Role
from app.services.ingest import batches as batch_service
from app.services.ingest import pipeline
from app.services.ingest.copy_path import raw_copy
from app.services.tenancy import Tenant
from tests.ingest_helpers import (
    assert_rollups_match_facts,
    curated_totals,
    make_csv,
    make_xlsx,
    sample_rows,
    stored_counts,
    upload,
)

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """Spooled uploads land in this test's own directory (to check they are removed)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def wait_done(client, headers, location: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(location, headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["status"] != "processing":
            return r.json()
        assert time.monotonic() < deadline, f"still processing: {r.json()}"
        time.sleep(0.05)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_async_upload_loads_the_same_as_a_synchronous_one(client, org_a, org_b, private_tmp, kind):
    rows = sample_rows(80, seed=11)
    content = make_csv(rows) if kind == "csv" else make_xlsx(rows)
    sync = upload(client, org_b.headers("Editor"), content, kind=kind)
    assert sync.status_code == 201, sync.text

    r = upload(client, {**org_a.headers("Editor"), **ASYNC}, content, kind=kind)
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert r.headers["Location"] == f"/ingest/batches/{accepted['id']}"
    assert r.headers["Preference-Applied"] == "respond-async"
    assert (accepted["status"], accepted["rows_processed"], accepted["restorable"]) == ("processing", 0, False)

    done = wait_done(client, org_a.headers("Viewer"), r.headers["Location"])
    expected = sync.json()
    assert (done["status"], done["error"], done["mode"]) == ("loaded", None, "replace")
    assert (done["rows_received"], done["rows_loaded"], done["rows_rejected"], done["rows_processed"]) == (
        expected["rows_received"],
        expected["rows_loaded"],
        expected["rows_rejected"],
        80,
    )
    assert done["details"]["mapping"] == expected["mapping"]
    assert curated_totals(org_a.id, done["data_source_id"]) == curated_totals(org_b.id, expected["data_source_id"])
    assert curated_totals(org_a.id) == (sum(row.value for row in rows), 80)
    assert_rollups_match_facts()
    assert list(private_tmp.glob("painel-upload-*")) == []  # the spooled copy is gone

    # Another org polling the batch: it does not exist for them.
    other = client.get(r.headers["Location"], headers=org_b.headers("Owner"))
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    # The identical file again is a duplicate, answered at once.
    again = upload(client, {**org_a.headers("Editor"), **ASYNC}, content, kind=kind)
    assert (again.status_code, again.json()["duplicate"], again.json()["batch_id"]) == (200, True, accepted["id"])


def test_large_uploads_go_to_the_background_by_size(client, org_a, monkeypatch):
    content = make_csv(sample_rows(30, seed=12))
    monkeypatch.setattr(get_settings(), "ASYNC_UPLOAD_MB", (len(content) - 1) / 2**20)
    r = upload(client, org_a.headers("Editor"), content)
    assert r.status_code == 202, r.text
    assert "Preference-Applied" not in r.headers
    assert wait_done(client, org_a.headers(), r.headers["Location"])["rows_loaded"] == 30
    small = upload(client, org_a.headers("Editor"), content[: len(content) // 2].rsplit(b"\r\n", 1)[0] + b"\r\n")
    assert small.status_code == 201, small.text  # under the threshold: answered in the request, as before
    # A dry run is never a background load (there is no batch to poll).
    dry = upload(client, {**org_a.headers("Editor"), **ASYNC}, content, dry_run=True)
    assert (dry.status_code, dry.json()["status"]) == (201, "dry_run")


def test_progress_is_committed_while_the_load_runs(client, org_a, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 1_000)  # the Python reader reports per chunk
    monkeypatch.setattr(raw_copy, "BLOCK_BYTES", 16 * 1024)  # the raw COPY (Postgres) per block of whole lines
    seen: list[tuple[str, int]] = []
    record = batch_service.record_progress

    def spy(tenant: Tenant, batch_id: int, rows: int) -> None:
        record(tenant, batch_id, rows)
        with session_scope(tenant.org_id) as s:  # what a poll from another request sees now
            read = batch_service.read_batch(s, tenant, batch_id)
            seen.append((read.status, read.rows_processed))

    monkeypatch.setattr(batch_service, "record_progress", spy)
    r = upload(client, {**org_a.headers("Editor"), **ASYNC}, make_csv(sample_rows(2_500, seed=13)))
    assert r.status_code == 202, r.text
    done = wait_done(client, org_a.headers(), r.headers["Location"])
    # Each report is committed and readable at once, rising to the last line while the batch is still processing.
    assert len(seen) >= 3
    assert {status for status, _ in seen} == {"processing"}
    assert [rows for _, rows in seen] == sorted({rows for _, rows in seen})
    assert seen[-1][1] == 2_500
    assert (done["status"], done["rows_processed"], done["rows_loaded"]) == ("loaded", 2_500, 2_500)


def test_a_failed_background_load_leaves_nothing_and_says_why(client, org_a, org_b, monkeypatch, private_tmp):
    editor = org_a.headers("Editor")
    first = sample_rows(12, seed=14)
    kept = upload(client, editor, make_csv(first)).json()
    before = stored_counts(org_a.id)
    daily_groups = assert_rollups_match_facts()
    monkeypatch.setattr(get_settings(), "MAX_UPLOAD_ROWS", 20)
    r = upload(client, {**editor, **ASYNC}, make_csv(sample_rows(30, seed=15)))
    assert r.status_code == 202, r.text
    done = wait_done(client, org_a.headers(), r.headers["Location"])
    assert done["status"] == "failed"
    assert done["error"] == "The data has more than 20 rows (MAX_UPLOAD_ROWS); split it."
    assert (done["rows_loaded"], done["restorable"]) == (0, False)
    # Nothing of the failed load: the same rows as before plus its batch record, the first file still current.
    after = stored_counts(org_a.id)
    assert after == {**before, "ingestion_batches": before["ingestion_batches"] + 1}
    assert curated_totals(org_a.id, kept["data_source_id"]) == (sum(row.value for row in first), 12)
    assert assert_rollups_match_facts() == daily_groups
    assert list(private_tmp.glob("painel-upload-*")) == []
    # A failed batch has nothing to restore; another org does not see it at all.
    restore = client.post(f"/ingest/batches/{done['id']}/restore", headers=editor)
    assert (restore.status_code, restore.json()["code"]) == (409, "batch_failed")
    other = client.get(r.headers["Location"], headers=org_b.headers("Owner"))
    assert other.status_code == 404


def test_a_file_refused_in_the_background_fails_with_the_reason(client, org_a):
    r = upload(client, {**org_a.headers("Editor"), **ASYNC}, make_xlsx(sample_rows(3)), kind="csv")
    assert r.status_code == 202, r.text
    done = wait_done(client, org_a.headers(), r.headers["Location"])
    assert done["status"] == "failed"
    assert done["error"].startswith("This file looks like an XLSX workbook")
    assert curated_totals(org_a.id) == (0, 0)


def test_a_rolled_back_request_leaves_no_spooled_file(org_a, private_tmp):
    import io

    from app.services.ingest import uploads as upload_service

    tenant = Tenant(org_id=org_a.id, user_id=org_a.users["Editor"], role=Role.EDITOR)
    request = upload_service.UploadRequest("csv", "vendas.csv", respond_async=True)
    spooled: list[int] = []

    def accept_then_fail() -> None:
        with session_scope(org_a.id) as s:
            outcome = upload_service.ingest_upload(s, tenant, io.BytesIO(make_csv(sample_rows(3))), request)
            assert outcome.accepted is not None
            spooled.append(len(list(private_tmp.glob("painel-upload-*"))))
            raise RuntimeError("the commit failed")

    with pytest.raises(RuntimeError, match="the commit failed"):
        accept_then_fail()
    assert spooled == [1]
    assert list(private_tmp.glob("painel-upload-*")) == []
    assert stored_counts(org_a.id)["ingestion_batches"] == 0
