"""A Google Sheets range as a table (first row = header), read through gspread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.services.ingest.readers.base import DEFAULT_CHUNK_SIZE, Chunk, clean_header


class SheetsReader:
    """Values of one range as returned by the Sheets API (unformatted: numbers as numbers, dates as serials)."""

    replayable = True

    def __init__(self, values: list[list[Any]], *, spreadsheet_id: str, range_name: str, first_row: int = 1) -> None:
        rows = [row for row in values]
        while rows and not any(cell not in (None, "") for cell in rows[0]):
            rows.pop(0)
            first_row += 1
        self.header = clean_header(rows[0]) if rows else []
        self.header_line = first_row
        self._rows = rows[1:]
        self._first_data_row = first_row + 1
        self._info = {"spreadsheet_id": spreadsheet_id, "range": range_name}

    def info(self) -> dict[str, object]:
        return dict(self._info)

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Chunk]:
        width = len(self.header)
        chunk = Chunk()
        for offset, row in enumerate(self._rows):
            if not any(cell not in (None, "") for cell in row):
                continue
            line = self._first_data_row + offset
            extra = [cell for cell in row[width:] if cell not in (None, "")]
            if extra:
                chunk.bad_rows.append((line, str(row)[:200], f"row has {len(row)} fields, header has {width}"))
            else:
                cells = list(row[:width])
                chunk.rows.append(cells + [None] * (width - len(cells)))
                chunk.line_numbers.append(line)
            if len(chunk.rows) + len(chunk.bad_rows) >= size:
                yield chunk
                chunk = Chunk()
        if chunk.rows or chunk.bad_rows:
            yield chunk
