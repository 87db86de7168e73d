"""Ingestion request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app.models import LoadMode
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
    mode: str
    dry_run: bool
    duplicate: bool
    rows_received: int
    rows_loaded: int
    rows_rejected: int
    detected: dict[str, Any]
    mapping: dict[str, str]
    rejected_sample: list[RejectedRowRead]


RESTORABLE_STATUSES = ("loaded", "superseded")


class _BatchState(ORMModel):
    """What every view of a stored batch says about its state and its rows."""

    id: int
    data_source_id: int
    status: str = Field(description="processing, loaded (current), superseded or failed")
    mode: str = Field(description="replace or append: how the batch landed in its source")
    file_name: str | None
    rows_received: int
    rows_loaded: int
    rows_rejected: int
    rows_processed: int = Field(description="Rows read so far while the batch is processing (progress)")
    finished_at: datetime | None
    error: str | None = Field(description="Why the batch failed")
    created_by: int | None
    restored_at: datetime | None
    rows_purged_at: datetime | None = Field(description="When retention removed the batch's staged rows")

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented way to serialize a property
    @property
    def restorable(self) -> bool:
        """Whether POST /ingest/batches/{id}/restore can make this batch current again."""
        return self.status in RESTORABLE_STATUSES and self.rows_purged_at is None


class BatchRead(_BatchState):
    content_sha256: str | None
    started_at: datetime
    details: dict[str, Any]


class BatchHistoryRead(_BatchState):
    """One batch in a source's history (GET /datasources/{id}/batches)."""

    created_at: datetime = Field(validation_alias="started_at")


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
    mode: LoadMode = Field(
        default=LoadMode.REPLACE,
        description="`replace` (default): the range's rows become the source's only data; earlier batches are "
        "superseded. `append`: the rows are added to the source's current data. Scheduled refreshes always replace.",
    )
