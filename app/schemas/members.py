"""Members of the organization, and the organization itself."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field

from app.models import Role
from app.schemas.common import ORMModel


class MemberCreate(BaseModel):
    email: EmailStr
    role: Role


class MemberUpdate(BaseModel):
    role: Role


class MemberRead(BaseModel):
    user_id: int
    email: str
    role: Role


class OrganizationUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class OrganizationRead(ORMModel):
    id: int
    slug: str
    name: str
