"""The only place that builds organization filters for tenant tables.

Every query on a tenant table starts here (tests/test_tenancy_scan.py scans the code for any that does not). The
deliberate exceptions:
- named helpers in the last section of this module: reads that happen before a tenant exists (sign-in looks up the
  user's memberships; a request that presents an API key reads that key's row, api_key_of_org) and the scheduler's
  cross-org work (across_orgs);
- custom SQL, scoped by the database: a view of the caller's rows under a reader role on Postgres, a CTE of them on
  SQLite (services/indicators/custom_query.py);
- COPY into a transaction's temporary table before INSERT ... SELECT (services/ingest/staging.py), rows that carry
  the batch's org and pass row-level security;
- the audit recorder, which reads exactly the rows a statement touches with that statement's own WHERE clause
  (services/audit/recorder.py);
- the org's data state (org_data_state), read with the membership in one statement while the tenant is resolved."""

from __future__ import annotations

import enum
import hashlib
import json
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Delete, Row, Select, Update, and_, bindparam, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.core.async_db import AsyncStatementPool
from app.core.db import bind_org, set_all_orgs
from app.core.errors import NotFound
from app.models import ApiKey, BatchStatus, IngestionBatch, Membership, Organization, Role
from app.models.base import TenantTable

M = TypeVar("M", bound=TenantTable)


class Credential(str, enum.Enum):
    """What proved the caller's identity."""

    USER = "user"  # a user's access token
    API_KEY = "api_key"  # an org API key (machine access, with the key's role)
    EMBED = "embed"  # a signed embed token: read-only, some dashboards, locked filters
    JOB = "job"  # scheduled or scripted work acting for the org


