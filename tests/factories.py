"""Tenant factories: orgs with members of every role, and their auth headers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.core.db import bind_org, session_scope
from app.core.security import create_access_token
from app.models import Membership, Organization, Role, User


@dataclass
class Org:
    id: int
    slug: str
    users: dict[str, int]

    def headers(self, role: str = "Owner") -> dict[str, str]:
        return {"Authorization": f"Bearer {create_access_token(self.users[role], self.id)}"}


def make_org(slug: str) -> Org:
    """An org with one member per role: owner@<slug>.example.com, admin@..., editor@..., viewer@..."""
    with session_scope() as session:
        org = Organization(slug=slug, name=slug.title())
        session.add(org)
        session.flush()
        bind_org(session, org.id)  # memberships are tenant rows (row-level security on Postgres)
        users = {}
        for role in Role:
            user = User(email=f"{role.value.lower()}@{slug}.example.com")
            session.add(user)
            session.flush()
            session.add(Membership(organization_id=org.id, user_id=user.id, role=role))
            users[role.value] = user.id
        session.flush()
        return Org(id=org.id, slug=slug, users=users)


@pytest.fixture
def org_a() -> Org:
    return make_org("org-a")


@pytest.fixture
def org_b() -> Org:
    return make_org("org-b")
