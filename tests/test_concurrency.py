"""Writes under concurrency: committed before the answer (visible at once on another process), a failed
commit is an error with nothing stored, and get-or-create paths that never duplicate or 5xx when racing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select, text

from app.core.db import get_engine
from app.models import Dashboard, DataSource, Fact, IngestionBatch, Membership, Organization, User
from tests import live_server
from tests.conftest import all_orgs_session, is_postgres

CSV = "Data;Valor;UF\r\n05/01/2025;1.234,56;SP\r\n06/01/2025;10,00;RJ\r\n07/02/2025;-4,50;MG\r\n".encode("cp1252")
CSV_TOTAL = 1234.56 + 10.00 - 4.50


def count(model, *where) -> int:
    with all_orgs_session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture(scope="module")
def two_processes():
    with live_server.running(2) as servers:
        yield [httpx.Client(base_url=s.base_url, timeout=30) for s in servers]


def test_a_write_is_visible_on_another_process_as_soon_as_it_is_answered(two_processes, org_a):
    writer, reader = two_processes
    owner = org_a.headers()
    for i in range(10):
        up = writer.post("/ingest/csv", headers=owner, files={"file": (f"v{i}.csv", CSV)})
        assert up.status_code == 201, up.text
        batch = reader.get(f"/ingest/batches/{up.json()['batch_id']}", headers=owner)
        assert batch.status_code == 200 and batch.json()["rows_loaded"] == 3, batch.text

        email = f"new{i}@example.com"
        added = writer.post("/members", headers=owner, json={"email": email, "role": "Viewer"})
        assert added.status_code == 201, added.text
        login = reader.post("/auth/dev-login", json={"email": email, "org_slug": org_a.slug})
        assert login.status_code == 200, login.text

        created = writer.post("/dashboards", headers=owner, json={"name": f"Painel {i}"})
        assert created.status_code == 201, created.text
        read = reader.get(f"/dashboards/{created.json()['id']}", headers=owner)
        assert read.status_code == 200 and read.json()["name"] == f"Painel {i}", read.text
    with all_orgs_session() as session:
        total = session.scalar(select(func.sum(Fact.value)).where(Fact.organization_id == org_a.id))
    assert float(total) == pytest.approx(CSV_TOTAL * 10)


@pytest.fixture
def refuse_at_commit():
    """A real deferred constraint: inserting a dashboard named 'refuse-me' fails only at COMMIT."""
    engine = get_engine()
    # Postgres: dashboards' key is (organization_id, id); SQLite keeps id alone (migration 0018).
    key = "(org, ref) REFERENCES dashboards (organization_id, id)" if is_postgres() else "(ref) REFERENCES dashboards"
    guard = f"CREATE TABLE painel_test_guard (org INT, ref INT, FOREIGN KEY {key} DEFERRABLE INITIALLY DEFERRED)"
    with engine.begin() as conn:
        conn.execute(text(guard))
        if is_postgres():
            conn.execute(text("GRANT ALL ON painel_test_guard TO PUBLIC"))
            conn.execute(
                text(
                    "CREATE FUNCTION painel_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN INSERT INTO painel_test_guard VALUES (-1, -1); RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER painel_test_refuse AFTER INSERT ON dashboards FOR EACH ROW "
                    "WHEN (NEW.name = 'refuse-me') EXECUTE FUNCTION painel_test_refuse()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER painel_test_refuse AFTER INSERT ON dashboards WHEN NEW.name = 'refuse-me' "
                    "BEGIN INSERT INTO painel_test_guard VALUES (-1, -1); END"
                )
            )
    yield
    with engine.begin() as conn:
        if is_postgres():
            conn.execute(text("DROP TRIGGER painel_test_refuse ON dashboards"))
            conn.execute(text("DROP FUNCTION painel_test_refuse()"))
        else:
            conn.execute(text("DROP TRIGGER painel_test_refuse"))
        conn.execute(text("DROP TABLE painel_test_guard"))


def test_a_commit_that_fails_is_an_error_and_stores_nothing(client, org_a, refuse_at_commit):
    r = client.post("/dashboards", headers=org_a.headers(), json={"name": "refuse-me"})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == "write_conflict"
    assert count(Dashboard) == 0
    ok = client.post("/dashboards", headers=org_a.headers(), json={"name": "fine"})
    assert ok.status_code == 201 and count(Dashboard) == 1


@pytest.fixture(scope="module")
def one_process():
    with live_server.running(1) as servers:
        yield servers[0].base_url


def _in_parallel(n: int, call):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def test_parallel_first_uploads_of_a_file_make_one_source(one_process, org_a):
    def upload(_):
        with httpx.Client(base_url=one_process, timeout=60) as c:
            return c.post("/ingest/csv", headers=org_a.headers("Editor"), files={"file": ("vendas.csv", CSV)})

    answers = _in_parallel(20, upload)
    assert sorted(r.status_code for r in answers) == [200] * 19 + [201], [r.text for r in answers]
    assert len({r.json()["data_source_id"] for r in answers}) == 1
    assert len({r.json()["batch_id"] for r in answers}) == 1
    assert count(DataSource) == 1 and count(IngestionBatch) == 1
    with all_orgs_session() as session:
        assert session.scalar(select(func.count()).select_from(Fact)) == 3
        assert float(session.scalar(select(func.sum(Fact.value)))) == pytest.approx(CSV_TOTAL)


def test_parallel_dev_logins_of_a_new_email_make_one_user(one_process):
    def login(_):
        with httpx.Client(base_url=one_process, timeout=60) as c:
            return c.post("/auth/dev-login", json={"email": "Nova@Example.com", "org_slug": "nova"})

    answers = _in_parallel(20, login)
    assert [r.status_code for r in answers] == [200] * 20, [r.text for r in answers if r.status_code != 200]
    assert count(User, User.email == "nova@example.com") == 1
    assert count(Organization, Organization.slug == "nova") == 1
    assert count(Membership) == 1


def test_parallel_adds_of_the_same_new_member_make_one_membership(one_process, org_a):
    def add(_):
        with httpx.Client(base_url=one_process, timeout=60) as c:
            return c.post("/members", headers=org_a.headers(), json={"email": "racer@example.com", "role": "Viewer"})

    answers = _in_parallel(20, add)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [409] * 19, [r.text for r in answers]
    assert count(User, User.email == "racer@example.com") == 1
    assert count(Membership, Membership.organization_id == org_a.id) == 4 + 1
