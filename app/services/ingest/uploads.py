"""CSV and XLSX uploads: size and identity checks, the target source, then the one pipeline (in the request, or in
the background for large uploads)."""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, cast

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import PayloadTooLarge, Unprocessable
from app.core.limits import json_text_problem
from app.models import BatchStatus, DataSource, LoadMode, SourceType
from app.schemas.ingest import BatchRead, BatchReportRead
from app.services import datasources as datasource_service
from app.services.ingest import background
from app.services.ingest import batches as batch_service
from app.services.ingest.pipeline import LoadOptions, load_table, new_batch
from app.services.ingest.readers import ReadOptions, open_reader
from app.services.tenancy import Tenant

UPLOAD_TYPES = {"csv": SourceType.CSV_UPLOAD, "xlsx": SourceType.XLSX_UPLOAD}
FILE_SOURCE_TYPES = set(UPLOAD_TYPES.values())


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """The `mapping` form field: a JSON object of canonical field -> column header."""
    if text is None or not text.strip():
        return None
    if (problem := json_text_problem(text.encode())) is not None:
        raise Unprocessable(f"mapping: {problem}", code="invalid_mapping")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unprocessable(f"mapping is not valid JSON: {exc.msg}", code="invalid_mapping") from exc
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise Unprocessable(
            'mapping must be a JSON object of strings, e.g. {"value": "Valor (R$)"}', code="invalid_mapping"
        )
    return value


def _sha256_and_size(fileobj: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    fileobj.seek(0)
    while block := fileobj.read(1 << 20):
        digest.update(block)
        size += len(block)
    fileobj.seek(0)
    return digest.hexdigest(), size


def _target_source(
    session: Session,
    tenant: Tenant,
    kind: str,
    data_source_id: int | None,
    name: str | None,
    file_name: str,
    dry_run: bool,
) -> DataSource | None:
    if data_source_id is not None:
        source = datasource_service.get_source(session, tenant, data_source_id, lock=not dry_run)
        if source.type not in FILE_SOURCE_TYPES:
            raise Unprocessable(
                f"Data source {source.id} is a '{source.type.value}' source; files can only be "
                "uploaded to csv_upload or xlsx_upload sources.",
                code="wrong_source_type",
            )
        return source
    source_name = (name or file_name).strip()[:200] or "upload"
    if dry_run:
        return datasource_service.find_by_name(session, tenant, UPLOAD_TYPES[kind], source_name)
    return datasource_service.get_or_create_source(session, tenant, UPLOAD_TYPES[kind], source_name)


@dataclass(frozen=True)
class UploadRequest:
    """What a client sent with a file, besides the file itself."""

    kind: str  # "csv" or "xlsx"
    file_name: str
    data_source_id: int | None = None
    name: str | None = None
    mapping: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    dry_run: bool = False
    mode: LoadMode = LoadMode.REPLACE
    respond_async: bool = False  # the client sent `Prefer: respond-async`
    synchronous: bool = False  # never in the background, whatever the size (scripts such as the demo seed)


@dataclass
class UploadOutcome:
    """A synchronous upload's report (created: a new batch, else the identical file was already current), or a
    background load's accepted batch and the job to start once the request's transaction has committed."""

    report: BatchReportRead | None = None
    created: bool = False
    accepted: BatchRead | None = None
    start: Callable[[], None] | None = None


def _runs_in_background(request: UploadRequest, size: int) -> bool:
    threshold = get_settings().async_upload_bytes
    if request.dry_run or request.synchronous:
        return False
    return request.respond_async or (threshold is not None and size > threshold)


def ingest_upload(session: Session, tenant: Tenant, fileobj: IO[bytes], request: UploadRequest) -> UploadOutcome:
    """Ingest one uploaded file. The same file again for the same source (same reading options; in replace mode
    its only current batch, in append mode any current one) is answered with the existing batch and changes
    nothing. Large uploads, or on request, are accepted as a `processing` batch and load in the background."""
    explicit_mapping = parse_mapping(request.mapping)
    sha256, size = _sha256_and_size(fileobj)
    limit = get_settings().max_upload_bytes
    if size > limit:
        raise PayloadTooLarge(
            f"The file is {size / 2**20:.1f} MB; the limit is {limit // 2**20} MB (MAX_UPLOAD_MB).",
            code="file_too_large",
        )
    in_background = _runs_in_background(request, size)
    binary = cast(BinaryIO, fileobj)  # an upload's spooled file: the readers only read and seek it
    reader_options = ReadOptions(sheet=request.sheet or None, header_row=request.header_row)
    # A background load reads the file later; in a request, refusals come before any source is created.
    reader = None if in_background else open_reader(request.kind, binary, reader_options)
    source = _target_source(
        session, tenant, request.kind, request.data_source_id, request.name, request.file_name, request.dry_run
    )
    reading: dict[str, Any] = {"mapping": explicit_mapping, "sheet": request.sheet or None}
    if request.header_row is not None:
        reading["header_row"] = request.header_row
    if source is not None and not request.dry_run:
        existing = batch_service.duplicate_of(session, tenant, source.id, sha256, reading, request.mode)
        if existing is not None:
            return UploadOutcome(report=batch_service.batch_report(session, tenant, existing, duplicate=True))
    options = LoadOptions(
        mapping=explicit_mapping,
        dry_run=request.dry_run,
        replace=request.mode is LoadMode.REPLACE,
        file_name=request.file_name[:255],
        sha256=sha256,
        details={"request": reading},
    )
    if reader is not None:
        return UploadOutcome(report=load_table(session, tenant, source, reader, options), created=True)
    if source is None:  # pragma: no cover - only a dry run has no source, and dry runs never go to the background
        raise RuntimeError("a background load needs its data source")
    return _accept(session, tenant, source, fileobj, request, options, reader_options)


def _accept(
    session: Session,
    tenant: Tenant,
    source: DataSource,
    fileobj: IO[bytes],
    request: UploadRequest,
    options: LoadOptions,
    reader_options: ReadOptions,
) -> UploadOutcome:
    """Record a `processing` batch (committed with the request) and prepare its background load."""
    batch = new_batch(session, tenant, source, BatchStatus.PROCESSING, options, dict(options.details))
    path = background.spool_to_disk(fileobj, request.kind)
    # The load starts only after the commit; if the request's transaction rolls back instead, drop the copy.
    event.listen(session, "after_soft_rollback", lambda *_: background.discard(path), once=True)
    load = background.BackgroundLoad(tenant, batch.id, source.id, request.kind, path, options, reader_options)
    context = contextvars.copy_context()  # the request's id and identity, for the load's logs and audit events
    return UploadOutcome(accepted=BatchRead.model_validate(batch), start=lambda: background.submit(load, context))
