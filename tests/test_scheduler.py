"""Scheduler: recurring sources run without a request, exactly once across schedulers, faults contained."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.config import get_settings
from app.core.db import session_scope
from app.cron.scheduler import tick
from app.models import DataSource, Fact, JobRun, RunStatus
from app.models.base import utcnow
from app.services.tenancy import across_orgs
from tests.conftest import is_postgres
from tests.routers.test_datasources import create_table, make_source, monthly, valor_mes, vendas_rows
from tests.scheduler_worker import tick_at


def runs_of(source_id: int) -> list[JobRun]:
    with session_scope() as s, across_orgs(s):
        return list(s.scalars(select(JobRun).where(JobRun.data_source_id == source_id).order_by(JobRun.id)))


def test_recurring_source_runs_on_tick_once_per_interval(client, org_a, customer_pg):
    rows = vendas_rows(120)
    create_table(customer_pg, rows)
    source = make_source(client, org_a, customer_pg.url, is_recurring=True, interval_minutes=30)
    assert tick()["ran"] == 1
    runs = runs_of(source["id"])
    assert [(r.trigger.value, r.status.value, r.rows_loaded, r.attempt) for r in runs] == [
        ("schedule", "success", 120, 1)
    ]
    assert valor_mes(client, org_a) == monthly(rows)
    assert tick() == {"due": 0, "ran": 0, "reaped": 0}
    # Once its interval has passed it is due again.
    with session_scope(org_a.id) as s:
        s.execute(update(JobRun).values(started_at=utcnow() - timedelta(minutes=31)))
    assert tick()["ran"] == 1 and len(runs_of(source["id"])) == 2
    api = client.get("/jobs/runs", headers=org_a.headers("Viewer"), params={"data_source_id": source["id"]}).json()
    assert api["total"] == 2 and [r["trigger"] for r in api["items"]] == ["schedule", "schedule"]


def test_unreachable_source_fails_clearly_and_the_next_still_runs(client, org_a, customer_pg):
    create_table(customer_pg, vendas_rows(10))
    dead = make_source(
        client, org_a, "postgresql+psycopg2://u:secret-pw@127.0.0.1:1/nothing", name="dead", is_recurring=True
    )
    alive = make_source(client, org_a, customer_pg.url, name="alive", is_recurring=True)
    assert tick()["due"] == 2
    (failed,) = runs_of(dead["id"])
    assert failed.status is RunStatus.FAILED and failed.error == "Could not connect to 127.0.0.1:1"
    assert runs_of(alive["id"])[0].status is RunStatus.SUCCESS


def test_failed_runs_retry_with_backoff_up_to_the_limit(client, org_a, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "JOB_RETRY_BASE_SECONDS", 0)
    monkeypatch.setattr(settings, "JOB_MAX_ATTEMPTS", 3)
    dead = make_source(client, org_a, "postgresql+psycopg2://u:p@127.0.0.1:1/x", is_recurring=True)
    for _ in range(5):
        tick()
    assert [(r.attempt, r.status.value) for r in runs_of(dead["id"])] == [(1, "failed"), (2, "failed"), (3, "failed")]
    monkeypatch.setattr(settings, "JOB_RETRY_BASE_SECONDS", 3600)
    # With a long backoff the retry waits.
    with session_scope(org_a.id) as s:
        s.execute(update(JobRun).where(JobRun.attempt == 3).values(attempt=1))
    assert tick()["due"] == 0


def test_abandoned_running_runs_are_reaped(client, org_a):
    source = make_source(client, org_a, "postgresql+psycopg2://u:p@127.0.0.1:1/x")
    with session_scope(org_a.id) as s:
        s.add(
            JobRun(
                organization_id=org_a.id,
                data_source_id=source["id"],
                trigger="schedule",
                status="running",
                started_at=utcnow() - timedelta(hours=3),
                worker="dead-host:123",
            )
        )
    assert tick()["reaped"] == 1
    (run,) = runs_of(source["id"])
    assert run.status is RunStatus.FAILED and "dead-host:123" in run.error


def test_run_past_its_timeout_fails(client, org_a, customer_pg, monkeypatch):
    customer_pg.execute(
        "CREATE TABLE t AS SELECT g AS id, DATE '2024-01-01' + (g % 300) AS data, g::numeric AS valor "
        "FROM generate_series(1, 3000) g"
    )
    monkeypatch.setattr(get_settings(), "JOB_TIMEOUT_SECONDS", 1)
    slow = make_source(
        client,
        org_a,
        customer_pg.url,
        is_recurring=True,
        query="SELECT a.data, a.valor + b.valor + c.valor AS valor FROM t a, t b, t c "
        "ORDER BY a.valor * b.valor * c.valor",
    )
    started = time.monotonic()
    tick()
    (run,) = runs_of(slow["id"])
    assert run.status is RunStatus.FAILED and ("limit" in run.error or "timed out" in run.error), run.error
    assert time.monotonic() - started < 30


def test_file_sources_are_skipped_not_failed(client, org_a):
    created = client.post("/datasources", headers=org_a.headers("Admin"), json={"name": "up", "type": "csv_upload"})
    manual = client.post(f"/datasources/{created.json()['id']}/run", headers=org_a.headers("Editor")).json()
    assert manual["status"] == "skipped" and manual["trigger"] == "manual"
    with session_scope(org_a.id) as s:  # a file source left recurring by an older version: skipped by the scheduler too
        s.execute(update(DataSource).values(is_recurring=True))
        s.execute(update(JobRun).values(started_at=utcnow() - timedelta(days=1)))
    tick()
    assert [r.status.value for r in runs_of(created.json()["id"])] == ["skipped", "skipped"]


def test_scheduler_in_lifespan_runs_without_any_request(org_a, customer_pg, monkeypatch):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.models import Role
    from app.schemas.datasources import DataSourceCreate
    from app.services import datasources as datasource_service
    from app.services.tenancy import Tenant

    rows = vendas_rows(30)
    create_table(customer_pg, rows)
    with session_scope(org_a.id) as s:
        source = datasource_service.create_source(
            s,
            Tenant(org_a.id, org_a.users["Owner"], Role.OWNER),
            DataSourceCreate(
                name="erp",
                type="sql",
                is_recurring=True,
                config={"sqlalchemy_url": customer_pg.url, "query": "SELECT data, valor FROM vendas"},
            ),
        )
        source_id = source.id
    monkeypatch.setattr(get_settings(), "SCHEDULER_ENABLED", True)
    monkeypatch.setattr(get_settings(), "SCHEDULER_TICK_SECONDS", 1)
    with TestClient(create_app()):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(r.status is RunStatus.SUCCESS for r in runs_of(source_id)):
            time.sleep(0.2)
    assert [(r.trigger.value, r.status.value, r.rows_loaded) for r in runs_of(source_id)][:1] == [
        ("schedule", "success", 30)
    ]


def test_several_schedulers_run_each_due_source_exactly_once(client, org_a, customer_pg):
    if not is_postgres():
        pytest.skip("the multi-scheduler guarantee is a Postgres one (advisory locks); runs in the Postgres pass")
    create_table(customer_pg, vendas_rows(2000))
    sources = [make_source(client, org_a, customer_pg.url, name=f"s{i}", is_recurring=True)["id"] for i in range(4)]
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 12  # after every child has imported the app
    procs = [ctx.Process(target=tick_at, args=(start_at,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    for source_id in sources:
        assert [(r.status.value, r.rows_loaded) for r in runs_of(source_id)] == [("success", 2000)]
    with session_scope(org_a.id) as s:
        assert s.scalar(select(func.count()).select_from(Fact).where(Fact.organization_id == org_a.id)) == 4 * 2000
    assert os.environ["DATABASE_URL"].startswith("postgresql")
