"""Organizations (tenants), users and their memberships."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, OrgScoped, TimestampMixin, UTCDateTime, str_enum


class Role(str, enum.Enum):
    VIEWER = "Viewer"
    EDITOR = "Editor"
    ADMIN = "Admin"
    OWNER = "Owner"

    @property
    def rank(self) -> int:
        return ROLE_ORDER.index(self)


ROLE_ORDER = [Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.OWNER]


DEFAULT_TIMEZONE = "America/Sao_Paulo"


class Organization(TimestampMixin, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Bumped on every change to the org's curated data; indicator ETags derive from it.
    data_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    data_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Bumped by database triggers on every dashboard, widget and custom indicator write (migration 0021): cached
    # dashboard answers are keyed by it instead of the definitions, so a hit reads no dashboard. Never set it here.
    dashboards_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The org's IANA time zone: turns source datetimes into dates and says when "today" is.
    timezone: Mapped[str] = mapped_column(
        String(64), nullable=False, default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )
    # The month its fiscal year starts (1 = January): where year-to-date totals restart.
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    # Mixed into the key that signs the org's embed tokens: a new value invalidates all of them (revoke-all).
    embed_token_salt: Mapped[str | None] = mapped_column(String(64), nullable=True)


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    hashed_password: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Membership(OrgScoped, TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", name="uq_memberships_org_user"),
        Index("ix_memberships_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[Role] = mapped_column(
        str_enum(Role, "member_role", 16),
        nullable=False,
    )
