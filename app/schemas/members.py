"""Members of the organization, and the organization itself."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from app.models import Role
from app.schemas.common import NOT_SENT, ORMModel


class MemberCreate(BaseModel):
    email: EmailStr
    role: Role


class MemberUpdate(BaseModel):
    role: Role


class MemberRead(BaseModel):
    user_id: int
    email: str
    role: Role


def _known_timezone(value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as America/Sao_Paulo") from None
    return value


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default=NOT_SENT, min_length=1, max_length=200)
    timezone: str = Field(default=NOT_SENT, max_length=64, examples=["America/Sao_Paulo"])
    fiscal_year_start_month: int = Field(default=NOT_SENT, ge=1, le=12, description="1 = January")

    _timezone = field_validator("timezone")(_known_timezone)


class OrganizationRead(ORMModel):
    id: int
    slug: str
    name: str
    timezone: str
    fiscal_year_start_month: int
