"""The organization's audit trail (Admin and Owner)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.routers.deps import AdminTenant, Paging, SessionDep
from app.schemas.audit import AuditEventRead, DateOrDateTime
from app.schemas.common import Page
from app.services import audit as audit_service

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=Page[AuditEventRead])
def list_audit_events(
    tenant: AdminTenant,
    session: SessionDep,
    page: Paging,
    action: Annotated[str | None, Query(max_length=64, description="exact, or a prefix ending in '.'")] = None,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    from_: Annotated[DateOrDateTime | None, Query(alias="from")] = None,
    to: Annotated[DateOrDateTime | None, Query(description="a date includes its whole day (UTC)")] = None,
) -> Page[AuditEventRead]:
    """Writes in the organization, newest first: who, what, on which entity, when, from which request."""
    filters = audit_service.AuditFilter(action=action, entity_type=entity_type, start=from_, end=to)
    return audit_service.list_events(session, tenant, filters, page)
