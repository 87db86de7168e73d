"""Reading the audit trail of the caller's organization (GET /audit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.core.errors import Unprocessable
from app.models import AuditEvent
from app.schemas.audit import AuditEventRead
from app.schemas.common import Page, PageParams
from app.services.pagination import fetch_page
from app.services.tenancy import Tenant, scoped_select

EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None  # exact, or a prefix when it ends with "." ("member.")
    entity_type: str | None = None
    start: date | datetime | None = None  # a date is its whole day (UTC); a naive datetime is UTC
    end: date | datetime | None = None


def _instant(value: date | datetime, *, end: bool) -> datetime:
    """The bound as an aware UTC instant: the day's first instant, or for an end date the next day's."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not EARLIEST <= value <= LATEST:
        raise Unprocessable(f"Dates must be between {EARLIEST} and {LATEST}", code="invalid_range")
    return datetime.combine(value + timedelta(days=1) if end else value, time.min, tzinfo=UTC)


def list_events(session: Session, tenant: Tenant, filters: AuditFilter, page: PageParams) -> Page[AuditEventRead]:
    """The org's events, newest first, with the total that match the filters."""
    stmt = scoped_select(tenant, AuditEvent)
    if filters.action:
        if filters.action.endswith("."):
            stmt = stmt.where(AuditEvent.action.startswith(filters.action, autoescape=True))
        else:
            stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.entity_type:
        stmt = stmt.where(AuditEvent.entity_type == filters.entity_type)
    start = _instant(filters.start, end=False) if filters.start is not None else None
    end = _instant(filters.end, end=True) if filters.end is not None else None
    # A date ends where the next day starts (exclusive); a datetime is included itself.
    end_included = isinstance(filters.end, datetime)
    if start is not None and end is not None and (start > end or (start == end and not end_included)):
        raise Unprocessable(f"'from' ({filters.start}) is after 'to' ({filters.end})", code="invalid_range")
    if start is not None:
        stmt = stmt.where(AuditEvent.created_at >= start)
    if end is not None:
        stmt = stmt.where(AuditEvent.created_at <= end if end_included else AuditEvent.created_at < end)
    return fetch_page(session, stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()), page, AuditEventRead)
