"""The per-batch text table: one text column per CSV column plus the line number, filled by COPY chunk by chunk.

A record the reader could not shape (a bad row) is kept with its preview and reason and no cells.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import Connection

from app.core.db import driver_connection
from app.services.ingest.readers.base import Chunk


@dataclass(frozen=True)
class TextTable:
    """A temporary table of this transaction: line_no, bad_preview, bad_reason ('' for a good row), c0..cN-1."""

    name: str
    width: int
    skeletons: dict[str, list[str]] = field(default_factory=dict)
    """Per cell expression (`t.c3`): every distinct skeleton of its cells, when already known (raw COPY's profile)."""

    def cell(self, index: int, alias: str = "t") -> str:
        return f"{alias}.c{index}"

    @property
    def cells(self) -> list[str]:
        return [f"c{i}" for i in range(self.width)]


def create(connection: Connection, width: int, suffix: str) -> TextTable:
    """A fresh, empty text table for `width` columns (dropped at commit, or earlier by drop())."""
    table = TextTable(f"painel_text_{suffix}", width)
    columns = "".join(f", c{i} text" for i in range(width))
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE {table.name} (line_no integer NOT NULL, bad_preview text NOT NULL DEFAULT '', "
        f"bad_reason text NOT NULL DEFAULT ''{columns}) "
        "ON COMMIT DROP"
    )
    return table


def copy_chunk(connection: Connection, table: TextTable, chunk: Chunk) -> None:
    """Append one chunk (rows and bad rows) with COPY; every field is quoted, so an empty cell stays ''."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerows([line, "", "", *row] for line, row in zip(chunk.line_numbers, chunk.rows, strict=True))
    empty = [""] * table.width
    writer.writerows([line, preview, reason, *empty] for line, preview, reason in chunk.bad_rows)
    buffer.seek(0)
    with driver_connection(connection).cursor() as cursor:
        cursor.copy_expert(f"COPY {table.name} FROM STDIN WITH (FORMAT csv)", buffer)


def drop(connection: Connection, table: TextTable) -> None:
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
