"""Org API keys: the create body and the answers (the key itself only in the create answer)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models import Role
from app.schemas.common import ORMModel


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["ERP sync"])
    role: Role = Field(description="Viewer, Editor or Admin, at most your own role (never Owner)")
    expires_at: datetime | None = Field(
        default=None, description="When the key stops working (a time without offset is UTC); never when omitted"
    )

    @field_validator("role")
    @classmethod
    def _not_owner(cls, role: Role) -> Role:
        if role is Role.OWNER:
            raise ValueError("an API key cannot have the Owner role")
        return role

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


class ApiKeyRead(ORMModel):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="The key's public part (pnl_live_<org>_<id>), to recognise it; not the key")
    created_by: int | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most once a minute")
    expires_at: datetime | None


class ApiKeyCreatedRead(ApiKeyRead):
    key: str = Field(description="The key itself: shown in this answer only, never again (only a hash is stored)")
