"""Org API keys: machine credentials that act for their organization with a role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, OrgScoped, UTCDateTime, str_enum, utcnow
from app.models.organization import Role


class ApiKey(OrgScoped, Base):
    """One key; only the SHA-256 digest of the key is stored (app.core.security.new_api_key)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        # The lookup of every request that presents a key: org and public id, both read from the key itself.
        Index("ix_api_keys_org_public_id", "organization_id", "public_id", unique=True),
        CheckConstraint("role <> 'Owner'", name="not_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[Role] = mapped_column(str_enum(Role, "api_key_role", 16), nullable=False)
    public_id: Mapped[str] = mapped_column(String(16), nullable=False)
    prefix: Mapped[str] = mapped_column(String(48), nullable=False)
    key_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
