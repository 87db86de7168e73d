"""Data sources: CRUD, connection test, run now, and the org's Google credential."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.routers.deps import AdminTenant, EditorTenant, Id, Paging, SessionDep, ViewerTenant
from app.routers.problems import problem_responses
from app.schemas.common import Page
from app.schemas.datasources import (
    ConnectionTestRead,
    ConnectionTestRequest,
    DataSourceCreate,
    DataSourceRead,
    DataSourceUpdate,
    GoogleCredentialRead,
    GoogleCredentialUpdate,
)
from app.schemas.ingest import BatchHistoryRead
from app.schemas.jobs import JobRunRead
from app.services import connections, rate_limits
from app.services import datasources as datasource_service
from app.services import sheets as sheets_service
from app.services.ingest import batches as batch_service
from app.services.jobs import runs as run_service

router = APIRouter(prefix="/datasources", tags=["datasources"])


@router.get("", response_model=Page[DataSourceRead])
def list_sources(tenant: ViewerTenant, session: SessionDep, page: Paging) -> Page[DataSourceRead]:
    """The organization's data sources, by name (secrets masked)."""
    return datasource_service.list_sources(session, tenant, page)


@router.post("", response_model=DataSourceRead, status_code=status.HTTP_201_CREATED)
def create_source(body: DataSourceCreate, tenant: AdminTenant, session: SessionDep) -> DataSourceRead:
    """Create a source; a SQL URL's password is stored encrypted and shown masked."""
    return datasource_service.create_source(session, tenant, body)


@router.post("/test", response_model=ConnectionTestRead, responses=problem_responses(429))
def test_connection(body: ConnectionTestRequest, tenant: AdminTenant) -> ConnectionTestRead:
    """Connect and run SELECT 1 (allow-listed dialects and parameters, no private hosts, no app database)."""
    rate_limits.check("datasource-test", tenant.org_id)
    return connections.test_connection(body.sqlalchemy_url)


@router.put("/google-credentials", response_model=GoogleCredentialRead)
def update_google_credentials(
    body: GoogleCredentialUpdate, tenant: AdminTenant, session: SessionDep
) -> GoogleCredentialRead:
    """Upload the org's service-account JSON or authorized-user token JSON (stored encrypted, never returned)."""
    return sheets_service.update_google_credentials(session, tenant, body)


@router.get("/{source_id}", response_model=DataSourceRead)
def get_source(source_id: Id, tenant: ViewerTenant, session: SessionDep) -> DataSourceRead:
    return datasource_service.read_source(session, tenant, source_id)


@router.patch("/{source_id}", response_model=DataSourceRead)
def update_source(source_id: Id, body: DataSourceUpdate, tenant: AdminTenant, session: SessionDep) -> DataSourceRead:
    return datasource_service.update_source(session, tenant, source_id, body)


@router.delete("/{source_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_source(source_id: Id, tenant: AdminTenant, session: SessionDep) -> None:
    """Delete the source with its batches and curated data."""
    datasource_service.delete_source(session, tenant, source_id)


@router.post("/{source_id}/run", response_model=JobRunRead)
def run_source(source_id: Id, tenant: EditorTenant, session: SessionDep) -> JobRunRead:
    """Ingest the source now; answers the run record (status success, failed or skipped)."""
    return run_service.run_source_now(session, tenant, source_id)


@router.get("/{source_id}/batches", response_model=Page[BatchHistoryRead])
def list_source_batches(
    source_id: Id, tenant: ViewerTenant, session: SessionDep, page: Paging
) -> Page[BatchHistoryRead]:
    """The source's batch history, newest first: status, file, row counts, who and when, and whether each batch can
    still be restored (POST /ingest/batches/{id}/restore)."""
    return batch_service.list_source_batches(session, tenant, source_id, page)
