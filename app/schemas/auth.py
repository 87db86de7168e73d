"""Sign-in bodies and answers."""

from __future__ import annotations

import re

from pydantic import BaseModel, EmailStr, Field, field_validator

from app.models import Role
from app.schemas.common import ORMModel
from app.schemas.members import OrganizationRead

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def normalize_slug(value: str) -> str:
    value = value.strip().lower()
    if not SLUG_RE.match(value):
        raise ValueError("must be 1-63 characters: lowercase letters, digits and inner hyphens")
    return value


class DevLoginRequest(BaseModel):
    email: EmailStr
    org_slug: str = Field(examples=["demo"])

    _slug = field_validator("org_slug")(classmethod(lambda cls, v: normalize_slug(v)))


class SwitchOrgRequest(BaseModel):
    org_slug: str

    _slug = field_validator("org_slug")(classmethod(lambda cls, v: normalize_slug(v)))


class PasswordUpdate(BaseModel):
    password: str = Field(
        min_length=10, max_length=256, description="At least 10 characters; common or predictable passwords are refused"
    )
    current_password: str | None = Field(default=None, description="Required when a password is already set")


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 the OAuth2 token type, not a secret


class UserRead(ORMModel):
    id: int
    email: str
    has_password: bool = False


class MembershipRead(BaseModel):
    organization: OrganizationRead
    role: Role


class MeRead(BaseModel):
    user: UserRead
    organization: OrganizationRead
    role: Role
    memberships: list[MembershipRead]
