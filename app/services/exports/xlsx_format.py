"""XLSX: one sheet per table, written by openpyxl's write-only mode into a temporary file that is then streamed."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from app.services.exports.cells import xlsx_value
from app.services.exports.tables import Table

MAX_SHEET_ROWS = 1_048_576  # Excel's limit; a longer table continues on another sheet
CHUNK_BYTES = 64 * 1024
_BOLD = Font(bold=True)


def _sheet_title(title: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip().strip("'")[:28] or "Dados"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 3]} ({n})"
    taken.add(name.lower())
    return name


def _new_sheet(workbook: Workbook, table: Table, taken: set[str]) -> Any:
    sheet = workbook.create_sheet(_sheet_title(table.title, taken))
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column.name)
        cell.font = _BOLD
        header.append(cell)
    sheet.append(header)
    return sheet


def _cells(sheet: Any, row: Sequence[Any], table: Table, locale: str) -> list[Any]:
    out = []
    for value, column in zip(row, table.columns, strict=True):
        typed, number_format = xlsx_value(value, column.kind, locale)
        if isinstance(typed, str):
            out.append(ILLEGAL_CHARACTERS_RE.sub("", typed))  # control characters XML cannot hold
        elif number_format is None:
            out.append(typed)
        else:
            cell = WriteOnlyCell(sheet, value=typed)
            cell.number_format = number_format
            out.append(cell)
    return out


def stream(tables: Sequence[Table], locale: str) -> Iterator[bytes]:
    """The workbook's bytes in chunks; memory stays bounded (rows go to disk as they are written)."""
    with tempfile.TemporaryFile(suffix=".xlsx") as spool:
        workbook = Workbook(write_only=True)
        taken: set[str] = set()
        if not tables:
            workbook.create_sheet("Dados")
        for table in tables:
            sheet, rows = _new_sheet(workbook, table, taken), 1
            for row in table.rows:
                if rows == MAX_SHEET_ROWS:
                    sheet, rows = _new_sheet(workbook, table, taken), 1
                sheet.append(_cells(sheet, row, table, locale))
                rows += 1
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
