"""Dashboards, widgets and custom indicator bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import MAX_ID, ORMModel


class Position(BaseModel):
    x: int = Field(ge=0, le=1000)
    y: int = Field(ge=0, le=10000)
    w: int = Field(ge=1, le=1000)
    h: int = Field(ge=1, le=1000)


class WidgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    indicator: str | None = Field(default=None, description="A ready-made indicator key, e.g. valor-mes-a-mes")
    custom_indicator_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    params: dict[str, Any] = Field(default_factory=dict)
    position: Position = Field(default_factory=lambda: Position(x=0, y=0, w=4, h=3))

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
    widgets: list[WidgetIn] = Field(default_factory=list, max_length=100)


class DashboardUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Defaults are not validated: an omitted field stays unset, an explicit null is refused.
    name: str = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    widgets: list[WidgetIn] | None = Field(default=None, max_length=100, description="Replaces all widgets")


class DashboardSummary(ORMModel):
    id: int
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class DashboardRead(DashboardSummary):
    widgets: list[WidgetRead]


class ParameterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    type: Literal["string", "integer", "number", "date", "boolean"]
    required: bool = True
    default: Any = None


class CustomIndicatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    sql: str = Field(
        min_length=1,
        max_length=20_000,
        examples=["SELECT uf, SUM(value) AS total FROM facts WHERE date >= :start GROUP BY uf ORDER BY total DESC"],
    )
    parameters: list[ParameterSpec] = Field(default_factory=list, max_length=20)


class CustomIndicatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Defaults are not validated: an omitted field stays unset, an explicit null is refused.
    name: str = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    sql: str = Field(default=None, min_length=1, max_length=20_000)
    parameters: list[ParameterSpec] = Field(default=None, max_length=20)


class CustomIndicatorRead(ORMModel):
    id: int
    name: str
    description: str | None
    sql: str
    parameters: list[ParameterSpec]
    created_at: datetime
    updated_at: datetime


class CustomRunResult(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    as_of: str | None = None
