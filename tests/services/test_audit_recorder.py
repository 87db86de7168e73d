"""The audit recorder below the API: bulk statements, merging within a transaction, savepoints, actors."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, update

from app.core.db import bind_org, insert_or_ignore
from app.models import AuditEvent, DataSource, Membership, Organization, Role, SourceType
from app.services import audit, freshness
from app.services import datasources as datasource_service
from app.services.tenancy import Tenant
from tests.conftest import all_orgs_session


def events(**where) -> list[tuple]:
    with all_orgs_session() as s:
        stmt = select(
            AuditEvent.organization_id,
            AuditEvent.actor_type,
            AuditEvent.actor_user_id,
            AuditEvent.action,
            AuditEvent.entity_id,
            AuditEvent.changes,
            AuditEvent.request_id,
        ).order_by(AuditEvent.id)
        for column, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, column) == value)
        return [tuple(row) for row in s.execute(stmt)]


def make_source(org_id: int, name: str) -> int:
    with all_orgs_session() as s:
        tenant = Tenant(org_id=org_id, user_id=None, role=Role.OWNER)
        return datasource_service.add_source(s, tenant, SourceType.CSV_UPLOAD, name).id


def test_bulk_update_is_recorded_per_row_in_each_rows_org(org_a, org_b):
    a, b = make_source(org_a.id, "a.csv"), make_source(org_b.id, "b.csv")
    with all_orgs_session() as s:
        s.execute(update(DataSource).values(is_recurring=True, interval_minutes=15))
    change = {"is_recurring": {"before": False, "after": True}, "interval_minutes": {"before": None, "after": 15}}
    assert events(action="datasource.updated") == [
        (org_a.id, "system", None, "datasource.updated", a, change, None),
        (org_b.id, "system", None, "datasource.updated", b, change, None),
    ]


def test_a_statement_on_the_table_itself_is_seen_too(org_a):
    source = make_source(org_a.id, "a.csv")
    with all_orgs_session() as s:
        table = DataSource.__table__
        s.execute(update(table).where(table.c.id == source).values(name="renamed.csv"))
    assert events(action="datasource.updated") == [
        (
            org_a.id,
            "system",
            None,
            "datasource.updated",
            source,
            {"name": {"before": "a.csv", "after": "renamed.csv"}},
            None,
        )
    ]


def test_bulk_delete_is_recorded_with_what_was_deleted(org_a):
    editor = org_a.users["Editor"]
    with all_orgs_session() as s:
        audit.set_actor(s, audit.ActorType.USER, org_a.users["Owner"])
        s.execute(delete(Membership).where(Membership.user_id == editor))
    assert events(action="member.deleted") == [
        (
            org_a.id,
            "user",
            org_a.users["Owner"],
            "member.deleted",
            editor,
            {"user_id": {"before": editor}, "role": {"before": "Editor"}},
            None,
        )
    ]


def test_side_effects_and_unaudited_columns_make_no_event(org_a):
    tenant = Tenant(org_id=org_a.id, user_id=None, role=Role.OWNER)
    before = events()
    with all_orgs_session() as s:
        freshness.bump(s, tenant)  # data_version is not an audited field
        s.execute(update(Organization).where(Organization.id == org_a.id).values(data_updated_at=None))
    assert events() == before


def test_core_insert_is_recorded_once_and_never_for_an_existing_row(org_a):
    values = {"organization_id": org_a.id, "name": "x.csv", "type": SourceType.CSV_UPLOAD, "config_json": {}}
    with all_orgs_session() as s:
        assert insert_or_ignore(s, DataSource, values, ["organization_id", "type", "name"])
        assert not insert_or_ignore(s, DataSource, values, ["organization_id", "type", "name"])
    assert [e[3] for e in events(action="datasource.created")] == ["datasource.created"]


def test_a_multi_row_statement_on_an_audited_model_is_refused(org_a):
    rows = [
        {"organization_id": org_a.id, "name": f"{i}.csv", "type": SourceType.CSV_UPLOAD, "config_json": {}}
        for i in range(2)
    ]
    with pytest.raises(audit.AuditBypassError), all_orgs_session() as s:
        s.execute(insert(DataSource), rows)
    with all_orgs_session() as s:
        assert s.scalars(select(DataSource)).all() == []


def test_changes_to_one_entity_in_one_transaction_make_one_event(org_a):
    with all_orgs_session() as s:
        org = s.get(Organization, org_a.id)
        org.name = "Um"
        s.flush()
        org.name = "Dois"
        s.flush()
    with all_orgs_session() as s:
        org = s.get(Organization, org_a.id)
        org.name = "Tres"
        s.flush()
        org.name = "Dois"  # and back: nothing changed
    assert [e[5] for e in events(action="organization.updated")] == [{"name": {"before": "Org-A", "after": "Dois"}}]


def test_a_rolled_back_savepoint_takes_its_events_back(org_a):
    with all_orgs_session() as s:
        bind_org(s, org_a.id)
        org = s.get(Organization, org_a.id)
        org.name = "Fora"
        s.flush()
        savepoint = s.begin_nested()
        org.name = "Dentro"
        s.flush()
        savepoint.rollback()
        assert s.get(Organization, org_a.id).name == "Fora"
    assert [e[5] for e in events(action="organization.updated")] == [{"name": {"before": "Org-A", "after": "Fora"}}]


def test_a_rolled_back_transaction_records_nothing(org_a):
    before = events()

    def write_then_fail():
        with all_orgs_session() as s:
            s.get(Organization, org_a.id).name = "Nunca"
            s.flush()
            raise RuntimeError("the write fails after its flush")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert events() == before
