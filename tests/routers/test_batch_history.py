"""Upload modes (replace, append), a source's batch history, and restoring an earlier batch: exact facts, rollups
equal to a recomputation after every write, the data version moves with them, and another org sees nothing."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.models import IngestionBatch
from tests.conftest import all_orgs_session
from tests.ingest_helpers import Row, assert_rollups_match_facts, curated_totals, make_csv, sample_rows, upload
from tests.routers.test_audit import events_of, expected

RANGE = {"from": "2024-01-01", "to": "2025-12-31"}


def totals(rows: list[Row]) -> tuple[Decimal, int]:
    return sum((r.value for r in rows), Decimal(0)), len(rows)


def by_month(*groups: list[Row]) -> dict[str, float]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for rows in groups:
        for r in rows:
            sums[f"{r.day:%Y-%m}"] += r.value
    return {m: float(v.quantize(Decimal("0.01"), ROUND_HALF_UP)) for m, v in sums.items()}


def months(client, org) -> dict[str, float]:
    r = client.get("/indicators/valor-mes-a-mes", headers=org.headers("Viewer"), params=RANGE)
    assert r.status_code == 200, r.text
    return {i["month"]: i["value"] for i in r.json()["items"] if i["value"] != 0}


def statuses(source_id: int) -> dict[int, str]:
    with all_orgs_session() as s:
        batches = s.scalars(select(IngestionBatch).where(IngestionBatch.data_source_id == source_id))
        return {b.id: b.status.value for b in batches}


def with_bad_line(rows: list[Row]) -> bytes:
    """The rows as a CSV plus one line whose value cannot be read (rejected, never loaded)."""
    return make_csv(rows) + "01/02/2024;not a number;SP;Alimentos;bad\r\n".encode("cp1252")


def test_append_adds_rows_and_replace_makes_one_current_batch(client, org_a):
    first, second, third = sample_rows(30, seed=1), sample_rows(20, seed=2), sample_rows(10, seed=3)
    editor = org_a.headers("Editor")
    a = upload(client, editor, make_csv(first), filename="vendas.csv").json()
    source = a["data_source_id"]
    assert a["mode"] == "replace"
    b = upload(client, editor, make_csv(second), filename="vendas.csv", mode="append")
    assert b.status_code == 201, b.text
    assert (b.json()["mode"], b.json()["data_source_id"], b.json()["rows_loaded"]) == ("append", source, 20)
    assert curated_totals(org_a.id, source) == totals(first + second)
    assert statuses(source) == {a["batch_id"]: "loaded", b.json()["batch_id"]: "loaded"}
    assert months(client, org_a) == by_month(first, second)
    assert assert_rollups_match_facts() > 0

    c = upload(client, editor, make_csv(third), filename="vendas.csv", mode="replace").json()
    assert curated_totals(org_a.id, source) == totals(third)
    assert statuses(source) == {
        a["batch_id"]: "superseded",
        b.json()["batch_id"]: "superseded",
        c["batch_id"]: "loaded",
    }
    assert months(client, org_a) == by_month(third)
    assert_rollups_match_facts()


def test_duplicates_follow_the_mode(client, org_a):
    first, second = sample_rows(15, seed=4), sample_rows(12, seed=5)
    editor = org_a.headers("Editor")
    a = upload(client, editor, make_csv(first)).json()
    again = upload(client, editor, make_csv(first))
    assert (again.status_code, again.json()["duplicate"], again.json()["batch_id"]) == (200, True, a["batch_id"])
    b = upload(client, editor, make_csv(second), mode="append").json()
    # Appending a file that is already current would count its rows twice: it is a duplicate.
    for content, batch in ((make_csv(first), a), (make_csv(second), b)):
        r = upload(client, editor, content, mode="append")
        assert (r.status_code, r.json()["duplicate"], r.json()["batch_id"]) == (200, True, batch["batch_id"])
    assert curated_totals(org_a.id, a["data_source_id"]) == totals(first + second)
    # Replacing with the first file is not a no-op while the second is also current.
    r = upload(client, editor, make_csv(first))
    assert (r.status_code, r.json()["duplicate"]) == (201, False)
    assert curated_totals(org_a.id, a["data_source_id"]) == totals(first)
    assert_rollups_match_facts()


def test_invalid_mode_is_a_clear_422(client, org_a):
    r = upload(client, org_a.headers("Editor"), make_csv(sample_rows(3)), mode="merge")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "mode" in r.text and "replace" in r.text and "append" in r.text


def test_history_lists_batches_newest_first_with_restorability(client, org_a, org_b):
    editor = org_a.headers("Editor")
    a = upload(client, editor, with_bad_line(sample_rows(8, seed=6)), filename="jan.csv", name="vendas").json()
    b = upload(client, editor, make_csv(sample_rows(5, seed=7)), filename="fev.csv", name="vendas").json()
    source = a["data_source_id"]
    r = client.get(f"/datasources/{source}/batches", headers=org_a.headers("Viewer"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    got = [
        (
            i["id"],
            i["status"],
            i["mode"],
            i["file_name"],
            i["rows_received"],
            i["rows_loaded"],
            i["rows_rejected"],
            i["created_by"],
            i["restorable"],
            i["rows_purged_at"],
        )
        for i in page["items"]
    ]
    editor_id = org_a.users["Editor"]
    assert got == [
        (b["batch_id"], "loaded", "replace", "fev.csv", 5, 5, 0, editor_id, True, None),
        (a["batch_id"], "superseded", "replace", "jan.csv", 9, 8, 1, editor_id, True, None),
    ]
    assert all(i["created_at"] <= i["finished_at"] for i in page["items"])
    second = client.get(
        f"/datasources/{source}/batches", headers=org_a.headers("Viewer"), params={"limit": 1, "offset": 1}
    )
    assert [i["id"] for i in second.json()["items"]] == [a["batch_id"]]
    # Another org: the source does not exist for it.
    other = client.get(f"/datasources/{source}/batches", headers=org_b.headers("Owner"))
    assert (other.status_code, other.json()["code"]) == (404, "not_found")


def test_restore_makes_an_earlier_batch_current_again(client, org_a, org_b):
    editor = org_a.headers("Editor")
    first, second, third = sample_rows(25, seed=8), sample_rows(10, seed=9), sample_rows(7, seed=10)
    a = upload(client, editor, with_bad_line(first)).json()
    source = a["data_source_id"]
    b = upload(client, editor, make_csv(second)).json()
    c = upload(client, editor, make_csv(third), mode="append").json()
    assert months(client, org_a) == by_month(second, third)  # cached now under the current data version

    # Another org cannot restore it, nor learn that it exists.
    other = client.post(f"/ingest/batches/{a['batch_id']}/restore", headers=org_b.headers("Owner"))
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert curated_totals(org_a.id, source) == totals(second + third)

    r = client.post(f"/ingest/batches/{a['batch_id']}/restore", headers=editor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["status"], body["rows_loaded"], body["restorable"]) == (a["batch_id"], "loaded", 25, True)
    assert body["restored_at"] is not None
    assert curated_totals(org_a.id, source) == totals(first)  # the valid rows only: the bad line stays out
    assert statuses(source) == {a["batch_id"]: "loaded", b["batch_id"]: "superseded", c["batch_id"]: "superseded"}
    assert months(client, org_a) == by_month(first)  # the data version moved: nothing stale is served
    assert_rollups_match_facts()
    restored = [e for e in events_of(r) if e["action"] == "batch.restored"]
    assert restored == [
        expected(
            org_a,
            "Editor",
            "batch.restored",
            "batch",
            a["batch_id"],
            {
                "status": {"before": "superseded", "after": "loaded"},
                "restored_at": restored[0]["changes"]["restored_at"],
            },
        )
    ]

    # Restoring the current one again changes nothing; restoring b brings b back.
    again = client.post(f"/ingest/batches/{a['batch_id']}/restore", headers=editor)
    assert again.status_code == 200 and curated_totals(org_a.id, source) == totals(first)
    back = client.post(f"/ingest/batches/{b['batch_id']}/restore", headers=editor)
    assert back.status_code == 200, back.text
    assert curated_totals(org_a.id, source) == totals(second)
    assert months(client, org_a) == by_month(second)
    assert_rollups_match_facts()
    # An upload after a restore replaces as usual, and the restored batch is superseded.
    d = upload(client, editor, make_csv(third)).json()
    assert statuses(source)[b["batch_id"]] == "superseded" and statuses(source)[d["batch_id"]] == "loaded"


def test_restore_needs_an_editor_and_a_real_batch(client, org_a):
    a = upload(client, org_a.headers("Editor"), make_csv(sample_rows(4))).json()
    viewer = client.post(f"/ingest/batches/{a['batch_id']}/restore", headers=org_a.headers("Viewer"))
    assert (viewer.status_code, viewer.json()["code"]) == (403, "insufficient_role")
    missing = client.post("/ingest/batches/424242/restore", headers=org_a.headers("Editor"))
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
