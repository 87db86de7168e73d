"""Ready-made indicators: the catalog's description of each one, the query every indicator takes, and one response
model per indicator shape (what the OpenAPI document shows and what a frontend can rely on)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Grain = Literal["day", "week", "month", "quarter", "year"]
ExportFormat = Literal["json", "csv", "xlsx"]
ExportLocale = Literal["pt-BR", "en"]


class IndicatorParameterRead(BaseModel):
    name: str
    type: Literal["date", "integer", "string"]
    required: bool
    description: str


class IndicatorRead(BaseModel):
    key: str
    title: str
    description: str
    parameters: list[IndicatorParameterRead]


class IndicatorQuery(BaseModel):
    """The date range and filters of an indicator request (`from`, `to`, `data_source_id`, `category`, `uf`)."""

    start: date
    end: date
    data_source_id: int | None = None
    category: str | None = None
    uf: str | None = None


class DimensionsQuery(BaseModel):
    """The optional range and filters of GET /indicators/dimensions."""

    start: date | None = None
    end: date | None = None
    data_source_id: int | None = None
    category: str | None = None
    uf: str | None = None


AS_OF = Field(description="When the org's latest batch finished loading (ISO 8601), null before any data")


class IndicatorAnswer(BaseModel):
    """What every indicator answer starts with: which indicator, the range asked for and the data's freshness."""

    model_config = ConfigDict(populate_by_name=True)

    indicator: str
    start: date = Field(alias="from", serialization_alias="from")
    end: date = Field(alias="to", serialization_alias="to")
    as_of: str | None = AS_OF


class MonthValue(BaseModel):
    month: str = Field(description="YYYY-MM", examples=["2025-01"])
    value: float
    change_pct: float | None = Field(description="Against the previous month; null when that month was 0")


class MonthlyValuesRead(IndicatorAnswer):
    """valor-mes-a-mes: every month of the range, zero-filled."""

    items: list[MonthValue]


class UfValue(BaseModel):
    uf: str
    value: float
    share_pct: float = Field(description="Share of the total of the facts that have a UF")


class UfMapRead(IndicatorAnswer):
    """mapa-por-uf: all 27 UFs, largest first; facts without a UF are `unassigned`."""

    items: list[UfValue]
    total: float
    unassigned: float


class KpiValues(BaseModel):
    total_value: float
    row_count: int
    average_value: float
    distinct_categories: int


class KpiPreviousValues(KpiValues):
    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(alias="from", serialization_alias="from")
    end: date = Field(alias="to", serialization_alias="to")


class KpiChanges(BaseModel):
    """Percent change of each KPI against the previous period (null when the previous value is 0)."""

    total_value: float | None
    row_count: float | None
    average_value: float | None
    distinct_categories: float | None


class KpisRead(IndicatorAnswer):
    """kpis: the range against the previous period of the same length."""

    current: KpiValues
    previous: KpiPreviousValues
    change_pct: KpiChanges


class CategoryValue(BaseModel):
    category: str
    value: float
    share_pct: float


class TopCategoriesRead(IndicatorAnswer):
    """top-categorias: the largest categories, the rest as `others`."""

    items: list[CategoryValue]
    others: float
    total: float


class CumulativeMonth(BaseModel):
    month: str = Field(description="YYYY-MM", examples=["2025-01"])
    value: float
    cumulative: float = Field(description="Running total since the start of the month's fiscal year")


class YearToDateRead(IndicatorAnswer):
    """acumulado-ano: the running total restarts at the org's fiscal year start month."""

    fiscal_year_start_month: int = Field(ge=1, le=12)
    items: list[CumulativeMonth]


class SeriesBucket(BaseModel):
    period: str = Field(description="2025-01-13, 2025-W03, 2025-01, 2025-Q1 or 2025", examples=["2025-W03"])
    start: date = Field(description="The bucket's first day (a Monday for ISO weeks)")
    end: date = Field(description="The bucket's last day")
    value: float = Field(description="Sum over the bucket's days inside the range")
    row_count: int


class TimeSeriesRead(IndicatorAnswer):
    """serie-temporal: every bucket of the grain that the range touches, zero-filled."""

    grain: Grain
    items: list[SeriesBucket]


IndicatorResult = MonthlyValuesRead | UfMapRead | KpisRead | TopCategoriesRead | YearToDateRead | TimeSeriesRead


class CategoryDimension(BaseModel):
    category: str
    row_count: int


class UfDimension(BaseModel):
    uf: str
    name: str
    row_count: int


class DataSourceDimension(BaseModel):
    id: int
    name: str
    type: str
    row_count: int


class DimensionsRead(BaseModel):
    """What a UI needs to build its filters: the values that have data under the filters given."""

    model_config = ConfigDict(populate_by_name=True)

    start: date | None = Field(default=None, alias="from", serialization_alias="from")
    end: date | None = Field(default=None, alias="to", serialization_alias="to")
    as_of: str | None = AS_OF
    first_date: date | None = Field(description="The first day with data (null without data)")
    last_date: date | None = Field(description="The last day with data (null without data)")
    categories: list[CategoryDimension]
    ufs: list[UfDimension]
    data_sources: list[DataSourceDimension]
