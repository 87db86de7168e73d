"""Custom SQL indicators, dashboards and their widgets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONDoc, OrgScoped, TimestampMixin, org_foreign_key


class CustomIndicator(OrgScoped, TimestampMixin, Base):
    """A tenant's saved SELECT over `facts`, with typed named binds."""

    __tablename__ = "custom_indicators"
    __table_args__ = (Index("ix_custom_indicators_org_name", "organization_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    sql: Mapped[str] = mapped_column(Text, nullable=False)
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, nullable=False, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class Dashboard(OrgScoped, TimestampMixin, Base):
    __tablename__ = "dashboards"
    __table_args__ = (Index("ix_dashboards_org_name", "organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class Widget(OrgScoped, Base):
    """One tile of a dashboard: a ready-made indicator key or a custom indicator, with params and position."""

    __tablename__ = "widgets"
    __table_args__ = (
        Index("ix_widgets_org_dashboard", "organization_id", "dashboard_id", "sort_order"),
        org_foreign_key("widgets", "dashboard_id", "dashboards", ondelete="CASCADE"),
        org_foreign_key("widgets", "custom_indicator_id", "custom_indicators", ondelete="RESTRICT"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dashboard_id: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    indicator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    custom_indicator_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=False, default=dict)
    position: Mapped[dict[str, int]] = mapped_column(JSONDoc, nullable=False, default=dict)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
