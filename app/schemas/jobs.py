"""Job runs: the history of scheduled and manual runs of data sources."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class JobRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    data_source_id: int
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_loaded: int | None
    batch_id: int | None
    error: str | None
    attempt: int
