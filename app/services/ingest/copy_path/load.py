"""When the COPY path runs, and the first pass that profiles the rows and copies them into the text table."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.services.ingest.copy_path import text_table
from app.services.ingest.copy_path.text_table import TextTable
from app.services.ingest.readers.base import Chunk, TableReader


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
    session: Session, reader: TableReader, chunk_rows: int, feed: Callable[[Chunk], None]
) -> tuple[TextTable, int]:
    """Read the file once: every chunk goes to `feed` (the profiler and the row limit) and is copied into a new
    text table; returns it and the number of bad rows. One writer thread: chunk k is copied while chunk k+1 is
    read (the database wait frees the GIL)."""
    connection = session.connection()
    table = text_table.create(connection, len(reader.header), secrets.token_hex(4))
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
