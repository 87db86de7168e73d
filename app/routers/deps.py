"""Dependency aliases: a route's signature states its session and permission."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

import psycopg
from anyio import to_thread
from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyHeader, HTTPBearer, OAuth2PasswordBearer
from fastapi.security.base import SecurityBase
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.routing import BaseRoute

from app.core import context as request_context
from app.core.async_db import CALLER_POOL, AsyncStatementPool
from app.core.db import (
    READ_ONLY_ATTR,
    bind_org,
    bind_user,
    is_autocommit_session,
    known_app_role,
    request_session,
    tenant_settings,
)
from app.core.errors import Forbidden, Unauthorized
from app.core.security import TokenClaims, TokenError, decode_access_token, is_embed_token, looks_like_api_key
from app.models import Role
from app.schemas.common import MAX_ID, PageParams
from app.services import api_keys as api_key_service
from app.services import audit as audit_service
from app.services import auth as auth_service
from app.services import embed as embed_service
from app.services.tenancy import Credential, Tenant, caller_state_async

log = logging.getLogger("painel.auth")

# The name in app.state of the limiter of get_caller's worker threads (app.main's lifespan creates it).
CALLER_LIMITER = "caller_limiter"

# scope="function": the session commits when the route returns, before the response is sent.
SessionDep = Annotated[Session, Depends(request_session, scope="function")]

Endpoint = TypeVar("Endpoint", bound=Callable[..., object])


def read_only(endpoint: Endpoint) -> Endpoint:
    """Mark a route that only reads (below its @router.get): on Postgres its session runs in autocommit, each
    statement a transaction of its own carrying the tenant settings, so no BEGIN or COMMIT round trip."""
    setattr(endpoint, READ_ONLY_ATTR, True)
    return endpoint


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

# Three ways to present a credential, all in the OpenAPI document (Swagger's Authorize offers each): the password
# flow, a pasted Bearer value (a user token from POST /auth/dev-login, an API key or an embed token), or X-API-Key.
# They are documented, not solved: get_caller reads both headers itself (presented_credential; one dependency
# instead of five on every authenticated request), and document_credentials adds the schemes to every operation that
# depends on it.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    auto_error=False,
    description="Email as username and your password (set one with POST /auth/password); your first org.",
)
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="A user token (POST /auth/dev-login, /auth/token), an org API key (pnl_live_...) or an embed token.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="ApiKey", description="An org API key (POST /api-keys)."
)
CREDENTIAL_SCHEMES: tuple[SecurityBase, ...] = (oauth2_scheme, bearer_scheme, api_key_scheme)


def _bearer_value(authorization: str | None) -> str | None:
    """The value of `Authorization: Bearer <value>` (scheme in any case), as the OAuth2 and HTTP Bearer schemes read
    it; None for another scheme or an empty value."""
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    return value if value and scheme.lower() == "bearer" else None


def presented_credential(headers: Headers) -> str:
    """The one credential the request presents: `Authorization: Bearer <value>` or `X-API-Key: <API key>`."""
    authorization = _bearer_value(headers.get("authorization"))
    api_key = headers.get("x-api-key") or None
    if authorization and api_key and authorization != api_key:
        raise Unauthorized(
            "Send one credential: either 'Authorization: Bearer ...' or 'X-API-Key: ...'", code="ambiguous_credentials"
        )
    if api_key and not looks_like_api_key(api_key):
        raise Unauthorized("X-API-Key takes an org API key (pnl_live_...)", code="invalid_api_key")
    credential = authorization or api_key
    if not credential:
        raise Unauthorized(
            "Not authenticated: send 'Authorization: Bearer <token or API key>' or 'X-API-Key: <API key>'",
            code="not_authenticated",
        )
    return credential


def _takes_credential(dependant: Dependant) -> bool:
    return any(sub.call is get_caller or _takes_credential(sub) for sub in dependant.dependencies)


def document_credentials(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """Declare the credential schemes in an OpenAPI document, as FastAPI does for a security dependency: each
    scheme under components.securitySchemes, and the three alternatives in the `security` of every operation whose
    route depends on get_caller."""
    alternatives: list[dict[str, list[str]]] = [{scheme.scheme_name: []} for scheme in CREDENTIAL_SCHEMES]
    documented = False
    for context in iter_route_contexts(list(routes)):  # each route as mounted (included routers' prefixes applied)
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context  # an APIRoute-like view, as FastAPI's own OpenAPI generation reads it
        if not route.include_in_schema or not _takes_credential(route.dependant):
            continue
        for method in route.methods:
            operation = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation.setdefault("security", []).extend(alternatives)
                documented = True
    if documented:
        schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(
            {
                scheme.scheme_name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
                for scheme in CREDENTIAL_SCHEMES
            }
        )
    return schema


def _claims(token: str) -> TokenClaims:
    try:
        return decode_access_token(token)
    except TokenError as exc:
        raise Unauthorized(str(exc), code="invalid_token") from exc


def _bind_user(session: Session, claims: TokenClaims) -> None:
    bind_org(session, claims.org_id)
    bind_user(session, claims.user_id)


def _user_tenant(session: Session, token: str) -> Tenant:
    claims = _claims(token)
    # Bound before the membership lookup: row-level security shows only the token's org (and the user's own rows).
    _bind_user(session, claims)
    return _acting_user(session, auth_service.resolve_tenant(session, claims))


def _acting_user(session: Session, tenant: Tenant) -> Tenant:
    audit_service.set_actor(session, audit_service.ActorType.USER, tenant.user_id)
    request_context.set_identity(tenant.org_id, tenant.user_id)
    return tenant


async def _user_tenant_on_loop(pool: AsyncStatementPool, session: Session, headers: Headers) -> Tenant | None:
    """A user token's tenant, its statement sent on the event loop (app.core.async_db); None when that path does not
    apply and the thread path answers: another kind of credential, a route that writes, the first request on this
    database (it finds out whether sessions switch role), or a pool that failed (logged)."""
    if not is_autocommit_session(session):
        return None
    credential = presented_credential(headers)
    if looks_like_api_key(credential) or is_embed_token(credential):
        return None
    engine = session.get_bind().engine
    switch_role = known_app_role(engine.url)
    if switch_role is None:
        return None
    claims = _claims(credential)
    settings = tenant_settings(claims.org_id, claims.user_id, switch_role=switch_role)
    try:
        row = await caller_state_async(pool, engine.dialect, settings, claims.user_id, claims.org_id)
    except psycopg.Error as exc:
        log.warning("caller statement on the event loop failed (%s): a worker thread resolves the caller", exc)
        return None
    _bind_user(session, claims)
    return _acting_user(session, auth_service.tenant_from_state(session, claims, row))


def _resolve_caller(session: Session, headers: Headers) -> Tenant:
    credential = presented_credential(headers)
    if looks_like_api_key(credential):
        tenant = api_key_service.resolve_api_key(session, credential)
        audit_service.set_actor(session, audit_service.ActorType.API_KEY, api_key_id=tenant.api_key_id)
    elif is_embed_token(credential):
        tenant = embed_service.resolve_embed_token(session, credential)
    else:
        return _user_tenant(session, credential)
    request_context.set_identity(tenant.org_id, tenant.user_id)
    return tenant


async def get_caller(session: SessionDep, request: Request) -> Tenant:
    """Whoever the verified credential proves: a user (JWT and current membership), an org API key, or an embed
    token (read-only, its dashboards only). Routes use CurrentTenant, which refuses embed tokens.

    Its one statement blocks (psycopg2), so it runs in a worker thread, and at most `CALLER_THREADS` requests of a
    worker process do so at once (the limiter the lifespan puts in app.state); the others wait their turn on the
    event loop. Every worker thread that holds the GIL delays the others, so fewer threads give a shorter tail
    (docs/PERFORMANCE.md). The long work of a route (uploads, misses) keeps the default thread pool.

    On Postgres, a read-only route's user token skips the thread: its statement goes through the lifespan's
    asyncio pool (app.core.async_db), so a cached answer is served without leaving the event loop."""
    pool = getattr(request.app.state, CALLER_POOL, None)
    if pool is not None:
        tenant = await _user_tenant_on_loop(pool, session, request.headers)
        if tenant is not None:
            return tenant
    limiter = getattr(request.app.state, CALLER_LIMITER, None)
    return await to_thread.run_sync(_resolve_caller, session, request.headers, limiter=limiter)


Caller = Annotated[Tenant, Depends(get_caller)]


def _refuse_embed(caller: Tenant) -> Tenant:
    if caller.credential is Credential.EMBED:
        raise Forbidden(
            "An embed token only reads its own dashboards: GET /dashboards/{id} and GET /dashboards/{id}/data",
            code="embed_token_not_allowed",
        )
    return caller


async def get_tenant(caller: Caller) -> Tenant:
    """A user or an API key. Embed tokens are refused here, so every route except the dashboard reads refuses them."""
    return _refuse_embed(caller)


CurrentTenant = Annotated[Tenant, Depends(get_tenant)]


def _check_role(tenant: Tenant, needed: Role) -> Tenant:
    if not tenant.at_least(needed):
        raise Forbidden(
            f"This action requires the {needed.value} role or higher (you are {tenant.role.value})",
            code="insufficient_role",
        )
    return tenant


def require_role(minimum: Role | str, *, users_only: bool = False):
    """Dependency factory: the caller's role must be at least `minimum` (Viewer < Editor < Admin < Owner);
    users_only: a signed-in user, never an API key (members, API keys, passwords, switching orgs)."""
    needed = Role(minimum)

    # `async def`: a comparison only; as a sync dependency it would cost a threadpool hop on every request. It
    # takes the Caller and refuses embed tokens itself, as get_tenant does: one dependency less to solve.
    async def _check(caller: Caller) -> Tenant:
        tenant = _refuse_embed(caller)
        if users_only and tenant.credential is not Credential.USER:
            raise Forbidden(
                "This action needs a signed-in user: API keys cannot manage members or API keys, set passwords "
                "or switch organizations",
                code="user_required",
            )
        return _check_role(tenant, needed)

    return _check


async def require_dashboard_reader(dashboard_id: Id, caller: Caller) -> Tenant:
    """Reading one dashboard (and its data): a Viewer or higher, or an embed token that names this dashboard (any
    other answers 404, like a missing one)."""
    if caller.credential is Credential.EMBED:
        embed_service.check_dashboard(caller, dashboard_id)
        return caller
    return _check_role(caller, Role.VIEWER)


ViewerTenant = Annotated[Tenant, Depends(require_role(Role.VIEWER))]
EditorTenant = Annotated[Tenant, Depends(require_role(Role.EDITOR))]
AdminTenant = Annotated[Tenant, Depends(require_role(Role.ADMIN))]
OwnerTenant = Annotated[Tenant, Depends(require_role(Role.OWNER))]
UserTenant = Annotated[Tenant, Depends(require_role(Role.VIEWER, users_only=True))]
AdminUserTenant = Annotated[Tenant, Depends(require_role(Role.ADMIN, users_only=True))]
DashboardReader = Annotated[Tenant, Depends(require_dashboard_reader)]
