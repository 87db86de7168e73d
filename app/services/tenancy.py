"""The only place that builds organization filters for tenant tables.

Every query on a tenant table starts here (tests/test_tenancy_scan.py scans the code for any that does not). The
deliberate exceptions:
- named helpers in the last section of this module: reads that happen before a tenant exists (sign-in looks up the
  user's memberships) and the scheduler's cross-org work (across_orgs);
- custom SQL, scoped by the database: a view of the caller's rows under a reader role on Postgres, a CTE of them on
  SQLite (services/indicators/custom_query.py);
- COPY into a transaction's temporary table before INSERT ... SELECT (services/ingest/staging.py), rows that carry
  the batch's org and pass row-level security;
- the audit recorder, which reads exactly the rows a statement touches with that statement's own WHERE clause
  (services/audit/recorder.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Delete, Select, Update, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.core.db import set_all_orgs
from app.core.errors import NotFound
from app.models import Membership, Role
from app.models.base import TenantTable

M = TypeVar("M", bound=TenantTable)


@dataclass(frozen=True)
class Tenant:
    """Who is calling: the verified org, the user, and the role looked up for this request."""

    org_id: int
    user_id: int | None  # None for scheduled work acting for the org
    role: Role

    def at_least(self, role: Role) -> bool:
        return self.role.rank >= role.rank


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


def memberships_of_user(user_id: int, *columns: Any) -> Select[Any]:
    """A user's memberships in every org (sign-in, /auth/me, switch-org): the user's own rows, which row-level
    security also lets through for the bound user."""
    stmt = select(*columns) if columns else select(Membership)
    return stmt.where(Membership.user_id == user_id)
