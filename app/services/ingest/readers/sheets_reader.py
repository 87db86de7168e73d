"""A Google Sheets range as a table (first row = header), read through gspread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.core.errors import Unprocessable
from app.services.ingest.readers.base import DEFAULT_CHUNK_SIZE, Chunk, clean_header
from app.services.ingest.readers.xlsx_reader import HEADER_WINDOW, header_index


class SheetsReader:
    """Values of one range as returned by the Sheets API (unformatted: numbers as numbers, dates as serials)."""

    replayable = True

    def __init__(self, values: list[list[Any]], *, spreadsheet_id: str, range_name: str, first_row: int = 1) -> None:
        # Blank cells come back as "": the same as an empty XLSX cell.
        rows = [[None if cell == "" else cell for cell in row] for row in values]
        numbered = [(first_row + i, row) for i, row in enumerate(rows) if any(c is not None for c in row)]
        window = numbered[:HEADER_WINDOW]
        if not window:
            raise Unprocessable(f"The range '{range_name}' is empty.", code="empty_file")
        # A title line above the header is tolerated, by the same rule as XLSX.
        header_at = header_index([row for _, row in window])
        self.header_line, header_cells = window[header_at]
        self.header = clean_header(header_cells)
        self._rows = rows[self.header_line - first_row + 1 :]
        self._first_data_row = self.header_line + 1
        self._info = {"spreadsheet_id": spreadsheet_id, "range": range_name}

    def info(self) -> dict[str, object]:
        return dict(self._info)

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Chunk]:
        width = len(self.header)
        chunk = Chunk()
        for offset, row in enumerate(self._rows):
            if not any(cell is not None for cell in row):
                continue
            line = self._first_data_row + offset
            extra = [cell for cell in row[width:] if cell is not None]
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
