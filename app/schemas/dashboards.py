"""Dashboards and widgets: bodies, answers, and the portable export/import document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import MAX_ID, NOT_SENT, ORMModel, ParamName, ParamValue
from app.schemas.indicators import IndicatorResult
from app.schemas.indicators_custom import CustomIndicatorCreate, CustomRunRead


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: int = Field(ge=0, le=1000)
    y: int = Field(ge=0, le=10000)
    w: int = Field(ge=1, le=1000)
    h: int = Field(ge=1, le=1000)


class WidgetBase(BaseModel):
    """What every widget carries, wherever it comes from (a request body or an imported document)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    params: dict[ParamName, ParamValue] = Field(default_factory=dict, max_length=20)
    position: Position = Field(default_factory=lambda: Position(x=0, y=0, w=4, h=3))


class WidgetCreate(WidgetBase):
    """A widget in a create or update body: a ready-made indicator key or an existing custom indicator."""

    indicator: str | None = Field(
        default=None, max_length=64, description="A ready-made indicator key, e.g. valor-mes-a-mes"
    )
    custom_indicator_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.indicator is None) == (self.custom_indicator_id is None):
            raise ValueError("give exactly one of 'indicator' or 'custom_indicator_id'")
        return self


class WidgetRead(ORMModel):
    id: int
    title: str
    indicator: str | None
    custom_indicator_id: int | None
    params: dict[str, Any]
    position: Position


class DashboardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    widgets: list[WidgetCreate] = Field(default_factory=list, max_length=100)


class DashboardUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default=NOT_SENT, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    widgets: list[WidgetCreate] | None = Field(default=None, max_length=100, description="Replaces all widgets")


class DashboardSummaryRead(ORMModel):
    id: int
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class DashboardRead(DashboardSummaryRead):
    widgets: list[WidgetRead]


EXPORT_FORMAT = "painel.dashboard"
EXPORT_VERSION = 1


class DocumentWidget(WidgetBase):
    """A widget in an exported document: a ready-made indicator key, or a custom indicator by definition (never by
    id: ids mean nothing in another organization)."""

    indicator: str | None = Field(default=None, max_length=64)
    custom_indicator: CustomIndicatorCreate | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.indicator is None) == (self.custom_indicator is None):
            raise ValueError("give exactly one of 'indicator' or 'custom_indicator'")
        return self


class DashboardDocument(BaseModel):
    """The portable form of a dashboard: what GET /dashboards/{id}/export answers and POST /dashboards/import takes."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["painel.dashboard"]
    version: Literal[1]
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    widgets: list[DocumentWidget] = Field(default_factory=list, max_length=100)


class WidgetDataRead(BaseModel):
    """One widget of GET /dashboards/{id}/data: its indicator's answer in `data`, or why it has none in `error`."""

    id: int
    title: str
    indicator: str | None
    custom_indicator_id: int | None
    position: Position
    data: IndicatorResult | CustomRunRead | None = Field(
        default=None, description="The indicator's answer, as its own endpoint gives it"
    )
    error: WidgetError | None = None


class WidgetError(BaseModel):
    code: str
    detail: str


class DashboardDataRead(BaseModel):
    """Every widget's data for one date range (`from`, `to`), and when the org's data last changed (`as_of`)."""

    model_config = ConfigDict(populate_by_name=True)

    dashboard_id: int
    start: date = Field(alias="from", serialization_alias="from")
    end: date = Field(alias="to", serialization_alias="to")
    as_of: str | None
    widgets: list[WidgetDataRead]

    @property
    def complete(self) -> bool:
        """Whether every widget ran (none was cut by the deadline), so the answer may be cached."""
        return not any(w.error is not None and w.error.code == DEADLINE_EXCEEDED for w in self.widgets)


DEADLINE_EXCEEDED = "deadline_exceeded"
