"""The caller's organization."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.models import Organization
from app.schemas.members import OrganizationRead, OrganizationUpdate
from app.services import freshness
from app.services.tenancy import Tenant


def _current(session: Session, tenant: Tenant) -> Organization:
    # Organizations are the tenants themselves (not a tenant table): the token's org is the row.
    org = session.get(Organization, tenant.org_id)
    if org is None:  # pragma: no cover - a verified token's org exists (memberships cascade with it)
        raise RuntimeError(f"organization {tenant.org_id} vanished")
    return org


def org_timezone(session: Session, tenant: Tenant) -> ZoneInfo:
    """The org's time zone (source datetimes become dates there; "today" is its today)."""
    return ZoneInfo(_current(session, tenant).timezone)


def get_organization(session: Session, tenant: Tenant) -> OrganizationRead:
    """The organization named by the token."""
    return OrganizationRead.model_validate(_current(session, tenant))


def update_organization(session: Session, tenant: Tenant, body: OrganizationUpdate) -> OrganizationRead:
    """Apply the fields sent: name, time zone, fiscal year start month."""
    org = _current(session, tenant)
    sent = body.model_fields_set
    if "name" in sent:
        org.name = body.name.strip()
    if "timezone" in sent:
        org.timezone = body.timezone
    if "fiscal_year_start_month" in sent:
        org.fiscal_year_start_month = body.fiscal_year_start_month
    session.flush()
    freshness.forget(session)  # answers depend on the time zone and fiscal year
    return OrganizationRead.model_validate(org)
