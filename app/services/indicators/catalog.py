"""The catalog of ready-made indicators: each one's key, description, options and compute function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.errors import NotFound, Unprocessable
from app.schemas.common import Page
from app.schemas.indicators import (
    IndicatorAnswer,
    IndicatorParameterRead,
    IndicatorRead,
    IndicatorResult,
    KpisRead,
    MonthlyValuesRead,
    TimeSeriesRead,
    TopCategoriesRead,
    UfMapRead,
    YearToDateRead,
)
from app.services.indicators import builtin
from app.services.indicators.builtin import Context
from app.services.indicators.grains import GRAINS

COMMON_PARAMETERS = [
    IndicatorParameterRead(name="from", type="date", required=True, description="First day of the range (ISO date)"),
    IndicatorParameterRead(name="to", type="date", required=True, description="Last day of the range (ISO date)"),
    IndicatorParameterRead(
        name="data_source_id", type="integer", required=False, description="Only this source's data"
    ),
    IndicatorParameterRead(
        name="category", type="string", required=False, description="Only this category (case and accents ignored)"
    ),
    IndicatorParameterRead(
        name="uf", type="string", required=False, description="Only this state (UF code or name, any case)"
    ),
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


@dataclass(frozen=True)
class ChoiceOption:
    """An indicator-specific parameter taking one of a few words (e.g. serie-temporal's grain)."""

    name: str
    default: str
    choices: tuple[str, ...]
    description: str

    def describe(self) -> IndicatorParameterRead:
        text = f"{self.description} ({' | '.join(self.choices)}, default {self.default})"
        return IndicatorParameterRead(name=self.name, type="string", required=False, description=text)

    def parse(self, value: Any) -> str:
        """The option's value from a widget's params or a query string (422 when not one of the choices)."""
        if value is None:
            return self.default
        if not isinstance(value, str) or value not in self.choices:
            raise Unprocessable(f"{self.name} must be one of: {', '.join(self.choices)}", code="invalid_parameter")
        return value


TOP_LIMIT = IntegerOption("limit", default=10, minimum=1, maximum=100, description="How many categories")
GRAIN = ChoiceOption("grain", default="month", choices=GRAINS, description="Bucket size; weeks are ISO (Monday)")


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    description: str
    compute: Callable[[Context], IndicatorResult]
    model: type[IndicatorAnswer]
    options: tuple[IntegerOption | ChoiceOption, ...] = ()

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
            MonthlyValuesRead,
        ),
        Indicator(
            "mapa-por-uf",
            "Mapa por UF",
            "Total value per Brazilian state (all 27, zero-filled, largest first) "
            "with each state's share; facts without a state are reported as `unassigned`.",
            builtin.mapa_por_uf,
            UfMapRead,
        ),
        Indicator(
            "kpis",
            "KPIs",
            "Total value, row count, average value and distinct categories for the range and "
            "for the previous period of the same length, with the percent change.",
            builtin.kpis,
            KpisRead,
        ),
        Indicator(
            "top-categorias",
            "Top categorias",
            "The categories with the largest totals and their share.",
            builtin.top_categorias,
            TopCategoriesRead,
            (TOP_LIMIT,),
        ),
        Indicator(
            "acumulado-ano",
            "Acumulado no ano",
            "Running total at each month of the range since the start of its fiscal year (the org's "
            "fiscal_year_start_month; January by default).",
            builtin.acumulado_ano,
            YearToDateRead,
        ),
        Indicator(
            "serie-temporal",
            "Série temporal",
            "Value and row count per day, ISO week, month, quarter or year, every bucket of the range zero-filled.",
            builtin.serie_temporal,
            TimeSeriesRead,
            (GRAIN,),
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
