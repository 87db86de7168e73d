"""Seed the development data: the `demo` org with Owner dev@example.com (idempotent)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.core.config import get_settings
from app.core.db import session_scope
from app.models import Membership, Organization, Role
from app.services import auth as auth_service

logger = logging.getLogger("painel.seed")

DEMO_SLUG = "demo"
DEMO_OWNER = "dev@example.com"


def seed_demo() -> None:
    """Create the demo org and its Owner if missing."""
    with session_scope() as session:
        org = session.scalars(select(Organization).where(Organization.slug == DEMO_SLUG)).one_or_none()
        if org is None:
            org = Organization(slug=DEMO_SLUG, name="Demo")
            session.add(org)
            session.flush()
        user = auth_service.get_or_create_user(session, DEMO_OWNER)
        if auth_service.membership_of(session, user.id, org.id) is None:
            session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.OWNER))


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    if get_settings().SEED_DEMO:
        seed_demo()
        logger.info("demo org ready: dev-login with %s / %s", DEMO_OWNER, DEMO_SLUG)


if __name__ == "__main__":
    main()
