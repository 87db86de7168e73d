"""Audit trail answers and query parameters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from app.schemas.common import ORMModel


def _date_or_datetime(value: Any) -> Any:
    # "2026-12-01" is a day (inclusive range); anything longer is an instant, even "...T00:00:00".
    if isinstance(value, str) and len(value.strip()) == 10:
        return date.fromisoformat(value.strip())
    return value


DateOrDateTime = Annotated[datetime | date, BeforeValidator(_date_or_datetime)]


class AuditEventRead(ORMModel):
    id: int
    created_at: datetime
    actor_type: str
    actor_user_id: int | None
    actor_api_key_id: int | None = None
    action: str
    entity_type: str
    entity_id: int | None
    changes: dict[str, Any]
    request_id: str | None
