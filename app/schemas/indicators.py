"""Ready-made indicators: the catalog's description of each one, and the query every indicator takes."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel


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