@dataclass(frozen=True)
class EmbedScope:
    """What an embed token may read: these dashboards only, with these filters locked (None: not locked)."""

    dashboard_ids: frozenset[int]
    uf: str | None = None
    category: str | None = None
    data_source_id: int | None = None
    start: date | None = None
    end: date | None = None
    issued_at: datetime | None = None  # when the token was minted (not part of the key: the same scope, same data)

    def key(self) -> str:
        """A stable digest of the scope, to keep cached answers of different scopes apart."""
        parts = [sorted(self.dashboard_ids), self.uf, self.category, self.data_source_id, self.start, self.end]
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Tenant:
    """Who is calling: the verified org, the user, the role looked up for this request, and how they proved it."""

    org_id: int
    user_id: int | None  # None for scheduled work, API keys and embed tokens
    role: Role
    credential: Credential = Credential.USER
    embed: EmbedScope | None = None
    api_key_id: int | None = None  # the key that proved it (Credential.API_KEY), for the audit trail

    def at_least(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    @property
    def access_scope(self) -> str:
        """The partition a cached answer may be shared in: every member of the org sees the same data (whatever
        the role); an embed token sees only its own scope."""
        return f"embed:{self.embed.key()}" if self.embed is not None else "org"


def _require_org(tenant: Tenant) -> int:
    # A missing or falsy org never means "all orgs".
    if not tenant or not tenant.org_id:
        raise RuntimeError("tenant-scoped query without an organization")
    return tenant.org_id


def scoped_select(tenant: Tenant, model: type[M], *columns: Any) -> Select:
    """SELECT from a tenant table, filtered to the caller's organization."""
    org_id = _require_org(tenant)
    stmt = select(*columns) if columns else select(model)
    return stmt.where(model.organization_id == org_id)


def get_scoped(session: Session, tenant: Tenant, model: type[M], obj_id: Any, *, lock: bool = False) -> M | None:
    """One row of the caller's organization, or None (another org's row is invisible); lock: FOR UPDATE."""
    stmt = scoped_select(tenant, model).where(model.id == obj_id)
    return session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()


def get_scoped_or_404(
    session: Session, tenant: Tenant, model: type[M], obj_id: Any, what: str, *, lock: bool = False
) -> M:
    """One row of the caller's organization, or 404 (never 403: the row is not theirs to know)."""
    obj = get_scoped(session, tenant, model, obj_id, lock=lock)
    if obj is None:
        raise NotFound(f"{what} {obj_id} not found")
    return obj


def scoped_update(tenant: Tenant, model: type[M]) -> Update:
    """UPDATE of a tenant table, limited to the caller's organization."""
    return update(model).where(model.organization_id == _require_org(tenant))


def scoped_delete(tenant: Tenant, model: type[M]) -> Delete:
    """DELETE from a tenant table, limited to the caller's organization."""
    return delete(model).where(model.organization_id == _require_org(tenant))


# --- Named exceptions: queries that cannot start from a tenant -----------------------------------------------


@contextmanager
def across_orgs(session: Session) -> Iterator[Session]:
    """The one exception to tenant isolation, for jobs that must read or maintain every org's rows (the
    scheduler): inside the block, row-level security lets this session's transactions reach every org (on
    Postgres, app.all_orgs = 'on'). Never used on a request's session; not re-entrant."""
    set_all_orgs(session, True)
    try:
        yield session
    except BaseException:
        with suppress(SQLAlchemyError):  # an aborted transaction is about to be rolled back anyway
            set_all_orgs(session, False)
        raise
    set_all_orgs(session, False)


def unscoped_select_across_orgs(model: type[M]) -> Select:
    """Explicitly unscoped SELECT (no org filter), for jobs; on Postgres it reaches other orgs only inside
    across_orgs(), and only the bound org's rows elsewhere."""
    return select(model)


def unscoped_update_across_orgs(model: type[M]) -> Update:
    """Explicitly unscoped UPDATE, for jobs that maintain rows of every organization (inside across_orgs())."""
    return update(model)


def membership_in_org(session: Session, user_id: int, org_id: int) -> Membership | None:
    """A user's membership in one org, read while signing in (before a Tenant exists)."""
    stmt = select(Membership).where(Membership.user_id == user_id, Membership.organization_id == org_id)
    return session.scalars(stmt).one_or_none()


def api_key_of_org(session: Session, org_id: int, public_id: str) -> ApiKey | None:
    """The API key with this public id in this org, read before a Tenant exists (the key is what proves one).

    The org comes from the key itself (pnl_live_<org>_<public id>_<secret>), so the lookup binds it first: on
    Postgres the session is bound to that org and row-level security lets only its rows through, with no
    SECURITY DEFINER function and no cross-org read. A forged org finds nothing, and the secret is then checked
    against the stored digest by the caller (app.services.api_keys.resolve_api_key)."""
    bind_org(session, org_id)
    stmt = select(ApiKey).where(ApiKey.organization_id == org_id, ApiKey.public_id == public_id)
    return session.scalars(stmt).one_or_none()


def memberships_of_user(user_id: int, *columns: Any) -> Select[Any]:
    """A user's memberships in every org (sign-in, /auth/me, switch-org): the user's own rows, which row-level
    security also lets through for the bound user."""
    stmt = select(*columns) if columns else select(Membership)
    return stmt.where(Membership.user_id == user_id)


def org_data_state(org_id: Any) -> Select:
    """The org's data version, settings and as_of (when its latest loaded batch finished) in one statement; the org
    is the token's, and the batches are filtered to it (row-level security agrees)."""
    as_of = (
        select(func.max(IngestionBatch.finished_at))
        .where(IngestionBatch.organization_id == org_id, IngestionBatch.status == BatchStatus.LOADED)
        .scalar_subquery()
    )
    return select(
        Organization.created_at,
        Organization.data_version,
        Organization.dashboards_version,
        Organization.timezone,
        Organization.fiscal_year_start_month,
        as_of.label("as_of"),
    ).where(Organization.id == org_id)


def membership_and_org_state(user_id: Any, org_id: Any) -> Select:
    """org_data_state plus the user's role in the org (no row when not a member): resolving a request's tenant and
    its data state is one round trip."""
    return (
        org_data_state(org_id)
        .add_columns(Membership.role)
        .join(Membership, and_(Membership.organization_id == Organization.id, Membership.user_id == user_id))
    )


# Built once: every request with a user token runs it, and building an ORM select() and executing it through the
# ORM cost ~0.7 ms of CPU more than running this prebuilt Core statement (compiled once, cached by SQLAlchemy).
_CALLER_STATE = membership_and_org_state(bindparam("user_id"), bindparam("org_id"))


def caller_state(session: Session, user_id: int, org_id: int) -> Row[Any] | None:
    """The user's role in the org with the org's data state (membership_and_org_state), or None when the user is
    not a member: read on every request, on the session's connection (its transaction carries the tenant settings,
    so row-level security applies as to any other statement)."""
    return session.connection().execute(_CALLER_STATE, {"user_id": user_id, "org_id": org_id}).one_or_none()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    constants: dict[str, Any]
    row: Any  # a named tuple of the statement's columns
    processors: list[Any]


@lru_cache
def _compiled_caller_state(dialect: Any) -> _Compiled:
    """The caller statement as this dialect's SQL text, with its constants and its columns' result processors: the
    very statement caller_state runs, for a connection outside SQLAlchemy."""
    compiled = _CALLER_STATE.compile(dialect=dialect)
    columns = list(_CALLER_STATE.selected_columns)
    return _Compiled(
        sql=str(compiled),
        constants={
            name: _bound(compiled.binds[name].type.bind_processor(dialect), value)
            for name, value in compiled.params.items()
            if name not in ("user_id", "org_id")
        },
        row=namedtuple("CallerState", [column.key for column in columns]),  # type: ignore[misc]  # names known here
        processors=[column.type.result_processor(dialect, None) for column in columns],
    )


def _bound(processor: Any, value: Any) -> Any:
    return processor(value) if processor is not None else value


async def caller_state_async(pool: AsyncStatementPool, dialect: Any, settings: list[str], user_id: int, org_id: int):
    """caller_state on the event loop (app.core.async_db), after the session's tenant `settings`: a row with the
    same attributes and values, or None."""
    statement = _compiled_caller_state(dialect)
    raw = await pool.fetch_one(settings, statement.sql, {**statement.constants, "user_id": user_id, "org_id": org_id})
    if raw is None:
        return None
    return statement.row(*(_bound(p, v) for p, v in zip(statement.processors, raw, strict=True)))
