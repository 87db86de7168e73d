"""Runs of data sources (scheduled or manual) and per-org Google credentials."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, OrgScoped, TimestampMixin, UTCDateTime, org_foreign_key, str_enum, utcnow


class RunTrigger(str, enum.Enum):
    SCHEDULE = "schedule"
    MANUAL = "manual"


class RunStatus(str, enum.Enum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"


class JobRun(OrgScoped, Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_org_started", "organization_id", "started_at"),
        Index("ix_job_runs_source_started", "data_source_id", "started_at"),
        Index("ix_job_runs_status", "status"),
        org_foreign_key("job_runs", "data_source_id", "data_sources", ondelete="CASCADE"),
        # Deleting a batch forgets it in its runs, never their org (PG 15's column list; SQLite keeps batch_id alone).
        org_foreign_key("job_runs", "batch_id", "ingestion_batches", ondelete="SET NULL (batch_id)"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    data_source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    trigger: Mapped[RunTrigger] = mapped_column(str_enum(RunTrigger, "run_trigger", 16), nullable=False)
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, "run_status", 16), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rows_loaded: Mapped[int | None] = mapped_column(Integer, nullable=True)
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)


class GoogleCredential(OrgScoped, TimestampMixin, Base):
    """An org's Google credential (service account or authorized-user token), encrypted at rest."""

    __tablename__ = "google_credentials"
    __table_args__ = (Index("ix_google_credentials_org", "organization_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    client_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
