"""Ready-made indicators (custom indicators live in indicators_custom.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.routers.caching import EXPORT_RESPONSES, ExportDep, IfNoneMatch, respond
from app.routers.deps import OptionalId, SessionDep, ViewerTenant, read_only
from app.schemas.common import Page
from app.schemas.indicators import (
    DimensionsQuery,
    DimensionsRead,
    Grain,
    IndicatorQuery,
    IndicatorRead,
    KpisRead,
    MonthlyValuesRead,
    TimeSeriesRead,
    TopCategoriesRead,
    UfMapRead,
    YearToDateRead,
)
from app.services.exports import ExportOptions
from app.services.indicators import catalog as indicator_service
from app.services.indicators import serving as indicator_serving
from app.services.indicators.catalog import GRAIN, TOP_LIMIT
from app.services.tenancy import Tenant

router = APIRouter(prefix="/indicators", tags=["indicators"])

# Inside the demo data (November 2024 to October 2026), so "Try it out" in /docs answers numbers.
FROM_EXAMPLE, TO_EXAMPLE = "2025-01-01", "2025-12-31"
FROM_EXAMPLES = {"demo": {"summary": "2025 (demo data)", "value": FROM_EXAMPLE}}
TO_EXAMPLES = {"demo": {"summary": "2025 (demo data)", "value": TO_EXAMPLE}}
SourceFilter = OptionalId
CategoryFilter = Annotated[
    str | None, Query(max_length=255, description="Case and accents ignored", examples=["eletronicos"])
]
UfFilter = Annotated[str | None, Query(max_length=40, description="UF code or state name, any case", examples=["SP"])]


async def indicator_query(
    start: Annotated[date, Query(alias="from", description="First day (ISO date)", openapi_examples=FROM_EXAMPLES)],
    end: Annotated[date, Query(alias="to", description="Last day (ISO date)", openapi_examples=TO_EXAMPLES)],
    data_source_id: SourceFilter = None,
    category: CategoryFilter = None,
    uf: UfFilter = None,
) -> IndicatorQuery:
    return IndicatorQuery(start=start, end=end, data_source_id=data_source_id, category=category, uf=uf)


async def dimensions_query(
    start: Annotated[date | None, Query(alias="from", description="First day", openapi_examples=FROM_EXAMPLES)] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day", openapi_examples=TO_EXAMPLES)] = None,
    data_source_id: SourceFilter = None,
    category: CategoryFilter = None,
    uf: UfFilter = None,
) -> DimensionsQuery:
    return DimensionsQuery(start=start, end=end, data_source_id=data_source_id, category=category, uf=uf)


# The query dependencies are `async def` on purpose: they only parse, and a sync dependency costs a threadpool hop.
QueryDep = Annotated[IndicatorQuery, Depends(indicator_query)]


async def _serve(
    session: Session,
    tenant: Tenant,
    key: str,
    q: IndicatorQuery,
    options: dict[str, Any] | None,
    export: ExportOptions | None,
    if_none_match: str | None,
) -> Response:
    """A cached answer straight from the event loop (it takes no I/O); anything else in a worker thread. The
    indicator routes are `async def` for this: a cache hit then costs no threadpool hop of its own."""
    served = indicator_serving.cached_indicator(session, tenant, key, q, options, export, if_none_match)
    if served is None:
        served = await run_in_threadpool(
            indicator_serving.serve_indicator, session, tenant, key, q, options, export, if_none_match
        )
    return respond(served)


@router.get("", response_model=Page[IndicatorRead])
def list_indicators(tenant: ViewerTenant) -> Page[IndicatorRead]:
    """The catalog: key, title, description and parameters of every ready-made indicator."""
    return indicator_service.list_indicators()


@router.get("/dimensions", response_model=DimensionsRead, responses=EXPORT_RESPONSES)
@read_only
def dimensions(
    tenant: ViewerTenant,
    session: SessionDep,
    q: Annotated[DimensionsQuery, Depends(dimensions_query)],
    export: ExportDep,
    if_none_match: IfNoneMatch,
) -> Response:
    """The categories (with row counts), UFs and data sources with data, and the first and last dates: what a UI
    needs to build its filters. The same optional range and filters as the indicators."""
    return respond(indicator_serving.serve_dimensions(session, tenant, q, export, if_none_match))


@router.get("/valor-mes-a-mes", response_model=MonthlyValuesRead, responses=EXPORT_RESPONSES)
@read_only
async def valor_mes_a_mes(
    tenant: ViewerTenant, session: SessionDep, q: QueryDep, export: ExportDep, if_none_match: IfNoneMatch
) -> Response:
    """Value per month, zero-filled, with change_pct against the previous month."""
    return await _serve(session, tenant, "valor-mes-a-mes", q, None, export, if_none_match)


@router.get("/mapa-por-uf", response_model=UfMapRead, responses=EXPORT_RESPONSES)
@read_only
async def mapa_por_uf(
    tenant: ViewerTenant, session: SessionDep, q: QueryDep, export: ExportDep, if_none_match: IfNoneMatch
) -> Response:
    """Totals for all 27 UFs (largest first) with share_pct, plus the `unassigned` total."""
    return await _serve(session, tenant, "mapa-por-uf", q, None, export, if_none_match)


@router.get("/kpis", response_model=KpisRead, responses=EXPORT_RESPONSES)
@read_only
async def kpis(
    tenant: ViewerTenant, session: SessionDep, q: QueryDep, export: ExportDep, if_none_match: IfNoneMatch
) -> Response:
    """Total, count, average and distinct categories, against the previous period."""
    return await _serve(session, tenant, "kpis", q, None, export, if_none_match)


@router.get("/top-categorias", response_model=TopCategoriesRead, responses=EXPORT_RESPONSES)
@read_only
async def top_categorias(
    tenant: ViewerTenant,
    session: SessionDep,
    q: QueryDep,
    export: ExportDep,
    if_none_match: IfNoneMatch,
    limit: Annotated[
        int, Query(ge=TOP_LIMIT.minimum, le=TOP_LIMIT.maximum, description=TOP_LIMIT.description)
    ] = TOP_LIMIT.default,
) -> Response:
    """The top categories by value with their share."""
    options = {"limit": limit}
    return await _serve(session, tenant, "top-categorias", q, options, export, if_none_match)


@router.get("/acumulado-ano", response_model=YearToDateRead, responses=EXPORT_RESPONSES)
@read_only
async def acumulado_ano(
    tenant: ViewerTenant, session: SessionDep, q: QueryDep, export: ExportDep, if_none_match: IfNoneMatch
) -> Response:
    """Running total per month since the start of each fiscal year (the org's fiscal_year_start_month)."""
    return await _serve(session, tenant, "acumulado-ano", q, None, export, if_none_match)


@router.get("/serie-temporal", response_model=TimeSeriesRead, responses=EXPORT_RESPONSES)
@read_only
async def serie_temporal(
    tenant: ViewerTenant,
    session: SessionDep,
    q: QueryDep,
    export: ExportDep,
    if_none_match: IfNoneMatch,
    grain: Annotated[Grain, Query(description=GRAIN.description)] = "month",
) -> Response:
    """Value and row count per day, ISO week (`2025-W03`, from Monday), month, quarter or year, zero-filled."""
    options = {"grain": grain}
    return await _serve(session, tenant, "serie-temporal", q, options, export, if_none_match)
