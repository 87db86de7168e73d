"""Data freshness of an organization: a version bumped on every curated-data change, and as_of."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import BatchStatus, IngestionBatch, Organization
from app.models.base import utcnow
from app.services.tenancy import Tenant, scoped_select


def bump(session: Session, tenant: Tenant) -> None:
    """Record that the org's curated data changed (new batch, deleted source...)."""
    session.execute(
        update(Organization)
        .where(Organization.id == tenant.org_id)
        .values(data_version=Organization.data_version + 1, data_updated_at=utcnow())
    )


def stamp(session: Session, tenant: Tenant) -> tuple[int, datetime | None]:
    """(data_version, as_of): as_of is when the org's latest loaded batch finished."""
    version = session.scalar(select(Organization.data_version).where(Organization.id == tenant.org_id))
    as_of = session.scalar(
        scoped_select(tenant, IngestionBatch, func.max(IngestionBatch.finished_at)).where(
            IngestionBatch.status == BatchStatus.LOADED
        )
    )
    return version or 0, as_of


def etag(*parts: Any) -> str:
    """A strong ETag over the given JSON-able parts."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f'"{digest}"'


def data_etag(session: Session, tenant: Tenant, *parts: Any) -> tuple[str, datetime | None]:
    """(ETag, as_of): the tag changes whenever the org's curated data changes (or the request's parts do)."""
    version, as_of = stamp(session, tenant)
    return etag(tenant.org_id, version, *parts), as_of
