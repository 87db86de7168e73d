"""Org API keys for servers and scripts (Admins, signed in as themselves: keys cannot manage keys)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.routers.deps import AdminUserTenant, Id, Paging, SessionDep
from app.schemas.api_keys import ApiKeyCreate, ApiKeyCreatedRead, ApiKeyRead
from app.schemas.common import Page
from app.services import api_keys as api_key_service

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


@router.post("", response_model=ApiKeyCreatedRead, status_code=status.HTTP_201_CREATED)
def create_api_key(
    body: ApiKeyCreate, tenant: AdminUserTenant, session: SessionDep, response: Response
) -> ApiKeyCreatedRead:
    """A new key acting for the organization with `role` (at most yours, never Owner). The key is in this answer
    only: store it now. Send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    response.headers["Cache-Control"] = "no-store"  # the answer carries a secret
    return api_key_service.create_api_key(session, tenant, body)


@router.get("", response_model=Page[ApiKeyRead])
def list_api_keys(tenant: AdminUserTenant, session: SessionDep, page: Paging) -> Page[ApiKeyRead]:
    """The organization's keys, newest first (their public prefix, never the keys)."""
    return api_key_service.list_api_keys(session, tenant, page)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_api_key(key_id: Id, tenant: AdminUserTenant, session: SessionDep) -> None:
    """Revoke a key at once: the next request that presents it answers 401."""
    api_key_service.delete_api_key(session, tenant, key_id)
