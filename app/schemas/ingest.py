"""Ingestion request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import MAX_ID, ORMModel


class RejectedRowRead(BaseModel):
    line: int
    column: str | None
    value: str | None
    reason: str


class BatchReportRead(BaseModel):
    batch_id: int | None
    data_source_id: int | None
    status: str
    dry_run: bool
    duplicate: bool
    rows_received: int
    rows_loaded: int
    rows_rejected: int
    detected: dict[str, Any]
    mapping: dict[str, str]
    rejected_sample: list[RejectedRowRead]


class BatchRead(ORMModel):
    id: int
    data_source_id: int
    status: str
    file_name: str | None
    content_sha256: str | None
    rows_received: int
    rows_loaded: int
    rows_rejected: int
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    details: dict[str, Any]


class StagingPreviewRow(BaseModel):
    line: int
    raw: dict[str, Any]
    valid: bool


class CuratedPreviewRow(ORMModel):
    date: date
    value: Decimal
    uf: str | None
    category: str | None
    attributes: dict[str, Any] | None


class BatchPreviewRead(BaseModel):
    batch_id: int
    header: list[str]
    staging: list[StagingPreviewRow]
    curated: list[CuratedPreviewRow]


class SheetsIngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spreadsheet_id: str = Field(min_length=10, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")
    range: str = Field(default="A:ZZ", min_length=1, max_length=200, examples=["Plan1"])
    data_source_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    name: str | None = Field(default=None, max_length=200)
    mapping: dict[str, str] | None = None
