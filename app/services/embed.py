"""Embed tokens: minting them, revoking them all, turning one into a tenant, and applying its locked filters.

Semantics of the locked filters (the dashboards service applies them to every widget of an embedded dashboard):
- `uf`, `category`, `data_source_id`: replace whatever a widget's params say;
- `from`/`to`: a request's range is clamped inside the locked range; a request without a range, or whose range
  lies wholly outside the locked one, gets the locked range (the answer's `from`/`to` always say what was used);
- custom SQL widgets run only when the indicator declares a parameter for each locked filter (`uf`, `category`,
  `data_source_id`; for a locked range one of `from`/`start` and one of `to`/`end`), bound to the locked value;
  otherwise that widget reports the error `embed_filter_unsupported` (its query could read outside the lock).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import bind_org
from app.core.errors import Forbidden, NotFound, Unauthorized, Unprocessable
from app.core.security import (
    EmbedClaims,
    TokenError,
    decode_embed_token,
    embed_token_org,
    sign_embed_token,
)
from app.models import ApiKey, Dashboard, DataSource, Organization, Role
from app.schemas.embed import EmbedFilters, EmbedTokenRead, EmbedTokenRequest
from app.services.indicators.ranges import DateRange, Filters, make_range
from app.services.tenancy import (
    Credential,
    EmbedScope,
    Tenant,
    get_scoped,
    get_scoped_or_404,
    membership_in_org,
)

# Who may mint embed tokens, and whose continued access keeps a token valid.
MINTING_ROLE = Role.EDITOR


def _creator(tenant: Tenant) -> str:
    if tenant.credential is Credential.API_KEY and tenant.api_key_id is not None:
        return f"api_key:{tenant.api_key_id}"
    if tenant.credential is Credential.USER and tenant.user_id is not None:
        return f"user:{tenant.user_id}"
    raise Forbidden("Only a signed-in user or an API key can create embed tokens", code="embed_token_not_allowed")


def _salt(session: Session, org_id: int) -> str | None:
    return session.scalar(select(Organization.embed_token_salt).where(Organization.id == org_id))


def create_embed_token(session: Session, tenant: Tenant, body: EmbedTokenRequest) -> EmbedTokenRead:
    """A signed token that reads these dashboards (checked through tenancy) with these filters locked."""
    for dashboard_id in body.dashboard_ids:
        get_scoped_or_404(session, tenant, Dashboard, dashboard_id, "Dashboard")  # another org's: like a missing one
    filters = body.filters
    if filters.data_source_id is not None and get_scoped(session, tenant, DataSource, filters.data_source_id) is None:
        raise Unprocessable(f"filters: unknown data source {filters.data_source_id}", code="unknown_data_source")
    if filters.start is not None and filters.end is not None:
        make_range(filters.start, filters.end)  # the same bounds as any indicator range
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=body.expires_in)
    claims = EmbedClaims(
        org_id=tenant.org_id,
        dashboard_ids=tuple(body.dashboard_ids),
        filters=filters.model_dump(mode="json", by_alias=True, exclude_none=True),
        creator=_creator(tenant),
        expires_at=expires_at,
    )
    return EmbedTokenRead(token=sign_embed_token(claims, _salt(session, tenant.org_id)), expires_at=expires_at)


def revoke_all_embed_tokens(session: Session, tenant: Tenant) -> None:
    """Invalidate every embed token of the org at once: a new salt for the key that signs them."""
    org = session.scalars(select(Organization).where(Organization.id == tenant.org_id)).one()
    org.embed_token_salt = secrets.token_hex(16)
    session.flush()


def _refused(detail: str) -> Unauthorized:
    return Unauthorized(detail, code="invalid_token")


def _scope(claims: EmbedClaims) -> EmbedScope:
    try:
        filters = EmbedFilters.model_validate(claims.filters)
    except ValueError:
        raise _refused("Invalid embed token claims") from None
    return EmbedScope(
        dashboard_ids=frozenset(claims.dashboard_ids),
        uf=filters.uf,
        category=filters.category,
        data_source_id=filters.data_source_id,
        start=filters.start,
        end=filters.end,
        issued_at=claims.issued_at,
    )


def _creator_still_has_access(session: Session, tenant: Tenant, creator: str) -> bool:
    kind, _, raw_id = creator.partition(":")
    if not raw_id.isdigit():
        return False
    if kind == "user":
        membership = membership_in_org(session, int(raw_id), tenant.org_id)
        return membership is not None and membership.role.rank >= MINTING_ROLE.rank
    if kind == "api_key":
        key = get_scoped(session, tenant, ApiKey, int(raw_id))
        usable = key is not None and (key.expires_at is None or key.expires_at > datetime.now(UTC))
        return usable and key is not None and key.role.rank >= MINTING_ROLE.rank
    return False


def resolve_embed_token(session: Session, token: str) -> Tenant:
    """The read-only tenant an embed token acts as, or 401 (expired, revoked, or its creator lost access)."""
    try:
        org_id = embed_token_org(token)
        bind_org(session, org_id)
        claims = decode_embed_token(token, _salt(session, org_id))
    except TokenError as exc:
        raise _refused(str(exc)) from exc
    tenant = Tenant(
        org_id=claims.org_id, user_id=None, role=Role.VIEWER, credential=Credential.EMBED, embed=_scope(claims)
    )
    if not _creator_still_has_access(session, tenant, claims.creator):
        raise _refused("The embed token is no longer valid: whoever created it no longer has Editor access")
    return tenant


# --- Applying a token's scope (called by the dashboards service) --------------------------------------------


def check_dashboard(tenant: Tenant, dashboard_id: int, created_at: datetime | None = None) -> None:
    """An embed token reads only its own dashboards: any other answers like a missing one. With the row's
    created_at: a dashboard newer than the token is not the one it named (SQLite may reuse a deleted row's id)."""
    scope = tenant.embed
    if scope is None:
        return
    newer = (
        created_at is not None and scope.issued_at is not None and created_at.replace(microsecond=0) > scope.issued_at
    )
    if dashboard_id not in scope.dashboard_ids or newer:
        raise NotFound(f"Dashboard {dashboard_id} not found")


def locked_filters(scope: EmbedScope | None, filters: Filters) -> Filters:
    """A widget's filters with the locked ones put over them."""
    if scope is None:
        return filters
    return Filters(
        data_source_id=scope.data_source_id if scope.data_source_id is not None else filters.data_source_id,
        category=scope.category if scope.category is not None else filters.category,
        uf=scope.uf if scope.uf is not None else filters.uf,
    )


def locked_range(scope: EmbedScope | None, rng: DateRange, *, asked: bool) -> DateRange:
    """The range to show: the request's, clamped inside the locked range; the locked range itself when the request
    gave none or asked wholly outside it."""
    if scope is None or scope.start is None or scope.end is None:
        return rng
    locked = DateRange(scope.start, scope.end)
    if not asked:
        return locked
    start, end = max(rng.start, locked.start), min(rng.end, locked.end)
    return DateRange(start, end) if start <= end else locked


def locked_custom_params(
    scope: EmbedScope | None, declared: set[str], params: dict[str, Any], rng: DateRange
) -> dict[str, Any]:
    """A custom widget's parameters with the locked filters bound over them; refuses (per widget) an indicator that
    declares no parameter for a locked filter, since its query could then read outside the lock."""
    if scope is None:
        return params
    locked: dict[str, Any] = {
        name: value
        for name, value in (("uf", scope.uf), ("category", scope.category), ("data_source_id", scope.data_source_id))
        if value is not None
    }
    missing = sorted(name for name in locked if name not in declared)
    if scope.start is not None:
        if not declared & {"from", "start"} or not declared & {"to", "end"}:
            missing.append("from/to")
        locked.update({"from": rng.start, "start": rng.start, "to": rng.end, "end": rng.end})
    if missing:
        raise Forbidden(
            "This custom indicator cannot be shown under the embed token's locked filters: it declares no "
            f"parameter for {', '.join(missing)}",
            code="embed_filter_unsupported",
        )
    return {**params, **locked}
