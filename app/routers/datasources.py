"""Data sources: CRUD, connection test, run now, and the org's Google credential."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.routers.deps import AdminTenant, EditorTenant, Id, SessionDep, ViewerTenant
from app.schemas.datasources import (
    ConnectionTestIn,
    ConnectionTestOut,
    DataSourceCreate,
    DataSourceRead,
    DataSourceUpdate,
    GoogleCredentialIn,
    GoogleCredentialOut,
    JobRunRead,
)
from app.services import connections, rate_limits
from app.services import datasources as datasource_service
from app.services import runs as run_service
from app.services import sheets as sheets_service

router = APIRouter(prefix="/datasources", tags=["datasources"])


@router.get("", response_model=list[DataSourceRead])
def list_sources(tenant: ViewerTenant, session: SessionDep):
    return [datasource_service.to_read(s) for s in datasource_service.list_sources(session, tenant)]


@router.post("", response_model=DataSourceRead, status_code=status.HTTP_201_CREATED)
def create_source(body: DataSourceCreate, tenant: AdminTenant, session: SessionDep):
    """Create a source; a SQL URL's password is stored encrypted and shown masked."""
    return datasource_service.to_read(datasource_service.create(session, tenant, body.model_dump()))


@router.post("/test", response_model=ConnectionTestOut)
def test_connection(body: ConnectionTestIn, tenant: AdminTenant):
    """Connect and run SELECT 1 (allow-listed dialects and parameters, no private hosts, no app database)."""
    rate_limits.check("datasource-test", tenant.org_id)
    return connections.test_connection(body.sqlalchemy_url)


@router.put("/google-credentials", response_model=GoogleCredentialOut)
def put_google_credentials(body: GoogleCredentialIn, tenant: AdminTenant, session: SessionDep):
    """Upload the org's service-account JSON or authorized-user token JSON (stored encrypted, never returned)."""
    return sheets_service.save_credentials(session, tenant, body.credentials)


@router.get("/{source_id}", response_model=DataSourceRead)
def get_source(source_id: Id, tenant: ViewerTenant, session: SessionDep):
    return datasource_service.to_read(datasource_service.get_source(session, tenant, source_id))


@router.patch("/{source_id}", response_model=DataSourceRead)
def update_source(source_id: Id, body: DataSourceUpdate, tenant: AdminTenant, session: SessionDep):
    return datasource_service.to_read(
        datasource_service.update(session, tenant, source_id, body.model_dump(exclude_unset=True))
    )


@router.delete("/{source_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_source(source_id: Id, tenant: AdminTenant, session: SessionDep) -> None:
    """Delete the source with its batches and curated data."""
    datasource_service.delete(session, tenant, source_id)


@router.post("/{source_id}/run", response_model=JobRunRead)
def run_source(source_id: Id, tenant: EditorTenant, session: SessionDep):
    """Ingest the source now; answers the run record (status success, failed or skipped)."""
    return run_service.run_now(session, tenant, source_id)
