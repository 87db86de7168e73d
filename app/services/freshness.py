"""Data freshness of an organization: a version bumped on every curated-data change, as_of, and the org settings
answers depend on (time zone, fiscal year), read in one statement and remembered for the request's session."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import Organization
from app.models.base import utcnow
from app.services.tenancy import Tenant, org_data_state

_MEMO_KEY = "painel.org_state"


@dataclass(frozen=True)
class OrgState:
    """What every cached answer of the org depends on, besides the request itself."""

    org_id: int
    created_at: datetime  # with the id: an org of a recreated database never meets an old shared-cache entry
    data_version: int
    dashboards_version: int  # the dashboards' and custom indicators' definitions: in dashboard keys only
    as_of: datetime | None  # when the org's latest loaded batch finished
    timezone: str
    fiscal_year_start_month: int

    @classmethod
    def from_row(cls, org_id: int, row: Any) -> OrgState:
        return cls(
            org_id=org_id,
            created_at=row.created_at,
            data_version=row.data_version or 0,
            dashboards_version=row.dashboards_version or 0,
            as_of=row.as_of,
            timezone=row.timezone,
            fiscal_year_start_month=row.fiscal_year_start_month,
        )

    @property
    def as_of_text(self) -> str | None:
        return self.as_of.isoformat() if self.as_of else None

    def today(self) -> date:
        """Today in the org's time zone."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    def key_parts(self) -> list[Any]:
        return [
            self.org_id,
            self.created_at.isoformat(),
            self.data_version,
            self.timezone,
            self.fiscal_year_start_month,
        ]


def remember(session: Session, state: OrgState) -> None:
    """Keep the org's state for the rest of the request (read with the membership, in the same statement)."""
    session.info[_MEMO_KEY] = state


def forget(session: Session) -> None:
    """Drop the remembered state (the org's data or settings just changed)."""
    session.info.pop(_MEMO_KEY, None)


def remembered(session: Session, tenant: Tenant) -> OrgState | None:
    """The org's state if this request already read it (with the membership), else None: never a query."""
    known = session.info.get(_MEMO_KEY)
    return known if isinstance(known, OrgState) and known.org_id == tenant.org_id else None


def state(session: Session, tenant: Tenant) -> OrgState:
    """The org's state: remembered for this request, or read in one statement."""
    known = session.info.get(_MEMO_KEY)
    if isinstance(known, OrgState) and known.org_id == tenant.org_id:
        return known
    row = session.execute(org_data_state(tenant.org_id)).one()
    found = OrgState.from_row(tenant.org_id, row)
    remember(session, found)
    return found


def bump(session: Session, tenant: Tenant) -> None:
    """Record that the org's curated data changed (new batch, deleted source...)."""
    session.execute(
        update(Organization)
        .where(Organization.id == tenant.org_id)
        .values(data_version=Organization.data_version + 1, data_updated_at=utcnow())
    )
    forget(session)


def stamp(session: Session, tenant: Tenant) -> tuple[int, datetime | None]:
    """(data_version, as_of): as_of is when the org's latest loaded batch finished."""
    found = state(session, tenant)
    return found.data_version, found.as_of


def digest(*parts: Any) -> str:
    """A stable digest of JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def etag(*parts: Any) -> str:
    """A strong ETag over the given JSON-able parts."""
    return f'"{digest(*parts)}"'


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    """Whether a client's If-None-Match names this tag (or `*`): the client's copy is current."""
    if not if_none_match:
        return False
    candidates = {t.strip().removeprefix("W/") for t in if_none_match.split(",") if t.strip()}
    return tag in candidates or "*" in candidates


def data_etag(session: Session, tenant: Tenant, *parts: Any) -> tuple[str, datetime | None]:
    """(ETag, as_of): the tag changes whenever the org's curated data changes (or the request's parts do)."""
    found = state(session, tenant)
    return etag(*found.key_parts(), tenant.access_scope, *parts), found.as_of
