"""The one ingestion pipeline: any TableReader -> staging -> set-based transform into curated facts.

Two passes over the reader: the first decides each column's decimal style and date format from all of its data
(and counts rows), the second parses, stages and records rejections. The caller's transaction makes the batch
land whole or not at all.
"""

from __future__ import annotations

import gc
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.core import metrics
from app.core.config import get_settings
from app.core.errors import PayloadTooLarge, Unprocessable
from app.models import BatchStatus, DataSource, IngestionBatch, LoadMode
from app.models.base import utcnow
from app.schemas.ingest import BatchReportRead, RejectedRowRead
from app.services import freshness, rollups
from app.services.ingest import batches as batch_service
from app.services.ingest import mapping as mapping_rules
from app.services.ingest import staging
from app.services.ingest.copy_path import load as copy_load
from app.services.ingest.copy_path import text_table
from app.services.ingest.copy_path.parse import parse_into_staging
from app.services.ingest.readers.base import Chunk, TableReader
from app.services.ingest.transform import ColumnProfile, Profiler, transform_chunk
from app.services.tenancy import Tenant

log = logging.getLogger("painel.ingest")

CHUNK_ROWS = 25_000  # two chunks are alive at once (parsing and staging): this bounds memory
CHUNK_CELLS = 500_000  # ... and so does this, for wide files
MAX_COLUMNS = 1_000
REJECTED_SAMPLE = 20


@dataclass
class LoadOptions:
    mapping: dict[str, str] | None = None
    dry_run: bool = False
    replace: bool = True  # full refresh of the source; False appends (incremental SQL sources)
    file_name: str | None = None
    sha256: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    allow_empty: bool = False  # a query or sheet may legitimately return no rows; a file may not
    batch_id: int | None = None  # a `processing` batch created when a background upload was accepted
    progress: Callable[[int], None] | None = None  # told the rows read so far, after each chunk

    @property
    def mode(self) -> LoadMode:
        return LoadMode.REPLACE if self.replace else LoadMode.APPEND


def new_batch(
    session: Session,
    tenant: Tenant,
    source: DataSource,
    status: BatchStatus,
    options: LoadOptions,
    details: dict[str, Any],
) -> IngestionBatch:
    """A batch row of the source for a load with these options (flushed: it has its id)."""
    batch = IngestionBatch(
        organization_id=tenant.org_id,
        data_source_id=source.id,
        status=status,
        mode=options.mode,
        file_name=options.file_name,
        content_sha256=options.sha256,
        created_by=tenant.user_id,
        details=details,
    )
    session.add(batch)
    session.flush()
    return batch


def _check_row_limit(rows: int) -> None:
    max_rows = get_settings().MAX_UPLOAD_ROWS
    if rows > max_rows:
        raise PayloadTooLarge(
            f"The data has more than {max_rows:,} rows (MAX_UPLOAD_ROWS); split it.", code="too_many_rows"
        )


def _check_not_empty(rows: int, header: list[str], options: LoadOptions) -> None:
    if rows == 0 and not options.allow_empty:
        raise Unprocessable("The data has a header but no data rows.", code="no_data_rows", extra={"headers": header})


def _stage(session: Session, org_id: int, batch_id: int, staged, rejected) -> None:
    staging.write_staging(session, org_id, batch_id, staged)
    staging.write_rejected(session, org_id, batch_id, rejected)


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Millions of short-lived row lists trigger the cyclic collector over and over (a third of a CSV pass);
    # rows hold no cycles, so pause it for the load and let reference counting free them.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _promote(
    session: Session,
    tenant: Tenant,
    source: DataSource,
    batch: IngestionBatch,
    options: LoadOptions,
    loaded: int,
    promoted: int | None,
) -> None:
    """The batch's valid rows into facts (unless the COPY path already `promoted` them) and the rollups; a replace
    supersedes the source's other current batches."""
    if promoted is None:
        promoted = staging.promote(session, tenant, source.id, batch.id, replace=options.replace)
    else:  # the COPY path's statement wrote the facts, and on a replace the daily rollups
        staging.refresh_rollups(session, tenant, source.id, batch.id, replace=options.replace, daily_written=True)
    if promoted != loaded:
        raise RuntimeError(f"promoted {promoted} rows, expected {loaded}")
    if options.replace:
        batch_service.supersede_others(session, tenant, source.id, batch.id)


