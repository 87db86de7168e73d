"""Ingestion request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from app.schemas.common import ORMModel


class RejectedRowRead(BaseModel):
    line: int
    column: str | None
    value: str | None
    reason: str


class IngestReport(BaseModel):
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


class CuratedPreviewRow(BaseModel):
    date: date
    value: Decimal
    uf: str | None
    category: str | None
    attributes: dict[str, Any] | None


class BatchPreview(BaseModel):
    batch_id: int
    header: list[str]
    staging: list[StagingPreviewRow]
    curated: list[CuratedPreviewRow]
