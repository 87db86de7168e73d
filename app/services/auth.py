"""Sign-in flows, tokens, and resolving a token into a tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.db import bind_org, bind_user, insert_or_ignore
from app.core.errors import BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable
from app.core.security import (
    TokenClaims,
    WeakPassword,
    check_password_strength,
    create_access_token,
    hash_password,
    needs_rehash,
    verify_password,
)
from app.models import Membership, Organization, Role, User
from app.schemas.auth import MembershipRead, MeRead, UserRead
from app.schemas.members import OrganizationRead
from app.services import audit, freshness, rate_limits
from app.services.tenancy import Tenant, caller_state, membership_in_org, memberships_of_user


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalize_email(email))).one_or_none()


def get_or_create_user(session: Session, email: str) -> User:
    """The user with this email, created without a password when new (race-free: the email is unique)."""
    email = normalize_email(email)
    insert_or_ignore(session, User, {"email": email}, ["email"])
    return session.scalars(select(User).where(User.email == email)).one()


def _caller(session: Session, tenant: Tenant) -> User:
    """The user behind a request's tenant (routes that act for a person, never for a job)."""
    user = session.get(User, tenant.user_id) if tenant.user_id is not None else None
    if user is None:
        raise Unauthorized("This action needs a signed-in user", code="user_required")
    return user


def _org_by_slug(session: Session, slug: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.slug == slug)).one_or_none()


def dev_login(session: Session, email: str, org_slug: str) -> str:
    """Development sign-in: creates the org (caller becomes Owner) or requires membership."""
    if not get_settings().dev_login_enabled:
        raise NotFound("Not found")
    user = get_or_create_user(session, email)
    audit.set_actor(session, audit.ActorType.USER, user.id)  # creating an org is recorded as the user's
    bind_user(session, user.id)  # row-level security: the user's own memberships, in every org
    org = _org_by_slug(session, org_slug)
    if org is None:
        # Whoever inserts the org first becomes its Owner; a concurrent sign-in waits and then finds it.
        created = insert_or_ignore(
            session, Organization, {"slug": org_slug, "name": org_slug.replace("-", " ").title()}, ["slug"]
        )
        org = _org_by_slug(session, org_slug)
        if org is None:  # pragma: no cover - inserted or found just above
            raise RuntimeError(f"organization {org_slug!r} vanished while signing in")
        if created:
            bind_org(session, org.id)  # row-level security: the new org's first tenant row
            session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.OWNER))
            session.flush()
            return create_access_token(user.id, org.id)
    if membership_in_org(session, user.id, org.id) is None:
        raise Forbidden(f"{user.email} is not a member of organization '{org_slug}'", code="not_a_member")
    return create_access_token(user.id, org.id)


def password_login(session: Session, email: str, password: str, org_slug: str | None) -> str:
    """Email + password sign-in into the given org, or the user's first org (attempts rate-limited per email)."""
    rate_limits.check("password-login", normalize_email(email))
    user = get_user_by_email(session, email)
    # Verified even for an unknown email (against a decoy), so the answer time reveals nothing.
    if not verify_password(password, user.hashed_password if user else None) or user is None:
        raise Unauthorized("Incorrect email or password", code="invalid_credentials")
    bind_user(session, user.id)  # row-level security: the user's own memberships, in every org
    if user.hashed_password and needs_rehash(user.hashed_password):
        user.hashed_password = hash_password(password)
        session.flush()
    stmt = memberships_of_user(user.id, Membership.organization_id).join(
        Organization, Organization.id == Membership.organization_id
    )
    if org_slug:
        stmt = stmt.where(Organization.slug == org_slug.strip().lower())
    org_id = session.scalars(stmt.order_by(Membership.id).limit(1)).first()
    if org_id is None:
        raise Forbidden(
            "The user is not a member of that organization"
            if org_slug
            else "The user is not a member of any organization",
            code="not_a_member",
        )
    return create_access_token(user.id, org_id)


def update_password(session: Session, tenant: Tenant, password: str, current_password: str | None) -> None:
    """Set or change the caller's password; changing one requires the current one."""
    user = _caller(session, tenant)
    if user.hashed_password and not verify_password(current_password or "", user.hashed_password):
        raise BadRequest("current_password is missing or wrong", code="invalid_current_password")
    try:
        check_password_strength(password, [user.email, user.email.split("@")[0]])
    except WeakPassword as exc:
        raise Unprocessable(f"The password is too weak: {exc}", code="weak_password") from None
    user.hashed_password = hash_password(password)
    session.flush()


def switch_org(session: Session, tenant: Tenant, org_slug: str) -> str:
    """A token for another organization the caller belongs to."""
    user = _caller(session, tenant)
    org = _org_by_slug(session, org_slug)
    if org is None or membership_in_org(session, user.id, org.id) is None:
        raise Forbidden(f"You are not a member of organization '{org_slug}'", code="not_a_member")
    return create_access_token(user.id, org.id)


def resolve_tenant(session: Session, claims: TokenClaims) -> Tenant:
    """The tenant for verified claims; the role comes from memberships on every request."""
    return tenant_from_state(session, claims, caller_state(session, claims.user_id, claims.org_id))


def tenant_from_state(session: Session, claims: TokenClaims, row: Any) -> Tenant:
    """The tenant for verified claims from their caller statement's row (tenancy.caller_state, or its async twin):
    401 when the user is no longer a member of the token's org."""
    if row is None:
        raise Unauthorized("Token is no longer valid for this organization", code="invalid_token")
    # The org's data state comes in the same statement: indicator answers need no other round trip for it.
    freshness.remember(session, freshness.OrgState.from_row(claims.org_id, row))
    return Tenant(org_id=claims.org_id, user_id=claims.user_id, role=row.role)


def get_me(session: Session, tenant: Tenant) -> MeRead:
    """The caller, the current org and role, and every membership."""
    user = _caller(session, tenant)
    rows = session.execute(
        memberships_of_user(user.id, Organization, Membership.role)
        .join(Organization, Organization.id == Membership.organization_id)
        .order_by(Organization.slug)
    ).all()
    current = next(org for org, _ in rows if org.id == tenant.org_id)
    return MeRead(
        user=UserRead(id=user.id, email=user.email, has_password=bool(user.hashed_password)),
        organization=OrganizationRead.model_validate(current),
        role=tenant.role,
        memberships=[
            MembershipRead(organization=OrganizationRead.model_validate(org), role=role) for org, role in rows
        ],
    )
