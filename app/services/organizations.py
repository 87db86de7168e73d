"""The caller's organization."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Organization
from app.services.tenancy import Tenant


def get_current(session: Session, tenant: Tenant) -> Organization:
    """The organization named by the token."""
    return session.get(Organization, tenant.org_id)


def update_current(session: Session, tenant: Tenant, name: str) -> Organization:
    """Rename the caller's organization."""
    org = get_current(session, tenant)
    org.name = name.strip()
    session.flush()
    return org