def _stage_in_python(
    session: Session,
    tenant: Tenant,
    batch: IngestionBatch | None,
    header: list[str],
    used_mapping: dict[str, str],
    profile: ColumnProfile,
    chunks: Iterable[Chunk],
    sample: list,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Parse every chunk in Python and stage it (unless a dry run); returns (rows received, rows rejected) and
    fills `sample` with the first rejections."""
    received = rejected_rows = 0
    # One writer thread: chunk k is copied into staging while chunk k+1 is parsed (the database wait
    # releases the GIL). The session is only touched by the writer until the loop ends.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="painel-stage") as writer:
        pending = None
        for chunk in chunks:
            staged, rejected = transform_chunk(header, used_mapping, profile, chunk)
            received += len(chunk.rows) + len(chunk.bad_rows)
            _check_row_limit(received)
            rejected_rows += len({line for line, *_ in rejected})
            if len(sample) < REJECTED_SAMPLE:
                sample.extend(rejected[: REJECTED_SAMPLE - len(sample)])
            if batch is not None:
                if pending is not None:
                    pending.result()
                pending = writer.submit(_stage, session, tenant.org_id, batch.id, staged, rejected)
            if progress is not None:
                progress(received)
        if pending is not None:
            pending.result()
    return received, rejected_rows


def _first_pass(
    session: Session,
    reader: TableReader,
    header: list[str],
    options: LoadOptions,
    chunk_rows: int,
    profiler: Profiler,
) -> tuple[text_table.TextTable | None, int, Iterable[Chunk], dict[str, float]]:
    """Profile the columns: on the COPY path the same read fills the text table (returned with its bad rows);
    otherwise the chunks the second pass parses are returned."""

    copying = copy_load.applies(session, reader, options.dry_run)

    def feed(chunk: Chunk) -> None:
        profiler.feed(header, chunk)
        _check_row_limit(profiler.rows)
        if copying and options.progress is not None:
            options.progress(profiler.rows)  # the COPY path reads the file once: this read is the progress

    chunks: Iterable[Chunk] = ()
    if copying:
        started = time.perf_counter()
        raw = copy_load.RawPass(profiler, get_settings().MAX_UPLOAD_ROWS, options.progress)
        table, bad_rows = copy_load.first_pass(session, reader, chunk_rows, feed, raw)
        _check_row_limit(profiler.rows)
        _check_not_empty(profiler.rows, header, options)
        return table, bad_rows, chunks, {"read_and_copy": time.perf_counter() - started}
    if getattr(reader, "replayable", True):
        for chunk in reader.chunks(chunk_rows):
            feed(chunk)
        _check_not_empty(profiler.rows, header, options)
        return None, 0, reader.chunks(chunk_rows), {}
    # Read once (a customer's database): the first chunk decides the column styles.
    stream = reader.chunks(chunk_rows)
    first = next(stream, None)
    if first is not None:
        profiler.feed(header, first)
    return None, 0, itertools.chain([first] if first is not None else [], stream), {}


@metrics.observe_batch
def load_table(
    session: Session, tenant: Tenant, source: DataSource | None, reader: TableReader, options: LoadOptions
) -> BatchReportRead:
    """Run the pipeline over a reader; returns the batch report (nothing is written on a dry run)."""
    with _gc_paused():
        return _load(session, tenant, source, reader, options)


def _load(
    session: Session, tenant: Tenant, source: DataSource | None, reader: TableReader, options: LoadOptions
) -> BatchReportRead:
    header = list(reader.header)
    if len(header) > MAX_COLUMNS:
        raise Unprocessable(
            f"The data has {len(header):,} columns; at most {MAX_COLUMNS:,} are accepted.", code="too_many_columns"
        )
    chunk_rows = max(1_000, min(CHUNK_ROWS, CHUNK_CELLS // max(1, len(header))))
    used_mapping = mapping_rules.detect_mapping(header, options.mapping)
    profiler = Profiler(used_mapping)

    table, bad_rows, chunks, timings = _first_pass(session, reader, header, options, chunk_rows, profiler)
    profile = profiler.profile()
    detected = {
        **reader.info(),
        "header_line": reader.header_line,
        "decimal_style": profile.number_style,
        "date_format": profile.date_format,
    }

    batch = None
    details = {"detected": detected, "mapping": used_mapping, "header": header, **options.details}
    if options.batch_id is not None:
        # Accepted earlier and committed: its row is only written at the end, so the progress updates (another
        # transaction) never wait for this one.
        batch = batch_service.get_batch(session, tenant, options.batch_id)
    elif not options.dry_run:
        if source is None:  # pragma: no cover - only a dry run may have no source yet
            raise RuntimeError("a load needs its data source")
        batch = new_batch(session, tenant, source, BatchStatus.LOADED, options, details)

    sample: list = []
    promoted: int | None = None
    if table is not None and batch is not None and source is not None:
        started = time.perf_counter()
        if options.replace:
            staging.clear_source_facts(session, tenant, source.id)
            rollups.remove_source(session, tenant, source.id)
        parsed = parse_into_staging(
            session.connection(),
            table,
            header,
            used_mapping,
            profile,
            tenant.org_id,
            batch.id,
            source.id,
            daily_rollups=options.replace,
        )
        text_table.drop(session.connection(), table)
        timings["parse_stage_and_facts"] = time.perf_counter() - started
        received, rejected_rows, promoted = profiler.rows, bad_rows + parsed.invalid_rows, parsed.promoted
    else:
        received, rejected_rows = _stage_in_python(
            session, tenant, batch, header, used_mapping, profile, chunks, sample, options.progress
        )

    _check_not_empty(received, header, options)
    loaded = received - rejected_rows
    if batch is not None and source is not None:
        started = time.perf_counter()
        _promote(session, tenant, source, batch, options, loaded, promoted)
        if table is not None:
            timings["rollups"] = time.perf_counter() - started
            log.info("COPY path of %s rows: %s", received, ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
        batch.rows_received, batch.rows_loaded, batch.rows_rejected = received, loaded, rejected_rows
        batch.status, batch.mode, batch.details = BatchStatus.LOADED, options.mode, details
        batch.rows_processed, batch.finished_at = received, utcnow()
        freshness.bump(session, tenant)
        session.flush()
    if batch is not None:
        return batch_service.batch_report(session, tenant, batch)
    return BatchReportRead(
        batch_id=None,
        data_source_id=source.id if source else None,
        status="dry_run",
        mode=options.mode.value,
        dry_run=True,
        duplicate=False,
        rows_received=received,
        rows_loaded=loaded,
        rows_rejected=rejected_rows,
        detected=detected,
        mapping=used_mapping,
        rejected_sample=[
            RejectedRowRead(line=line, column=column, value=value, reason=reason)
            for line, column, value, reason in sample
        ],
    )
