"""Org API keys: create (the key shown once), list, revoke, and resolving a presented key into a tenant."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy.orm import Session

from app.core.errors import Forbidden, Unauthorized
from app.core.security import api_key_matches, new_api_key, parse_api_key
from app.models import ApiKey
from app.models.base import utcnow
from app.schemas.api_keys import ApiKeyCreate, ApiKeyCreatedRead, ApiKeyRead
from app.schemas.common import Page, PageParams
from app.services.pagination import fetch_page
from app.services.tenancy import (
    Credential,
    Tenant,
    api_key_of_org,
    get_scoped_or_404,
    scoped_select,
    scoped_update,
)

# last_used_at is written at most this often per key, so using a key costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def list_api_keys(session: Session, tenant: Tenant, page: PageParams) -> Page[ApiKeyRead]:
    """The org's keys, newest first (never the keys themselves)."""
    stmt = scoped_select(tenant, ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    return fetch_page(session, stmt, page, ApiKeyRead)


def create_api_key(session: Session, tenant: Tenant, body: ApiKeyCreate) -> ApiKeyCreatedRead:
    """A new key with a role at most the creator's; the answer is the only place the key ever appears."""
    if not tenant.at_least(body.role):
        raise Forbidden(
            f"An API key's role is at most yours: you are {tenant.role.value}, the key asks for {body.role.value}",
            code="role_above_yours",
        )
    new = new_api_key(tenant.org_id)
    row = ApiKey(
        organization_id=tenant.org_id,
        name=body.name,
        role=body.role,
        public_id=new.public_id,
        prefix=new.prefix,
        key_digest=new.digest,
        created_by=tenant.user_id,
        expires_at=body.expires_at,
    )
    session.add(row)
    session.flush()
    return ApiKeyCreatedRead(**ApiKeyRead.model_validate(row).model_dump(), key=new.key)


def delete_api_key(session: Session, tenant: Tenant, key_id: int) -> None:
    """Revoke a key at once: the next request that presents it is refused."""
    session.delete(get_scoped_or_404(session, tenant, ApiKey, key_id, "API key"))
    session.flush()


def resolve_api_key(session: Session, key: str) -> Tenant:
    """The tenant a presented key acts as (its org, its role), or 401; binds the session to the key's org."""
    parts = parse_api_key(key)
    row = api_key_of_org(session, parts.org_id, parts.public_id) if parts else None
    if row is None or not api_key_matches(key, row.key_digest):
        raise Unauthorized("Invalid API key (revoked, mistyped or unknown)", code="invalid_api_key")
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("The API key has expired", code="api_key_expired")
    tenant = Tenant(
        org_id=row.organization_id, user_id=None, role=row.role, credential=Credential.API_KEY, api_key_id=row.id
    )
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests of the same minute write it once.
        session.execute(
            scoped_update(tenant, ApiKey)
            .where(
                ApiKey.id == row.id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION),
            )
            .values(last_used_at=now)
        )
    return tenant
