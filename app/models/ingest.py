"""Data sources, ingestion batches, staging and rejected rows, and the curated facts."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    Base,
    BigIntPK,
    BulkOrgScoped,
    ExactDecimal,
    JSONDoc,
    OrgScoped,
    TimestampMixin,
    UTCDateTime,
    org_foreign_key,
    str_enum,
    utcnow,
)


class SourceType(str, enum.Enum):
    SQL = "sql"
    CSV_UPLOAD = "csv_upload"
    XLSX_UPLOAD = "xlsx_upload"
    GOOGLE_SHEETS = "google_sheets"

    @property
    def is_file(self) -> bool:
        """File sources get their data by upload (never fetched, never recurring)."""
        return self in (SourceType.CSV_UPLOAD, SourceType.XLSX_UPLOAD)


class BatchStatus(str, enum.Enum):
    PROCESSING = "processing"  # an upload answered 202 and still loading in the background
    LOADED = "loaded"  # the source's current data (one batch after a replace, several after appends)
    SUPERSEDED = "superseded"  # replaced by a later full refresh, or by restoring another batch
    FAILED = "failed"


class LoadMode(str, enum.Enum):
    """How a batch lands in its source: replace makes it the only current batch; append adds its rows."""

    REPLACE = "replace"
    APPEND = "append"


class DataSource(OrgScoped, TimestampMixin, Base):
    __tablename__ = "data_sources"
    # One source per (org, type, name): uploads find "their" file source by name, even when racing.
    __table_args__ = (Index("uq_data_sources_org_type_name", "organization_id", "type", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    type: Mapped[SourceType] = mapped_column(str_enum(SourceType, "source_type"), nullable=False)
    config_json: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=False, default=dict)
    secret_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_recurring: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    interval_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class IngestionBatch(OrgScoped, Base):
    __tablename__ = "ingestion_batches"
    __table_args__ = (
        Index("ix_ingestion_batches_org_source", "organization_id", "data_source_id", "id"),
        Index("ix_ingestion_batches_org_finished", "organization_id", "finished_at"),
        Index("ix_ingestion_batches_status_finished", "status", "finished_at"),  # retention's scan, across orgs
        org_foreign_key("ingestion_batches", "data_source_id", "data_sources", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    data_source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[BatchStatus] = mapped_column(str_enum(BatchStatus, "batch_status"), nullable=False)
    file_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    content_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rows_received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=False, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    mode: Mapped[LoadMode] = mapped_column(
        str_enum(LoadMode, "load_mode", 16), nullable=False, default=LoadMode.REPLACE, server_default="replace"
    )
    # Rows read so far by a background load (committed apart from the load, so a client can show progress).
    rows_processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when retention removed the batch's staging and rejected rows: it can no longer be restored.
    rows_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StagingRow(BulkOrgScoped, Base):
    """One received row: the raw values exactly as read, plus what the parser made of them."""

    __tablename__ = "staging_rows"
    __table_args__ = (Index("ix_staging_rows_org_batch_line", "organization_id", "batch_id", "line_no"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(Integer, nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    # Plain JSON (not JSONB): kept as received, parsed only when read.
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    is_valid: Mapped[bool] = mapped_column(Boolean, nullable=False)
    date: Mapped[date | None] = mapped_column(Date, nullable=True)
    value: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    uf: Mapped[str | None] = mapped_column(String(2), nullable=True)
    category: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class RejectedRow(BulkOrgScoped, Base):
    __tablename__ = "rejected_rows"
    __table_args__ = (Index("ix_rejected_rows_org_batch_line", "organization_id", "batch_id", "line_no"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(Integer, nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    column: Mapped[str | None] = mapped_column(String(255), nullable=True)
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str] = mapped_column(String(255), nullable=False)


class Fact(BulkOrgScoped, Base):
    """Curated data: what every indicator reads."""

    __tablename__ = "facts"
    __table_args__ = (
        # Plain, not covering: the ready-made indicators read the rollups, and every included column made each
        # loaded row dearer (migration 0017); custom SQL still finds an org's date range here.
        Index("ix_facts_org_date", "organization_id", "date"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    data_source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    batch_id: Mapped[int] = mapped_column(Integer, nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)
    uf: Mapped[str | None] = mapped_column(String(2), nullable=True)
    category: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Plain JSON: written once per load, read per row by custom indicators (->> works on json too).
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


ROLLUP_INCLUDE = ["data_source_id", "uf", "category", "category_key", "total_value", "row_count"]
ROLLUP_INCLUDE_NO_UF = [name for name in ROLLUP_INCLUDE if name != "uf"]
UF_ROLLUP_INCLUDE = ["data_source_id", "uf", "total_value", "row_count"]


class DailyRollup(BulkOrgScoped, Base):
    """Per org, source, day, UF and category: the sum, count, min and max of the curated facts. Maintained in the
    same transaction as every write to `facts` (app/services/rollups.py); the ready-made indicators read it (and
    MonthlyRollup), so their cost follows the days, months and groups in range, not the number of facts."""

    __tablename__ = "daily_rollups"
    __table_args__ = (
        # Covering: one org's day range is an index-only scan for every indicator and filter.
        Index("ix_daily_rollups_org_day", "organization_id", "day", postgresql_include=ROLLUP_INCLUDE),
        Index("ix_daily_rollups_org_source_day", "organization_id", "data_source_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    data_source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    uf: Mapped[str | None] = mapped_column(String(2), nullable=True)
    category: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # painel_category_key(category): what a category filter matches (case- and accent-insensitive).
    category_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    total_value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)
    row_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    min_value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)
    max_value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)


class MonthlyRollup(BulkOrgScoped, Base):
    """The daily rollups summed per calendar month (`month` is its first day), maintained with them: a year of an
    org is at most 12 x UFs x categories x sources rows, however many days and facts it holds."""

    __tablename__ = "monthly_rollups"
    __table_args__ = (
        Index("ix_monthly_rollups_org_month", "organization_id", "month", postgresql_include=ROLLUP_INCLUDE),
        # A UF filter reads that UF's rows only (1/27 of an org-year with every UF present), also index-only.
        Index(
            "ix_monthly_rollups_org_uf_month", "organization_id", "uf", "month", postgresql_include=ROLLUP_INCLUDE_NO_UF
        ),
        Index("ix_monthly_rollups_org_source_month", "organization_id", "data_source_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    data_source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    uf: Mapped[str | None] = mapped_column(String(2), nullable=True)
    category: Mapped[str | None] = mapped_column(String(255), nullable=True)
    category_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    total_value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)
    row_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    min_value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)
    max_value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)


class MonthlyCategoryRollup(BulkOrgScoped, Base):
    """The monthly rollups summed over the UFs: per org, source, month and category, the sum and count. Maintained
    with them (from the monthly rows, app/services/rollups.py); read instead of MonthlyRollup when a request neither
    filters nor groups by UF (kpis reads two periods: 96 rows a year here instead of 2,592)."""

    __tablename__ = "monthly_category_rollups"
    __table_args__ = (
        Index(
            "ix_monthly_category_rollups_org_month",
            "organization_id",
            "month",
            postgresql_include=ROLLUP_INCLUDE_NO_UF,
        ),
        Index("ix_monthly_category_rollups_org_source_month", "organization_id", "data_source_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    data_source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    category: Mapped[str | None] = mapped_column(String(255), nullable=True)
    category_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    total_value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)
    row_count: Mapped[int] = mapped_column(BigInteger, nullable=False)


class MonthlyUfRollup(BulkOrgScoped, Base):
    """The monthly rollups summed over the categories: per org, source, month and UF, the sum and count. Maintained
    with them (from the monthly rows, app/services/rollups.py); read instead of MonthlyRollup when a request filters
    or groups by UF but neither filters nor groups by category (mapa-por-uf: 324 rows a year here instead of
    2,592)."""

    __tablename__ = "monthly_uf_rollups"
    __table_args__ = (
        Index("ix_monthly_uf_rollups_org_month", "organization_id", "month", postgresql_include=UF_ROLLUP_INCLUDE),
        # A UF filter reads that UF's rows only, also index-only.
        Index(
            "ix_monthly_uf_rollups_org_uf_month",
            "organization_id",
            "uf",
            "month",
            postgresql_include=["data_source_id", "total_value", "row_count"],
        ),
        Index("ix_monthly_uf_rollups_org_source_month", "organization_id", "data_source_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    data_source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    uf: Mapped[str | None] = mapped_column(String(2), nullable=True)
    total_value: Mapped[Decimal] = mapped_column(ExactDecimal(), nullable=False)
    row_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
