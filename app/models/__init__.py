"""All models, imported so Base.metadata knows every table (Alembic relies on it)."""

from app.models.api_key import ApiKey
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.dashboard import CustomIndicator, Dashboard, Widget
from app.models.ingest import (
    BatchStatus,
    DailyRollup,
    DataSource,
    Fact,
    IngestionBatch,
    LoadMode,
    MonthlyCategoryRollup,
    MonthlyRollup,
    MonthlyUfRollup,
    RejectedRow,
    SourceType,
    StagingRow,
)
from app.models.jobs import GoogleCredential, JobRun, RunStatus, RunTrigger
from app.models.organization import ROLE_ORDER, Membership, Organization, Role, User

__all__ = [
    "ROLE_ORDER",
    "ApiKey",
    "AuditEvent",
    "Base",
    "BatchStatus",
    "CustomIndicator",
    "DailyRollup",
    "Dashboard",
    "DataSource",
    "Fact",
    "GoogleCredential",
    "IngestionBatch",
    "JobRun",
    "LoadMode",
    "Membership",
    "MonthlyCategoryRollup",
    "MonthlyRollup",
    "MonthlyUfRollup",
    "Organization",
    "RejectedRow",
    "Role",
    "RunStatus",
    "RunTrigger",
    "SourceType",
    "StagingRow",
    "User",
    "Widget",
]
