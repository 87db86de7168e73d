"""Ready-made indicators (custom indicators live in indicators_custom.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.routers.caching import conditional_json
from app.routers.deps import OptionalId, SessionDep, ViewerTenant
from app.schemas.common import Page
from app.schemas.indicators import IndicatorQuery, IndicatorRead
from app.services import freshness
from app.services.indicators import catalog as indicator_service
from app.services.indicators.catalog import TOP_LIMIT
from app.services.indicators.ranges import Filters, make_range

router = APIRouter(prefix="/indicators", tags=["indicators"])


def indicator_query(
    start: Annotated[date, Query(alias="from", description="First day (ISO date)", examples=["2024-01-01"])],
    end: Annotated[date, Query(alias="to", description="Last day (ISO date)", examples=["2024-12-31"])],
    data_source_id: OptionalId = None,
    category: Annotated[str | None, Query(max_length=255)] = None,
    uf: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
) -> IndicatorQuery:
    return IndicatorQuery(start=start, end=end, data_source_id=data_source_id, category=category, uf=uf)


QueryDep = Annotated[IndicatorQuery, Depends(indicator_query)]


@router.get("", response_model=Page[IndicatorRead])
def list_indicators(tenant: ViewerTenant) -> Page[IndicatorRead]:
    """The catalog: key, title, description and parameters of every ready-made indicator."""
    return indicator_service.list_indicators()


def _serve(key: str, request: Request, tenant, session, q: IndicatorQuery, options: dict | None = None):
    rng = make_range(q.start, q.end)
    filters = Filters(q.data_source_id, q.category, q.uf)
    tag, as_of = freshness.data_etag(session, tenant, "indicator", key, q.model_dump(mode="json"), options or {})
    return conditional_json(
        request, tag, lambda: indicator_service.compute(session, tenant, key, rng, filters, options, as_of=as_of)
    )


@router.get("/valor-mes-a-mes")
def valor_mes_a_mes(request: Request, tenant: ViewerTenant, session: SessionDep, q: QueryDep):
    """Value per month, zero-filled, with change_pct against the previous month."""
    return _serve("valor-mes-a-mes", request, tenant, session, q)


@router.get("/mapa-por-uf")
def mapa_por_uf(request: Request, tenant: ViewerTenant, session: SessionDep, q: QueryDep):
    """Totals for all 27 UFs (largest first) with share_pct, plus the `unassigned` total."""
    return _serve("mapa-por-uf", request, tenant, session, q)


@router.get("/kpis")
def kpis(request: Request, tenant: ViewerTenant, session: SessionDep, q: QueryDep):
    """Total, count, average and distinct categories, against the previous period."""
    return _serve("kpis", request, tenant, session, q)


@router.get("/top-categorias")
def top_categorias(
    request: Request,
    tenant: ViewerTenant,
    session: SessionDep,
    q: QueryDep,
    limit: Annotated[
        int, Query(ge=TOP_LIMIT.minimum, le=TOP_LIMIT.maximum, description=TOP_LIMIT.description)
    ] = TOP_LIMIT.default,
):
    """The top categories by value with their share."""
    return _serve("top-categorias", request, tenant, session, q, {"limit": limit})


@router.get("/acumulado-ano")
def acumulado_ano(request: Request, tenant: ViewerTenant, session: SessionDep, q: QueryDep):
    """Year-to-date running total per month."""
    return _serve("acumulado-ano", request, tenant, session, q)
