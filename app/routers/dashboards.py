"""Dashboards: CRUD, duplicate, export/import, and all widgets' data in one call."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from app.routers.caching import EXPORT_RESPONSES, ExportDep, IfNoneMatch, respond
from app.routers.deps import DashboardReader, EditorTenant, Id, Paging, SessionDep, ViewerTenant, read_only
from app.routers.indicators import FROM_EXAMPLES, TO_EXAMPLES
from app.schemas.common import Page
from app.schemas.dashboards import (
    DashboardCreate,
    DashboardDataRead,
    DashboardDocument,
    DashboardRead,
    DashboardSummaryRead,
    DashboardUpdate,
)
from app.services import dashboard_data as dashboard_data_service
from app.services import dashboards as dashboard_service

router = APIRouter(prefix="/dashboards", tags=["dashboards"])


@router.get("", response_model=Page[DashboardSummaryRead])
def list_dashboards(tenant: ViewerTenant, session: SessionDep, page: Paging) -> Page[DashboardSummaryRead]:
    """The organization's dashboards, by name."""
    return dashboard_service.list_dashboards(session, tenant, page)


@router.post("", response_model=DashboardRead, status_code=status.HTTP_201_CREATED)
def create_dashboard(body: DashboardCreate, tenant: EditorTenant, session: SessionDep):
    return dashboard_service.create_dashboard(session, tenant, body)


@router.post("/import", response_model=DashboardRead, status_code=status.HTTP_201_CREATED)
def import_dashboard(document: DashboardDocument, tenant: EditorTenant, session: SessionDep):
    """Create a dashboard from the document GET /dashboards/{id}/export produced. Custom indicators travel by
    definition: one of the same name here is used, else it is created (Admin only)."""
    return dashboard_service.import_dashboard(session, tenant, document)


@router.get("/{dashboard_id}", response_model=DashboardRead)
def get_dashboard(dashboard_id: Id, tenant: DashboardReader, session: SessionDep):
    """One dashboard with its widgets (also with an embed token that names it)."""
    return dashboard_service.get_dashboard(session, tenant, dashboard_id)


@router.patch("/{dashboard_id}", response_model=DashboardRead)
def update_dashboard(dashboard_id: Id, body: DashboardUpdate, tenant: EditorTenant, session: SessionDep):
    return dashboard_service.update_dashboard(session, tenant, dashboard_id, body)


@router.delete("/{dashboard_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dashboard(dashboard_id: Id, tenant: EditorTenant, session: SessionDep) -> None:
    dashboard_service.delete_dashboard(session, tenant, dashboard_id)


@router.post("/{dashboard_id}/duplicate", response_model=DashboardRead, status_code=status.HTTP_201_CREATED)
def duplicate_dashboard(dashboard_id: Id, tenant: EditorTenant, session: SessionDep):
    return dashboard_service.duplicate_dashboard(session, tenant, dashboard_id)


@router.get("/{dashboard_id}/export", response_model=DashboardDocument)
def export_dashboard(dashboard_id: Id, tenant: ViewerTenant, session: SessionDep):
    """The dashboard as a portable JSON document (custom indicators included)."""
    return dashboard_service.export_dashboard(session, tenant, dashboard_id)


@router.get("/{dashboard_id}/data", response_model=DashboardDataRead, responses=EXPORT_RESPONSES)
@read_only
async def dashboard_data(
    dashboard_id: Id,
    tenant: DashboardReader,
    session: SessionDep,
    export: ExportDep,
    if_none_match: IfNoneMatch,
    start: Annotated[date | None, Query(alias="from", openapi_examples=FROM_EXAMPLES)] = None,
    end: Annotated[date | None, Query(alias="to", openapi_examples=TO_EXAMPLES)] = None,
) -> Response:
    """Every widget's data in one call (default range: the last 12 months of data). As a file: XLSX with one sheet
    per widget, or one CSV with a section per widget (its title line, header and rows, then a blank line). With an
    embed token, its locked filters apply and its range bounds `from`/`to`."""
    # `async def` as the indicators: a cached answer is served from the event loop, anything else in a worker thread.
    served = dashboard_data_service.cached_dashboard_data(
        session, tenant, dashboard_id, start, end, export, if_none_match
    )
    if served is None:
        served = await run_in_threadpool(
            dashboard_data_service.serve_dashboard_data,
            session,
            tenant,
            dashboard_id,
            start,
            end,
            export,
            if_none_match,
        )
    return respond(served)
