"""Embed tokens: the request that mints one (dashboards, locked filters, lifetime) and the answer."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.schemas.common import MAX_ID

EMBED_TOKEN_MAX_SECONDS = 24 * 3600  # embed tokens are short-lived: a day at most
EMBED_TOKEN_DEFAULT_SECONDS = 3600
EMBED_MAX_DASHBOARDS = 20
_UF = re.compile(r"^[A-Z]{2}$")

DashboardId = Annotated[int, Field(ge=1, le=MAX_ID)]


class EmbedFilters(BaseModel):
    """Filters locked into the token: a query cannot widen them (see README, "Embed tokens")."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    uf: str | None = Field(default=None, min_length=2, max_length=2, examples=["SP"])
    category: str | None = Field(default=None, min_length=1, max_length=255)
    data_source_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    start: date | None = Field(default=None, alias="from", description="First day that may be shown")
    end: date | None = Field(default=None, alias="to", description="Last day that may be shown")

    @field_validator("uf")
    @classmethod
    def _uf(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        if not _UF.match(value):
            raise ValueError("a UF is two letters, e.g. SP")
        return value

    @model_validator(mode="after")
    def _both_dates_or_neither(self) -> EmbedFilters:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both 'from' and 'to', or neither")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("'from' is after 'to'")
        return self


class EmbedTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dashboard_ids: list[DashboardId] = Field(min_length=1, max_length=EMBED_MAX_DASHBOARDS)
    filters: EmbedFilters = Field(default_factory=EmbedFilters)
    expires_in: int = Field(
        default=EMBED_TOKEN_DEFAULT_SECONDS,
        ge=60,
        le=EMBED_TOKEN_MAX_SECONDS,
        description=f"Seconds the token works (60 to {EMBED_TOKEN_MAX_SECONDS})",
    )

    @field_validator("dashboard_ids")
    @classmethod
    def _unique(cls, ids: list[int]) -> list[int]:
        return sorted(set(ids))


class EmbedTokenRead(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>' to GET /dashboards/{id} and its /data")
    expires_at: datetime
