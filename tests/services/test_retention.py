"""Retention: the staged and rejected rows of batches no longer current go after RETENTION_DAYS, in every org, with
exact counts; the current batches' rows stay; a purged batch cannot be restored; the job is scheduled daily."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select, update

from app.core.config import get_settings
from app.cron.__main__ import parse_args
from app.cron.scheduler import RETENTION_JOB_ID, configure
from app.models import BatchStatus, IngestionBatch, RejectedRow, StagingRow
from app.models.base import utcnow
from app.services.jobs import retention
from tests.conftest import all_orgs_session
from tests.ingest_helpers import assert_rollups_match_facts, curated_totals, make_csv, sample_rows, upload

BAD = "01/02/2024;???;SP;Alimentos;bad\r\n".encode("cp1252")


def rows_of(batch_id: int) -> tuple[int, int]:
    """(staging rows, rejected rows) of a batch."""
    with all_orgs_session() as s:
        return (
            s.scalar(select(func.count()).select_from(StagingRow).where(StagingRow.batch_id == batch_id)),
            s.scalar(select(func.count()).select_from(RejectedRow).where(RejectedRow.batch_id == batch_id)),
        )


def age(batch_ids: list[int], days: int) -> None:
    with all_orgs_session() as s:
        s.execute(
            update(IngestionBatch)
            .where(IngestionBatch.id.in_(batch_ids))
            .values(finished_at=utcnow() - timedelta(days=days))
        )


def test_retention_purges_old_batches_that_are_not_current(client, org_a, org_b):
    editor_a, editor_b = org_a.headers("Editor"), org_b.headers("Editor")
    old_a = upload(client, editor_a, make_csv(sample_rows(9, seed=31)) + BAD + BAD).json()  # 11 staged, 2 rejected
    recent_a = upload(client, editor_a, make_csv(sample_rows(6, seed=32)) + BAD).json()  # 7 staged, 1 rejected
    current_rows = sample_rows(5, seed=33)
    current_a = upload(client, editor_a, make_csv(current_rows)).json()
    old_b = upload(client, editor_b, make_csv(sample_rows(4, seed=34)) + BAD).json()  # 5 staged, 1 rejected
    current_b = upload(client, editor_b, make_csv(sample_rows(3, seed=35))).json()
    assert rows_of(old_a["batch_id"]) == (11, 2) and rows_of(old_b["batch_id"]) == (5, 1)
    age([old_a["batch_id"], old_b["batch_id"], current_a["batch_id"], current_b["batch_id"]], days=31)
    age([recent_a["batch_id"]], days=29)

    result = retention.purge_expired(days=30)
    assert result == retention.RetentionResult(batches=2, staging_rows=16, rejected_rows=3, abandoned=0)
    assert rows_of(old_a["batch_id"]) == (0, 0) and rows_of(old_b["batch_id"]) == (0, 0)
    assert rows_of(recent_a["batch_id"]) == (7, 1)  # superseded, but not old enough
    assert rows_of(current_a["batch_id"]) == (5, 0) and rows_of(current_b["batch_id"]) == (3, 0)  # current: kept
    assert curated_totals(org_a.id) == (sum(r.value for r in current_rows), 5)
    assert_rollups_match_facts()
    # Nothing left to do: a second run removes nothing.
    assert retention.purge_expired(days=30) == retention.RetentionResult()

    history = client.get(f"/datasources/{old_a['data_source_id']}/batches", headers=org_a.headers("Viewer")).json()
    state = {i["id"]: (i["status"], i["restorable"], i["rows_purged_at"] is not None) for i in history["items"]}
    assert state == {
        current_a["batch_id"]: ("loaded", True, False),
        recent_a["batch_id"]: ("superseded", True, False),
        old_a["batch_id"]: ("superseded", False, True),
    }
    r = client.post(f"/ingest/batches/{old_a['batch_id']}/restore", headers=editor_a)
    assert (r.status_code, r.json()["code"]) == (409, "batch_purged")
    assert r.json()["detail"].startswith(f"Batch {old_a['batch_id']} can no longer be restored: its rows were removed")
    assert "upload its file again" in r.json()["detail"]
    assert curated_totals(org_a.id) == (sum(r.value for r in current_rows), 5)  # the refused restore changed nothing
    # The recent one still restores.
    assert client.post(f"/ingest/batches/{recent_a['batch_id']}/restore", headers=editor_a).status_code == 200
    assert curated_totals(org_a.id)[1] == 6
    assert_rollups_match_facts()


def test_zero_days_keeps_everything(client, org_a, monkeypatch):
    first = upload(client, org_a.headers("Editor"), make_csv(sample_rows(4, seed=36))).json()
    upload(client, org_a.headers("Editor"), make_csv(sample_rows(2, seed=37)))
    age([first["batch_id"]], days=3650)
    monkeypatch.setattr(get_settings(), "RETENTION_DAYS", 0)
    assert retention.purge_expired() == retention.RetentionResult()
    assert rows_of(first["batch_id"]) == (4, 0)
    monkeypatch.setattr(get_settings(), "RETENTION_DAYS", 30)
    assert retention.purge_expired().staging_rows == 4


def test_background_uploads_abandoned_by_a_stopped_process_are_failed(client, org_a):
    done = upload(client, org_a.headers("Editor"), make_csv(sample_rows(3, seed=38))).json()
    stale = get_settings().JOB_STALE_AFTER_SECONDS
    with all_orgs_session() as s:
        s.execute(
            update(IngestionBatch)
            .where(IngestionBatch.id == done["batch_id"])
            .values(status=BatchStatus.PROCESSING, started_at=utcnow() - timedelta(seconds=stale + 60))
        )
    assert retention.purge_expired(days=30).abandoned == 1
    batch = client.get(f"/ingest/batches/{done['batch_id']}", headers=org_a.headers()).json()
    assert batch["status"] == "failed" and batch["error"].startswith("abandoned: still processing after")


def test_retention_runs_daily_and_from_the_command_line():
    job = configure(BackgroundScheduler(timezone="UTC")).get_job(RETENTION_JOB_ID)
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"], job.coalesce, job.max_instances) == ("3", "30", True, 1)
    args = parse_args(["retention", "--days", "7"])
    assert (args.command, args.days, args.once) == ("retention", 7, False)
    assert parse_args(["--once"]).command is None
