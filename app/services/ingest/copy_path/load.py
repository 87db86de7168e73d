"""When the COPY path runs, and the first pass that profiles the rows and copies them into the text table."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.services.ingest.copy_path import raw_copy, text_table
from app.services.ingest.copy_path.parse import DIGITS_TO_NINES
from app.services.ingest.copy_path.text_table import TextTable
from app.services.ingest.readers.base import Chunk, TableReader
from app.services.ingest.transform import CountedCells, Profiler


def applies(session: Session, reader: TableReader, dry_run: bool) -> bool:
    """Postgres, the kill switch on, a real load, and a replayable reader of text cells (CSV)."""
    return (
        get_settings().INGEST_COPY_PATH
        and not dry_run
        and session.get_bind().dialect.name == "postgresql"
        and getattr(reader, "text_cells", False)
        and getattr(reader, "replayable", True)
    )


def first_pass(
    session: Session,
    reader: TableReader,
    chunk_rows: int,
    feed: Callable[[Chunk], None],
    raw: RawPass | None = None,
) -> tuple[TextTable, int]:
    """Read the file once into a new text table; returns it and the number of bad rows.

    With `raw`, a regular CSV file's bytes go straight to COPY and the profile comes from grouped cells; otherwise
    (or when the file is not regular) every chunk goes to `feed` (the profiler and the row limit) and is copied in,
    one writer thread copying chunk k while chunk k+1 is read (the database wait frees the GIL)."""
    connection = session.connection()
    table = text_table.create(connection, len(reader.header), secrets.token_hex(4))
    if raw is not None and _copied_raw(connection, table, reader, raw):
        return table, 0
    bad_rows = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="painel-copy") as writer:
        pending: Future[None] | None = None
        for chunk in reader.chunks(chunk_rows):
            feed(chunk)
            bad_rows += len(chunk.bad_rows)
            if pending is not None:
                pending.result()
            pending = writer.submit(text_table.copy_chunk, connection, table, chunk)
        if pending is not None:
            pending.result()
    connection.exec_driver_sql(f"ANALYZE {table.name}")
    return table, bad_rows


_NINES = str.maketrans("0123456789", "9999999999")


@dataclass
class RawPass:
    """What the raw COPY of a CSV file needs besides the reader: the profiler it feeds, the row limit, progress."""

    profiler: Profiler
    max_rows: int
    progress: Callable[[int], None] | None = None


def _copied_raw(connection: Connection, table: TextTable, reader: TableReader, raw: RawPass) -> bool:
    source_of = getattr(reader, "raw_source", None)
    source = source_of() if source_of is not None else None
    if source is None:
        return False
    rows = raw_copy.copy_file(connection, table, source, raw.max_rows, raw.progress)
    if rows is None:
        return False
    connection.exec_driver_sql(f"ANALYZE {table.name}")
    value = table.cell(reader.header.index(raw.profiler.mapping["value"]), alias="t")
    date = table.cell(reader.header.index(raw.profiler.mapping["date"]), alias="t")
    values, dates = _counted(connection, table, DIGITS_TO_NINES.format(value)), _counted(connection, table, date)
    raw.profiler.feed_distinct(rows, values, dates)
    # The parse needs the distinct skeletons of both columns: known now, so it does not scan for them again.
    table.skeletons[value] = values[0]
    table.skeletons[date] = sorted({cell.translate(_NINES) for cell in dates[0]})
    return True


def _counted(connection: Connection, table: TextTable, expression: str) -> CountedCells:
    """The distinct values of an expression over the text table's rows, with how often each occurs."""
    result = connection.exec_driver_sql(f"SELECT {expression}, count(*) FROM {table.name} t GROUP BY 1")
    cells: list[str] = []
    counts: list[int] = []
    for cell, count in result:
        cells.append(cell)
        counts.append(int(count))
    return cells, counts
