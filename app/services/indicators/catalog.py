"""The catalog of ready-made indicators and the one entry point that computes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.core.errors import NotFound, Unprocessable
from app.schemas.common import Page
from app.schemas.indicators import IndicatorParameterRead, IndicatorRead
from app.services import freshness
from app.services.indicators import builtin
from app.services.indicators.ranges import DateRange, Filters
from app.services.tenancy import Tenant

COMMON_PARAMETERS = [
    IndicatorParameterRead(name="from", type="date", required=True, description="First day of the range (ISO date)"),
    IndicatorParameterRead(name="to", type="date", required=True, description="Last day of the range (ISO date)"),
    IndicatorParameterRead(
        name="data_source_id", type="integer", required=False, description="Only this source's data"
    ),
    IndicatorParameterRead(name="category", type="string", required=False, description="Only this category"),
    IndicatorParameterRead(name="uf", type="string", required=False, description="Only this state (2-letter UF)"),
]


@dataclass(frozen=True)
class IntegerOption:
    """An indicator-specific integer parameter: the one place that says its name, bounds and default."""

    name: str
    default: int
    minimum: int
    maximum: int
    description: str

    def describe(self) -> IndicatorParameterRead:
        text = f"{self.description} ({self.minimum}-{self.maximum}, default {self.default})"
        return IndicatorParameterRead(name=self.name, type="integer", required=False, description=text)

    def parse(self, value: Any) -> int:
        """The option's value from a widget's params or a query string (422 when out of bounds)."""
        if value is None:
            return self.default
        try:
            if isinstance(value, bool | float):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            raise Unprocessable(f"{self.name} must be an integer", code="invalid_parameter") from None
        if not self.minimum <= number <= self.maximum:
            raise Unprocessable(
                f"{self.name} must be between {self.minimum} and {self.maximum}", code="invalid_parameter"
            )
        return number


TOP_LIMIT = IntegerOption("limit", default=10, minimum=1, maximum=100, description="How many categories")


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    description: str
    compute: Callable[..., dict]
    options: tuple[IntegerOption, ...] = ()

    @property
    def option_names(self) -> set[str]:
        return {option.name for option in self.options}

    def describe(self) -> IndicatorRead:
        return IndicatorRead(
            key=self.key,
            title=self.title,
            description=self.description,
            parameters=COMMON_PARAMETERS + [option.describe() for option in self.options],
        )


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
            (TOP_LIMIT,),
        ),
        Indicator(
            "acumulado-ano",
            "Acumulado no ano",
            "Year-to-date running total at each month of the range.",
            builtin.acumulado_ano,
        ),
    ]
}


def list_indicators() -> Page[IndicatorRead]:
    """Every ready-made indicator with its parameters."""
    return Page[IndicatorRead].whole([indicator.describe() for indicator in CATALOG.values()])


def get_indicator(key: str) -> Indicator:
    try:
        return CATALOG[key]
    except KeyError:
        raise NotFound(f"Unknown indicator '{key}'. Known: {', '.join(CATALOG)}", code="unknown_indicator") from None


def extra_options(key: str, params: dict[str, Any]) -> dict[str, Any]:
    """The indicator's own options, validated, with their defaults (e.g. top-categorias' limit)."""
    return {option.name: option.parse(params.get(option.name)) for option in get_indicator(key).options}


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
