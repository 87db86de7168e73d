"""Custom indicators: an Admin's saved SELECT over `facts` with typed binds; Viewers run them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.routers.caching import EXPORT_RESPONSES, ExportDep, IfNoneMatch, respond
from app.routers.deps import AdminTenant, Id, Paging, SessionDep, ViewerTenant
from app.schemas.common import Page
from app.schemas.indicators_custom import (
    CustomIndicatorCreate,
    CustomIndicatorRead,
    CustomIndicatorUpdate,
    CustomRunRead,
)
from app.services.indicators import custom as custom_service

router = APIRouter(prefix="/indicators/custom", tags=["custom indicators"])


@router.get("", response_model=Page[CustomIndicatorRead])
def list_custom_indicators(tenant: ViewerTenant, session: SessionDep, page: Paging) -> Page[CustomIndicatorRead]:
    """The organization's custom indicators, by name."""
    return custom_service.list_custom_indicators(session, tenant, page)


@router.post("", response_model=CustomIndicatorRead, status_code=status.HTTP_201_CREATED)
def create_custom_indicator(body: CustomIndicatorCreate, tenant: AdminTenant, session: SessionDep):
    """Save a SELECT over `facts` (columns: date, value, uf, category, attributes, data_source_id, batch_id);
    user values only as declared named binds (:name)."""
    return custom_service.create_custom_indicator(session, tenant, body)


@router.get("/{indicator_id}", response_model=CustomIndicatorRead)
def get_custom_indicator(indicator_id: Id, tenant: ViewerTenant, session: SessionDep):
    return custom_service.get_custom_indicator(session, tenant, indicator_id)


@router.patch("/{indicator_id}", response_model=CustomIndicatorRead)
def update_custom_indicator(indicator_id: Id, body: CustomIndicatorUpdate, tenant: AdminTenant, session: SessionDep):
    return custom_service.update_custom_indicator(session, tenant, indicator_id, body)


@router.delete("/{indicator_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_custom_indicator(indicator_id: Id, tenant: AdminTenant, session: SessionDep) -> None:
    custom_service.delete_custom_indicator(session, tenant, indicator_id)


@router.get("/{indicator_id}/run", response_model=CustomRunRead, responses=EXPORT_RESPONSES)
def run_custom_indicator(
    indicator_id: Id,
    request: Request,
    tenant: ViewerTenant,
    session: SessionDep,
    export: ExportDep,
    if_none_match: IfNoneMatch,
) -> Response:
    """Run it with its parameters as query parameters (?uf=SP&start=2024-01-01); `format` and `locale` are the
    export's (csv or xlsx), never the query's."""
    params = dict(request.query_params)
    return respond(custom_service.serve_custom_run(session, tenant, indicator_id, params, export, if_none_match))
