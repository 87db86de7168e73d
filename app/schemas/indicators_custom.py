"""Custom indicators: bodies, answers and the result of a run."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.common import NOT_SENT, ORMModel, ParamValue


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

    name: str = Field(default=NOT_SENT, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    sql: str = Field(default=NOT_SENT, min_length=1, max_length=20_000)
    parameters: list[ParameterSpec] = Field(default=NOT_SENT, max_length=20)

    _parameters = field_validator("parameters")(_distinct_names)


class CustomIndicatorRead(ORMModel):
    id: int
    name: str
    description: str | None
    sql: str
    parameters: list[ParameterSpec]
    created_at: datetime
    updated_at: datetime


class CustomRunRead(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = Field(description="Rows were left out because the result passed a cap")
    truncated_reason: Literal["rows", "bytes"] | None = Field(
        default=None, description="Which cap cut the result: the row cap or CUSTOM_RESULT_MAX_BYTES"
    )
    as_of: str | None = None
