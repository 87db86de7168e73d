"""Tenancy plumbing: the org filter refuses a missing org; Postgres transactions carry app.current_org."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.db import bind_org, session_scope
from app.models import Membership, Role
from app.services.tenancy import Tenant, across_orgs, get_scoped, scoped_select


def test_scoped_select_refuses_a_missing_org():
    with pytest.raises(RuntimeError):
        scoped_select(Tenant(org_id=0, user_id=1, role=Role.OWNER), Membership)


def test_scoped_get_never_returns_another_orgs_row(org_a, org_b):
    # across_orgs: row-level security lets every org through, so this checks the application filter alone.
    with session_scope() as session, across_orgs(session):
        other = session.scalars(scoped_select(Tenant(org_b.id, org_b.users["Owner"], Role.OWNER), Membership)).first()
        mine = Tenant(org_a.id, org_a.users["Owner"], Role.OWNER)
        assert get_scoped(session, mine, Membership, other.id) is None


def test_current_org_is_set_per_transaction_on_postgres(org_a):
    with session_scope() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("app.current_org is a Postgres session setting")
        bind_org(session, org_a.id)
        assert session.execute(text("SELECT current_setting('app.current_org', true)")).scalar() == str(org_a.id)
        session.commit()
        # A new transaction of the same session carries it again.
        assert session.execute(text("SELECT current_setting('app.current_org', true)")).scalar() == str(org_a.id)


def test_only_the_named_tenancy_helper_turns_on_the_all_orgs_exception():
    app_dir = Path(__file__).resolve().parents[1] / "app"
    users = {
        path.relative_to(app_dir).as_posix()
        for path in app_dir.rglob("*.py")
        if "set_all_orgs(" in path.read_text(encoding="utf-8") or "app.all_orgs" in path.read_text(encoding="utf-8")
    }
    assert users == {"core/db.py", "services/tenancy.py"}
