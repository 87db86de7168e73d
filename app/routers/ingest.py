"""File uploads into the pipeline, and the batches they produce."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Header, Query, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.models import LoadMode
from app.routers.caching import EXPORT_RESPONSES, ExportDep, page_or_file
from app.routers.deps import MAX_ID, EditorTenant, Id, OptionalId, Paging, SessionDep, ViewerTenant, page_params
from app.routers.problems import problem_responses
from app.schemas.common import Page, PageParams
from app.schemas.ingest import BatchPreviewRead, BatchRead, BatchReportRead, RejectedRowRead, SheetsIngestRequest
from app.services.ingest import batches as batch_service
from app.services.ingest import restores as restore_service
from app.services.ingest import sources as source_service
from app.services.ingest import uploads as upload_service
from app.services.ingest.uploads import UploadRequest
from app.services.tenancy import Tenant

router = APIRouter(prefix="/ingest", tags=["ingest"])

SourceIdForm = Annotated[
    int | None,
    Form(ge=1, le=MAX_ID, description="Load into this csv_upload/xlsx_upload source (else the source named `name`)"),
]
MAPPING_HELP = 'JSON: canonical field -> column header, e.g. {"date": "Data", "value": "Valor (R$)", "uf": "Estado"}'
MODE_HELP = (
    "`replace` (default): the file's rows become the source's only data; earlier batches are superseded (and can be "
    "restored). `append`: the file's rows are added to the source's current data; earlier batches stay current."
)
HEADER_ROW_HELP = (
    "The header's line (CSV) or row (XLSX), 1-based, as reported in `detected.header_line`; lines above it are "
    "ignored. Default: detected (title lines above the header are skipped)."
)
PREFER_HELP = (
    "`respond-async`: answer 202 at once and load in the background (also done for files over ASYNC_UPLOAD_MB); "
    "poll the batch at `Location` until its status is `loaded` or `failed`. Ignored on a dry run."
)
ModeForm = Annotated[LoadMode, Form(description=MODE_HELP)]
HeaderRowForm = Annotated[int | None, Form(ge=1, le=1_000_000, description=HEADER_ROW_HELP)]
PreferHeader = Annotated[str | None, Header(description=PREFER_HELP)]
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same file was already current in this source: nothing changed", "model": BatchReportRead},
    202: {
        "description": "Accepted: loading in the background. `Location` is the batch (GET it for status, progress "
        "and error).",
        "model": BatchRead,
        "headers": {"Location": {"description": "/ingest/batches/{id}", "schema": {"type": "string"}}},
    },
    **problem_responses(415),
}


def _wants_async(prefer: str | None) -> bool:
    """RFC 7240: `Prefer: respond-async` (among other preferences, any case)."""
    tokens = (part.split(";")[0].split("=")[0].strip().lower() for part in (prefer or "").split(","))
    return "respond-async" in tokens


def _upload(
    tenant: Tenant, session: Session, background: BackgroundTasks, file: UploadFile, request: UploadRequest
) -> JSONResponse:
    outcome = upload_service.ingest_upload(session, tenant, file.file, request)
    if outcome.accepted is not None and outcome.start is not None:
        background.add_task(outcome.start)  # runs after the response, so after the batch row was committed
        headers = {"Location": f"/ingest/batches/{outcome.accepted.id}"}
        if request.respond_async:
            headers["Preference-Applied"] = "respond-async"
        return JSONResponse(outcome.accepted.model_dump(mode="json"), status_code=202, headers=headers)
    report = outcome.report
    if report is None:  # pragma: no cover - an upload either reports or is accepted
        raise RuntimeError("the upload neither reported nor was accepted")
    return JSONResponse(report.model_dump(mode="json"), status_code=201 if outcome.created else 200)


@router.post("/csv", response_model=BatchReportRead, status_code=201, responses=UPLOAD_RESPONSES)
def upload_csv(
    tenant: EditorTenant,
    session: SessionDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File()],
    data_source_id: SourceIdForm = None,
    name: Annotated[str | None, Form()] = None,
    mapping: Annotated[str | None, Form(description=MAPPING_HELP)] = None,
    mode: ModeForm = LoadMode.REPLACE,
    header_row: HeaderRowForm = None,
    dry_run: Annotated[bool, Form()] = False,
    prefer: PreferHeader = None,
):
    """Upload a CSV (any of UTF-8/cp1252, `,` `;` tab `|`, decimal comma or point) into a source."""
    request = UploadRequest(
        "csv",
        file.filename or "upload.csv",
        data_source_id=data_source_id,
        name=name,
        mapping=mapping,
        header_row=header_row,
        dry_run=dry_run,
        mode=mode,
        respond_async=_wants_async(prefer),
    )
    return _upload(tenant, session, background, file, request)


@router.post("/xlsx", response_model=BatchReportRead, status_code=201, responses=UPLOAD_RESPONSES)
def upload_xlsx(
    tenant: EditorTenant,
    session: SessionDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File()],
    data_source_id: SourceIdForm = None,
    name: Annotated[str | None, Form()] = None,
    mapping: Annotated[str | None, Form(description=MAPPING_HELP)] = None,
    sheet: Annotated[str | None, Form()] = None,
    mode: ModeForm = LoadMode.REPLACE,
    header_row: HeaderRowForm = None,
    dry_run: Annotated[bool, Form()] = False,
    prefer: PreferHeader = None,
):
    """Upload an Excel workbook (first sheet, or `sheet`) into a source."""
    request = UploadRequest(
        "xlsx",
        file.filename or "upload.xlsx",
        data_source_id=data_source_id,
        name=name,
        mapping=mapping,
        sheet=sheet,
        header_row=header_row,
        dry_run=dry_run,
        mode=mode,
        respond_async=_wants_async(prefer),
    )
    return _upload(tenant, session, background, file, request)


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
        mode=body.mode,
    )


@router.get("/batches", response_model=Page[BatchRead])
def list_batches(
    tenant: ViewerTenant, session: SessionDep, page: Paging, data_source_id: OptionalId = None
) -> Page[BatchRead]:
    """The organization's batches, newest first (optionally of one source)."""
    return batch_service.list_batches(session, tenant, page, data_source_id)


@router.get("/batches/{batch_id}", response_model=BatchRead)
def get_batch(batch_id: Id, tenant: ViewerTenant, session: SessionDep) -> BatchRead:
    """One batch: its status (`processing` while a background load runs, with `rows_processed`), counts, error."""
    return batch_service.read_batch(session, tenant, batch_id)


@router.post("/batches/{batch_id}/restore", response_model=BatchRead)
def restore_batch(batch_id: Id, tenant: EditorTenant, session: SessionDep) -> BatchRead:
    """Make an earlier batch its source's current data again: the source's facts become exactly that batch's valid
    rows, its other current batches are superseded. 409 when retention removed its rows or it never loaded."""
    return restore_service.restore_batch(session, tenant, batch_id)


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
