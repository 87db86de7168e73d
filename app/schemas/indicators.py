"""Ready-made indicators: the catalog's description of each one."""

from __future__ import annotations

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
