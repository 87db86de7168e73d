"""File uploads into the pipeline, and the batches they produce."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse

from app.routers.caching import EXPORT_RESPONSES, ExportDep, page_or_file
from app.routers.deps import MAX_ID, EditorTenant, Id, OptionalId, Paging, SessionDep, ViewerTenant, page_params
from app.routers.problems import problem_responses
from app.schemas.common import Page, PageParams
from app.schemas.ingest import BatchPreviewRead, BatchRead, BatchReportRead, RejectedRowRead, SheetsIngestRequest
from app.services.ingest import batches as batch_service
from app.services.ingest import sources as source_service
from app.services.ingest import uploads as upload_service

router = APIRouter(prefix="/ingest", tags=["ingest"])

SourceIdForm = Annotated[int | None, Form(ge=1, le=MAX_ID, description="Append to this source (else by name)")]
MAPPING_HELP = 'JSON: canonical field -> column header, e.g. {"date": "Data", "value": "Valor (R$)", "uf": "Estado"}'


def _upload(kind: str, tenant, session, file: UploadFile, data_source_id, name, mapping, sheet, dry_run):
    report, created = upload_service.ingest_upload(
        session,
        tenant,
        kind,
        file.file,
        file.filename or f"upload.{kind}",
        data_source_id=data_source_id,
        name=name,
        mapping=mapping,
        sheet=sheet,
        dry_run=dry_run,
    )
    return JSONResponse(report.model_dump(mode="json"), status_code=201 if created else 200)


@router.post(
    "/csv",
    response_model=BatchReportRead,
    status_code=201,
    responses={
        200: {"description": "The same file was already in this source", "model": BatchReportRead},
        **problem_responses(415),
    },
)
def upload_csv(
    tenant: EditorTenant,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    data_source_id: SourceIdForm = None,
    name: Annotated[str | None, Form()] = None,
    mapping: Annotated[str | None, Form(description=MAPPING_HELP)] = None,
    dry_run: Annotated[bool, Form()] = False,
):
    """Upload a CSV (any of UTF-8/cp1252, `,` `;` tab `|`, decimal comma or point) into a source."""
    return _upload("csv", tenant, session, file, data_source_id, name, mapping, None, dry_run)


@router.post(
    "/xlsx",
    response_model=BatchReportRead,
    status_code=201,
    responses={
        200: {"description": "The same file was already in this source", "model": BatchReportRead},
        **problem_responses(415),
    },
)
def upload_xlsx(
    tenant: EditorTenant,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    data_source_id: SourceIdForm = None,
    name: Annotated[str | None, Form()] = None,
    mapping: Annotated[str | None, Form(description=MAPPING_HELP)] = None,
    sheet: Annotated[str | None, Form()] = None,
    dry_run: Annotated[bool, Form()] = False,
):
    """Upload an Excel workbook (first sheet, or `sheet`) into a source."""
    return _upload("xlsx", tenant, session, file, data_source_id, name, mapping, sheet, dry_run)


@router.post("/sheets", response_model=BatchReportRead, status_code=201)
def ingest_sheets(body: SheetsIngestRequest, tenant: EditorTenant, session: SessionDep) -> BatchReportRead:
    """Read a Google Sheets range (first row = header) into a google_sheets source."""
    return source_service.ingest_sheet(
        session,
        tenant,
        body.spreadsheet_id,
        body.range,
        data_source_id=body.data_source_id,
        name=body.name,
        mapping=body.mapping,
    )


@router.get("/batches", response_model=Page[BatchRead])
def list_batches(
    tenant: ViewerTenant, session: SessionDep, page: Paging, data_source_id: OptionalId = None
) -> Page[BatchRead]:
    """The organization's batches, newest first (optionally of one source)."""
    return batch_service.list_batches(session, tenant, page, data_source_id)


@router.get("/batches/{batch_id}", response_model=BatchRead)
def get_batch(batch_id: Id, tenant: ViewerTenant, session: SessionDep) -> BatchRead:
    return batch_service.read_batch(session, tenant, batch_id)


ErrorsPaging = Annotated[PageParams, Depends(page_params(default=100, maximum=1000))]


@router.get("/batches/{batch_id}/errors", response_model=Page[RejectedRowRead], responses=EXPORT_RESPONSES)
def list_batch_errors(batch_id: Id, tenant: ViewerTenant, session: SessionDep, page: ErrorsPaging, export: ExportDep):
    """Every rejected row of the batch (line, column, value, reason), paginated; with format=csv or xlsx, all of
    them in one file (limit and offset do not apply)."""
    return page_or_file(batch_service.batch_errors(session, tenant, batch_id, page, export))


@router.get("/batches/{batch_id}/preview", response_model=BatchPreviewRead)
def get_batch_preview(
    batch_id: Id, tenant: ViewerTenant, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> BatchPreviewRead:
    """The first rows of the batch as staged (raw) and as curated."""
    return batch_service.get_batch_preview(session, tenant, batch_id, limit)
