"""The caller's organization."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Organization
from app.schemas.members import OrganizationRead, OrganizationUpdate
from app.services.tenancy import Tenant


def _current(session: Session, tenant: Tenant) -> Organization:
    # Organizations are the tenants themselves (not a tenant table): the token's org is the row.
    org = session.get(Organization, tenant.org_id)
    if org is None:  # pragma: no cover - a verified token's org exists (memberships cascade with it)
        raise RuntimeError(f"organization {tenant.org_id} vanished")
    return org


def get_organization(session: Session, tenant: Tenant) -> OrganizationRead:
    """The organization named by the token."""
    return OrganizationRead.model_validate(_current(session, tenant))


def update_organization(session: Session, tenant: Tenant, body: OrganizationUpdate) -> OrganizationRead:
    """Rename the caller's organization."""
    org = _current(session, tenant)
    org.name = body.name.strip()
    session.flush()
    return OrganizationRead.model_validate(org)
