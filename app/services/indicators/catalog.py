"""The catalog of ready-made indicators and the one entry point that computes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.core.errors import NotFound, Unprocessable
from app.services import freshness
from app.services.indicators import builtin
from app.services.indicators.ranges import DateRange, Filters
from app.services.tenancy import Tenant

COMMON_PARAMETERS = [
    {"name": "from", "type": "date", "required": True, "description": "First day of the range (ISO date)"},
    {"name": "to", "type": "date", "required": True, "description": "Last day of the range (ISO date)"},
    {"name": "data_source_id", "type": "integer", "required": False, "description": "Only this source's data"},
    {"name": "category", "type": "string", "required": False, "description": "Only this category"},
    {"name": "uf", "type": "string", "required": False, "description": "Only this state (2-letter UF)"},
]


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    description: str
    compute: Callable[..., dict]
    extra_parameters: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "parameters": COMMON_PARAMETERS + self.extra_parameters,
        }


CATALOG: dict[str, Indicator] = {
    i.key: i
    for i in [
        Indicator(
            "valor-mes-a-mes",
            "Valor mês a mês",
            "Total value per month, every month of the range zero-filled, "
            "with the percent change against the previous month.",
            builtin.valor_mes_a_mes,
        ),
        Indicator(
            "mapa-por-uf",
            "Mapa por UF",
            "Total value per Brazilian state (all 27, zero-filled, largest first) "
            "with each state's share; facts without a state are reported as `unassigned`.",
            builtin.mapa_por_uf,
        ),
        Indicator(
            "kpis",
            "KPIs",
            "Total value, row count, average value and distinct categories for the range and "
            "for the previous period of the same length, with the percent change.",
            builtin.kpis,
        ),
        Indicator(
            "top-categorias",
            "Top categorias",
            "The categories with the largest totals and their share.",
            builtin.top_categorias,
            [{"name": "limit", "type": "integer", "required": False, "description": "How many (1-100, default 10)"}],
        ),
        Indicator(
            "acumulado-ano",
            "Acumulado no ano",
            "Year-to-date running total at each month of the range.",
            builtin.acumulado_ano,
        ),
    ]
}


def catalog() -> list[dict[str, Any]]:
    """Every ready-made indicator with its parameters."""
    return [indicator.describe() for indicator in CATALOG.values()]


def get_indicator(key: str) -> Indicator:
    try:
        return CATALOG[key]
    except KeyError:
        raise NotFound(f"Unknown indicator '{key}'. Known: {', '.join(CATALOG)}", code="unknown_indicator") from None


def extra_options(key: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validated indicator-specific options (e.g. top-categorias' limit)."""
    if key == "top-categorias" and params.get("limit") is not None:
        try:
            limit = int(params["limit"])
        except (TypeError, ValueError):
            raise Unprocessable("limit must be an integer", code="invalid_parameter") from None
        if not 1 <= limit <= 100:
            raise Unprocessable("limit must be between 1 and 100", code="invalid_parameter")
        return {"limit": limit}
    return {}


def compute(
    session: Session,
    tenant: Tenant,
    key: str,
    rng: DateRange,
    filters: Filters,
    options: dict[str, Any] | None = None,
    *,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """One indicator's response body: its data plus key, range and as_of (looked up unless given)."""
    indicator = get_indicator(key)
    if as_of is None:
        _, as_of = freshness.stamp(session, tenant)
    data = indicator.compute(session, tenant, rng, filters, **extra_options(key, options or {}))
    return {
        "indicator": key,
        "from": rng.start.isoformat(),
        "to": rng.end.isoformat(),
        "as_of": as_of.isoformat() if as_of else None,
        **data,
    }
