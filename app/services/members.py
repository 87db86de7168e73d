"""Organization membership management, keeping at least one Owner."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.errors import Conflict, Forbidden, NotFound
from app.models import Membership, Role, User
from app.schemas.common import Page, PageParams
from app.schemas.members import MemberCreate, MemberRead, MemberUpdate
from app.services import auth as auth_service
from app.services.pagination import fetch_page
from app.services.tenancy import Tenant, scoped_select

PRIVILEGED = {Role.OWNER, Role.ADMIN}


def _read(membership: Membership, email: str) -> MemberRead:
    return MemberRead(user_id=membership.user_id, email=email, role=membership.role)


def list_members(session: Session, tenant: Tenant, page: PageParams) -> Page[MemberRead]:
    """The members of the caller's organization, by email."""
    stmt = (
        scoped_select(tenant, Membership, Membership, User.email)
        .join(User, User.id == Membership.user_id)
        .order_by(User.email)
    )
    return fetch_page(session, stmt, page, MemberRead, lambda row: _read(row[0], row[1]))


def _get_member(session: Session, tenant: Tenant, user_id: int) -> tuple[Membership, str]:
    stmt = (
        scoped_select(tenant, Membership, Membership, User.email)
        .join(User, User.id == Membership.user_id)
        .where(Membership.user_id == user_id)
    )
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound(f"Member {user_id} not found")
    return row[0], row[1]


def _require_can_manage(tenant: Tenant, *roles: Role) -> None:
    # Only an Owner grants, changes or removes the Owner and Admin roles.
    if any(role in PRIVILEGED for role in roles) and tenant.role is not Role.OWNER:
        raise Forbidden("Only an Owner can grant, change or remove the Owner and Admin roles", code="owner_required")


def _owner_count(session: Session, tenant: Tenant) -> int:
    # Lock the Owner rows so two concurrent demotions cannot both pass the check.
    stmt = scoped_select(tenant, Membership, Membership.id).where(Membership.role == Role.OWNER).with_for_update()
    return len(session.scalars(stmt).all())


def create_member(session: Session, tenant: Tenant, body: MemberCreate) -> MemberRead:
    """Add a user (created if new) to the caller's organization."""
    _require_can_manage(tenant, body.role)
    user = auth_service.get_or_create_user(session, body.email)
    existing = scoped_select(tenant, Membership, Membership.id).where(Membership.user_id == user.id)
    if session.scalar(existing) is not None:
        raise Conflict(f"{user.email} is already a member", code="already_member")
    # A concurrent add of the same email fails on the unique (org, user) key: 409 write_conflict, never a 500.
    membership = Membership(organization_id=tenant.org_id, user_id=user.id, role=body.role)
    session.add(membership)
    session.flush()
    return _read(membership, user.email)


def update_member(session: Session, tenant: Tenant, user_id: int, body: MemberUpdate) -> MemberRead:
    """Change a member's role; the organization always keeps an Owner."""
    membership, email = _get_member(session, tenant, user_id)
    _require_can_manage(tenant, membership.role, body.role)
    if membership.role is Role.OWNER and body.role is not Role.OWNER and _owner_count(session, tenant) <= 1:
        raise Conflict("The organization must keep at least one Owner", code="last_owner")
    membership.role = body.role
    session.flush()
    return _read(membership, email)


def delete_member(session: Session, tenant: Tenant, user_id: int) -> None:
    """Remove a member; the last Owner cannot be removed."""
    membership, _ = _get_member(session, tenant, user_id)
    _require_can_manage(tenant, membership.role)
    if membership.role is Role.OWNER and _owner_count(session, tenant) <= 1:
        raise Conflict("The organization must keep at least one Owner", code="last_owner")
    session.delete(membership)
    session.flush()
