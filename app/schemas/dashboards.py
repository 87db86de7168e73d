"""Dashboards, widgets and custom indicator bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from app.schemas.common import MAX_ID, ORMModel


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: int = Field(ge=0, le=1000)
    y: int = Field(ge=0, le=10000)
    w: int = Field(ge=1, le=1000)
    h: int = Field(ge=1, le=1000)


MAX_PARAM_TEXT = 1000


def _scalar(value: Any) -> Any:
    # One clear error instead of one per member of the union below.
    if isinstance(value, str) and len(value) > MAX_PARAM_TEXT:
        raise ValueError(f"a parameter value has at most {MAX_PARAM_TEXT} characters")
    if value is not None and not isinstance(value, bool | int | float | str):
        raise ValueError("a parameter value is a string, a number, a boolean or null")
    return value


ParamName = Annotated[str, Field(min_length=1, max_length=63)]
ParamValue = Annotated[
    bool | int | float | Annotated[str, Field(max_length=MAX_PARAM_TEXT)] | None, BeforeValidator(_scalar)
]


class WidgetBase(BaseModel):
    """What every widget carries, wherever it comes from (a request body or an imported document)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    params: dict[ParamName, ParamValue] = Field(default_factory=dict, max_length=20)
    position: Position = Field(default_factory=lambda: Position(x=0, y=0, w=4, h=3))


class WidgetIn(WidgetBase):
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
    default: ParamValue = None


def _distinct_names(parameters: list[ParameterSpec] | None) -> list[ParameterSpec] | None:
    names = [spec.name for spec in parameters or []]
    if len(set(names)) != len(names):
        raise ValueError("parameter names must be distinct")
    return parameters


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

    _parameters = field_validator("parameters")(_distinct_names)


class CustomIndicatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Defaults are not validated: an omitted field stays unset, an explicit null is refused.
    name: str = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    sql: str = Field(default=None, min_length=1, max_length=20_000)
    parameters: list[ParameterSpec] = Field(default=None, max_length=20)

    _parameters = field_validator("parameters")(_distinct_names)


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
    truncated: bool = Field(description="Rows were left out because the result passed a cap")
    truncated_reason: Literal["rows", "bytes"] | None = Field(
        default=None, description="Which cap cut the result: the row cap or CUSTOM_RESULT_MAX_BYTES"
    )
    as_of: str | None = None


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
