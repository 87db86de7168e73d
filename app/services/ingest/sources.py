"""Loading the sources that are fetched rather than uploaded (SQL queries, Google Sheets ranges) through the
one pipeline, within a deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import Unprocessable
from app.models import DataSource, LoadMode, SourceType
from app.schemas.datasources import SqlConfig
from app.schemas.ingest import BatchReportRead
from app.services import connections
from app.services import datasources as datasource_service
from app.services import sheets as sheets_service
from app.services.ingest import batches as batch_service
from app.services.ingest.pipeline import LoadOptions, load_table
from app.services.ingest.readers.base import DEFAULT_CHUNK_SIZE, Chunk, TableReader
from app.services.ingest.readers.sheets_reader import SheetsReader
from app.services.ingest.readers.sql_reader import SqlReader
from app.services.tenancy import Tenant


class LoadTimeout(Exception):
    """A load ran past its deadline (JOB_TIMEOUT_SECONDS); its transaction is rolled back."""


class _Deadline:
    """Wraps a reader so a run past its deadline stops between chunks."""

    def __init__(self, reader: TableReader, deadline: float) -> None:
        self._reader, self._deadline = reader, deadline
        self.header, self.header_line = reader.header, reader.header_line
        self.replayable = getattr(reader, "replayable", True)

    def info(self) -> dict[str, object]:
        return self._reader.info()

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Chunk]:
        for chunk in self._reader.chunks(size):
            if time.monotonic() > self._deadline:
                raise LoadTimeout()
            yield chunk


def ingest_source(
    session: Session,
    tenant: Tenant,
    source: DataSource,
    *,
    deadline: float | None = None,
    mode: LoadMode = LoadMode.REPLACE,
) -> BatchReportRead | None:
    """Load a source by its type through the one pipeline; None for file sources (nothing to fetch). `mode` applies
    to Sheets (SQL sources replace, or append when incremental)."""
    deadline = deadline or time.monotonic() + get_settings().JOB_TIMEOUT_SECONDS
    if source.type is SourceType.SQL:
        return _ingest_sql(session, tenant, source, deadline)
    if source.type is SourceType.GOOGLE_SHEETS:
        config = source.config_json
        values, first_row = sheets_service.read_range(session, tenant, config["spreadsheet_id"], config["range"])
        reader = SheetsReader(
            values, spreadsheet_id=config["spreadsheet_id"], range_name=config["range"], first_row=first_row
        )
        return load_table(
            session,
            tenant,
            source,
            _Deadline(reader, deadline),
            LoadOptions(
                mapping=config.get("mapping"),
                allow_empty=True,
                replace=mode is LoadMode.REPLACE,
                details={"source": "google_sheets"},
            ),
        )
    return None


def _ingest_sql(session: Session, tenant: Tenant, source: DataSource, deadline: float) -> BatchReportRead:
    config = source.config_json
    url = datasource_service.connection_url(source)
    checked = connections.check_url(url)  # the same rules when it runs as when it was saved
    query = datasource_service.check_sql_config(
        SqlConfig(sqlalchemy_url=url, query=config["query"], incremental_column=config.get("incremental_column"))
    )
    column = config.get("incremental_column")
    last = batch_service.last_incremental_value(session, tenant, source.id) if column else None
    remaining_ms = max(1000, int((deadline - time.monotonic()) * 1000))
    engine = connections.open_engine(checked, statement_timeout_ms=remaining_ms)
    try:
        return _load_sql(session, tenant, source, engine, query, column, last, deadline)
    except DBAPIError as exc:
        raise connections.run_failure(checked, exc, timeout_ms=remaining_ms) from None
    finally:
        engine.dispose()


def _load_sql(
    session: Session,
    tenant: Tenant,
    source: DataSource,
    engine,
    query: str,
    column: str | None,
    last: Any,
    deadline: float,
) -> BatchReportRead:
    binds: dict[str, Any] = {}
    if column:
        # Incremental: only rows above the last loaded maximum, appended in order.
        quoted = engine.dialect.identifier_preparer.quote(column)
        query = f"SELECT * FROM ({query}) AS painel_src"
        if last is not None:
            query += f" WHERE {quoted} > :painel_last"
            binds["painel_last"] = last
        query += f" ORDER BY {quoted}"
    reader = SqlReader(engine, query, binds, track_max_of=column)
    report = load_table(
        session,
        tenant,
        source,
        _Deadline(reader, deadline),
        LoadOptions(
            mapping=source.config_json.get("mapping"),
            replace=not column,
            allow_empty=True,
            details={"source": "sql", "incremental_from": _jsonable(last)},
        ),
    )
    if column and report.batch_id:
        newest = reader.max_value if reader.max_value is not None else last
        batch_service.set_incremental_value(session, tenant, report.batch_id, _jsonable(newest))
    return report


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def ingest_sheet(
    session: Session,
    tenant: Tenant,
    spreadsheet_id: str,
    range_name: str,
    *,
    data_source_id: int | None = None,
    name: str | None = None,
    mapping: dict[str, str] | None = None,
    mode: LoadMode = LoadMode.REPLACE,
) -> BatchReportRead:
    """POST /ingest/sheets: read a range into a google_sheets source (created when none is given); `mode` replaces
    the source's data or appends to it."""
    config = {"spreadsheet_id": spreadsheet_id, "range": range_name, "mapping": mapping}
    if data_source_id is not None:
        source = datasource_service.get_source(session, tenant, data_source_id, lock=True)
        if source.type is not SourceType.GOOGLE_SHEETS:
            raise Unprocessable(
                f"Data source {source.id} is a '{source.type.value}' source, not google_sheets",
                code="wrong_source_type",
            )
        source.config_json = {**source.config_json, **{k: v for k, v in config.items() if v is not None}}
    else:
        source_name = (name or f"Sheets {spreadsheet_id} {range_name}")[:200]
        source = datasource_service.get_or_create_source(session, tenant, SourceType.GOOGLE_SHEETS, source_name)
        source.config_json = config
    session.flush()
    report = ingest_source(session, tenant, source, mode=mode)
    if report is None:  # pragma: no cover - a google_sheets source always loads
        raise RuntimeError("a Sheets source produced no batch")
    return report
