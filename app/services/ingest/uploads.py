"""CSV and XLSX uploads: size and identity checks, the target source, then the one pipeline."""

from __future__ import annotations

import hashlib
import json
from typing import IO, BinaryIO, cast

from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import PayloadTooLarge, Unprocessable
from app.core.limits import json_text_problem
from app.models import DataSource, SourceType
from app.schemas.ingest import BatchReportRead
from app.services import datasources as datasource_service
from app.services.ingest import batches as batch_service
from app.services.ingest.pipeline import LoadOptions, load_table
from app.services.ingest.readers import CsvReader, XlsxReader
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


def ingest_upload(
    session: Session,
    tenant: Tenant,
    kind: str,
    fileobj: IO[bytes],
    file_name: str,
    *,
    data_source_id: int | None = None,
    name: str | None = None,
    mapping: str | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
) -> tuple[BatchReportRead, bool]:
    """Ingest one uploaded file; returns (report, created). The same file again for the same source is
    answered with the existing batch (created=False) and changes nothing."""
    explicit_mapping = parse_mapping(mapping)
    sha256, size = _sha256_and_size(fileobj)
    limit = get_settings().max_upload_bytes
    if size > limit:
        raise PayloadTooLarge(
            f"The file is {size / 2**20:.1f} MB; the limit is {limit // 2**20} MB (MAX_UPLOAD_MB).",
            code="file_too_large",
        )
    binary = cast(BinaryIO, fileobj)  # an upload's spooled file: the readers only read and seek it
    reader = CsvReader(binary) if kind == "csv" else XlsxReader(binary, sheet=sheet or None)
    source = _target_source(session, tenant, kind, data_source_id, name, file_name, dry_run)
    if source is not None and not dry_run:
        existing = batch_service.current_batch_with_content(session, tenant, source.id, sha256)
        if existing is not None and existing.details.get("request") == {
            "mapping": explicit_mapping,
            "sheet": sheet or None,
        }:
            return batch_service.batch_report(session, tenant, existing, duplicate=True), False
    options = LoadOptions(
        mapping=explicit_mapping,
        dry_run=dry_run,
        file_name=file_name[:255],
        sha256=sha256,
        details={"request": {"mapping": explicit_mapping, "sheet": sheet or None}},
    )
    return load_table(session, tenant, source, reader, options), True
