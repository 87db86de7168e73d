"""Dependency aliases: a route's signature states its session and permission."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.core import context as request_context
from app.core.db import bind_org, bind_user, get_session
from app.core.errors import Forbidden, Unauthorized
from app.core.security import TokenError, decode_access_token
from app.models import Role
from app.schemas.common import MAX_ID, PageParams
from app.services import audit as audit_service
from app.services import auth as auth_service
from app.services.tenancy import Tenant

# scope="function": the session commits when the route returns, before the response is sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# Ids and offsets are bounded, so an absurd number is a 422, not an integer overflow in the database.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def page_params(default: int = 50, maximum: int = 500) -> Callable[..., PageParams]:
    """Dependency factory: the `limit` (1..maximum) and `offset` query parameters of a list endpoint."""

    def _params(limit: int = default, offset: int = 0) -> PageParams:
        return PageParams(limit=limit, offset=offset)

    # Real objects, not the strings `from __future__ import annotations` would leave (they name closure values).
    _params.__annotations__ = {
        "limit": Annotated[int, Query(ge=1, le=maximum, description=f"Items per page (at most {maximum})")],
        "offset": Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip")],
        "return": PageParams,
    }
    return _params


Paging = Annotated[PageParams, Depends(page_params())]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_tenant(session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Tenant:
    """The caller's tenant, from the verified JWT and the current membership."""
    if not token:
        raise Unauthorized("Not authenticated: send 'Authorization: Bearer <token>'", code="not_authenticated")
    try:
        claims = decode_access_token(token)
    except TokenError as exc:
        raise Unauthorized(str(exc), code="invalid_token") from exc
    # Bound before the membership lookup: row-level security shows only the token's org (and the user's own rows).
    bind_org(session, claims.org_id)
    bind_user(session, claims.user_id)
    tenant = auth_service.resolve_tenant(session, claims)
    audit_service.set_actor(session, audit_service.ActorType.USER, tenant.user_id)
    request_context.set_identity(tenant.org_id, tenant.user_id)
    return tenant


CurrentTenant = Annotated[Tenant, Depends(get_tenant)]


def require_role(minimum: Role | str):
    """Dependency factory: the caller's role must be at least `minimum` (Viewer < Editor < Admin < Owner)."""
    needed = Role(minimum)

    # `async def`: a comparison only; as a sync dependency it would cost a threadpool hop on every request.
    async def _check(tenant: CurrentTenant) -> Tenant:
        if not tenant.at_least(needed):
            raise Forbidden(
                f"This action requires the {needed.value} role or higher (you are {tenant.role.value})",
                code="insufficient_role",
            )
        return tenant

    return _check


ViewerTenant = Annotated[Tenant, Depends(require_role(Role.VIEWER))]
EditorTenant = Annotated[Tenant, Depends(require_role(Role.EDITOR))]
AdminTenant = Annotated[Tenant, Depends(require_role(Role.ADMIN))]
OwnerTenant = Annotated[Tenant, Depends(require_role(Role.OWNER))]
