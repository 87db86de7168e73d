"""XLSX reader: one worksheet as a header and chunks of typed rows, via calamine (fast) or openpyxl (streaming).

Before any parser runs, xlsx_guard refuses non-workbooks, zip bombs and XML with DTDs/entities.
Engine: calamine when importable and the sheet's cell extent is bounded (it builds one dense grid per sheet);
otherwise openpyxl in read-only mode with data_only=True (formula cells give their cached values) and
reset_dimensions(), because openpyxl otherwise trusts the <dimension> tag: a tag claiming XFD widens every row to
16,384 cells, and a tag claiming fewer rows than the sheet holds silently drops the rest.
Sheet: the named one, else the first visible worksheet (else the first worksheet).
Cells, the same from both engines: None for empty cells, empty strings and Excel errors (#N/A, #DIV/0!, ...);
str; int for integral numbers (below 2**53), else float; bool; datetime.datetime, or datetime.date when the time
part is exactly midnight (calamine cannot tell a date format from a date-time one); datetime.time; durations
([h]:mm:ss formats) as text "36:00:00". Rows are aligned from column A; rows whose cells are all empty are skipped.
Header rule: among the first 20 non-empty rows, a row is header-like when it has at least 2 non-empty text cells;
the header is the first header-like row whose non-empty cell count is the largest of those 20 rows (title rows such
as "Relatório de Vendas 2024" above it are skipped). If no header-like row reaches that count (e.g. a header with
blank cells above wider numeric rows), the header-like row with the most non-empty cells wins; with no header-like
row at all, the first non-empty row is the header. An explicit `header_row` (the sheet's row number) wins. Rows above
the header are not data.
A data row with non-empty cells beyond the header's width is a bad row; empty cells beyond it are dropped.
"""

from __future__ import annotations

import logging
import warnings
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO

import openpyxl

from app.core.errors import AppError, Unprocessable
from app.services.ingest.readers.base import DEFAULT_CHUNK_SIZE, Chunk, clean_header, preview, too_many_fields
from app.services.ingest.readers.xlsx_guard import (
    SheetRef,
    invalid_xlsx,
    open_workbook_zip,
    read_sheets,
    scan_xml_parts,
    sheet_extent,
)

try:
    import python_calamine
except ImportError:  # pragma: no cover - calamine is a pinned dependency; openpyxl is the fallback
    python_calamine = None  # type: ignore[assignment]  # the module or None, checked before use

logger = logging.getLogger("painel.ingest")

ENGINES = ("calamine", "openpyxl")
HEADER_WINDOW = 20
DENSE_CELLS_FLOOR = 1_000_000  # calamine grid cells always allowed (~32 bytes each)
DENSE_CELLS_PER_CELL = 8  # ...or up to this many grid cells per cell present in the sheet
DENSE_CELLS_CAP = 40_000_000  # ...but never more (~1.3 GB)
# Texts read as empty cells: the empty string and Excel's error values (calamine reports errors as "").
EMPTY_TEXTS = frozenset(
    {
        "",
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)
_EXACT_INT = 2**53

# openpyxl warns about unsupported extensions (data validation, conditional formats) on ordinary files.
warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")


class XlsxReader:
    """One worksheet of an .xlsx upload; refusals are raised from the constructor, before anything is stored."""

    def __init__(
        self,
        fileobj: BinaryIO,
        sheet: str | None = None,
        max_uncompressed_bytes: int = 200 * 1024 * 1024,
        max_ratio: float = 100,
        engine: str | None = None,
        header_row: int | None = None,
    ) -> None:
        if engine not in (None, *ENGINES):
            raise ValueError(f"engine must be one of {ENGINES}")
        if not fileobj.seekable():
            raise ValueError("XlsxReader needs a seekable binary file")
        archive = open_workbook_zip(fileobj, max_uncompressed_bytes, max_ratio)
        try:
            scan_xml_parts(archive, max_uncompressed_bytes)
            sheets = [ref for ref in read_sheets(archive) if ref.kind == "worksheet"]
            target = _pick_sheet(sheets, sheet)
            if target.path not in archive.namelist():
                raise invalid_xlsx(f"The workbook lists sheet {target.name!r} but does not contain it.")
            self.engine = _choose_engine(engine, archive, target)
        finally:
            archive.close()
        self.sheet = target.name
        self._sheet_names = [ref.name for ref in sheets]
        self._source: _CalamineRows | _OpenpyxlRows = (
            _CalamineRows(fileobj, target.name) if self.engine == "calamine" else _OpenpyxlRows(fileobj, target.name)
        )
        try:
            self.header, self.header_line = self._find_header(header_row)
        except BaseException:
            self.close()
            raise

    def info(self) -> dict[str, object]:
        return {"sheet": self.sheet, "engine": self.engine, "sheets": list(self._sheet_names)}

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> XlsxReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Chunk]:
        """Data rows below the header, `size` records (rows + bad rows) per chunk; restarts from the top."""
        if size < 1:
            raise ValueError("chunk size must be positive")
        width, header_line = len(self.header), self.header_line
        chunk, count = Chunk(), 0
        for number, cells in self._source.rows():
            if number <= header_line:
                continue
            extra = len(cells) - width
            if extra > 0 and cells[width:].count(None) < extra:
                used = len(cells)
                while cells[used - 1] is None:
                    used -= 1
                chunk.bad_rows.append((number, preview(_row_text(cells[:used])), too_many_fields(used, width)))
            else:
                if extra > 0:
                    del cells[width:]
                elif extra < 0:
                    cells.extend([None] * -extra)
                chunk.rows.append(cells)
                chunk.line_numbers.append(number)
            count += 1
            if count >= size:
                yield chunk
                chunk, count = Chunk(), 0
        if count:
            yield chunk

    def _find_header(self, header_row: int | None) -> tuple[list[str], int]:
        if header_row is not None:
            return self._given_header(header_row)
        window: list[tuple[int, list[object]]] = []
        for number, cells in self._source.rows():
            window.append((number, cells))
            if len(window) >= HEADER_WINDOW:
                break
        if not window:
            raise Unprocessable(f"The sheet {self.sheet!r} is empty.", code="empty_file")
        number, cells = window[header_index([cells for _number, cells in window])]
        return clean_header(cells), number

    def _given_header(self, header_row: int) -> tuple[list[str], int]:
        last = 0
        for number, cells in self._source.rows():
            if number == header_row:
                return clean_header(cells), number
            if number > header_row:
                break
            last = number
        else:
            raise Unprocessable(
                f"header_row is {header_row} but the sheet {self.sheet!r} has data only up to row {last}.",
                code="invalid_header_row",
            )
        raise Unprocessable(
            f"header_row {header_row} is an empty row of sheet {self.sheet!r}.", code="invalid_header_row"
        )


def header_index(rows: list[list[object]]) -> int:
    """Which of the first non-empty rows is the header (see the module docstring for the rule)."""
    filled = [len(row) - row.count(None) for row in rows]
    header_like = [i for i, row in enumerate(rows) if sum(1 for value in row if type(value) is str) >= 2]
    if not header_like:
        return 0
    widest = max(filled)
    for i in header_like:
        if filled[i] == widest:
            return i
    return max(header_like, key=lambda i: (filled[i], -i))


def _pick_sheet(sheets: list[SheetRef], name: str | None) -> SheetRef:
    if not sheets:
        raise Unprocessable("The workbook has no worksheets.", code="sheet_not_found")
    if name is None:
        return next((ref for ref in sheets if ref.visible), sheets[0])
    for ref in sheets:
        if ref.name == name:
            return ref
    folded = [ref for ref in sheets if ref.name.strip().casefold() == name.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    names = ", ".join(repr(ref.name) for ref in sheets)
    raise Unprocessable(
        f"Sheet {name!r} not found; the workbook has: {names}.",
        code="sheet_not_found",
        extra={"sheets": [ref.name for ref in sheets]},
    )


def _choose_engine(requested: str | None, archive: zipfile.ZipFile, target: SheetRef) -> str:
    if requested == "openpyxl" or python_calamine is None:
        return "openpyxl"
    extent = sheet_extent(archive, target.path)
    budget = min(DENSE_CELLS_CAP, max(DENSE_CELLS_FLOOR, DENSE_CELLS_PER_CELL * extent.cells))
    if extent.conclusive and extent.dense_cells <= budget:
        return "calamine"
    logger.info(
        "xlsx sheet %r read with openpyxl: extent %s exceeds calamine's dense-grid budget %s",
        target.name,
        extent,
        budget,
    )
    return "openpyxl"


def normalize_cell(value: Any) -> object:
    """One cell as the readers promise it (see the module docstring)."""
    kind = type(value)  # exact type checks: bool must not pass as int, and they are the fastest per cell
    if kind is str:
        return None if value in EMPTY_TEXTS else value
    if kind is float:
        return int(value) if value.is_integer() and -_EXACT_INT < value < _EXACT_INT else value
    if value is None or kind is int or kind is bool or kind is date or kind is time:
        return value
    if kind is datetime:
        if value.tzinfo is None and not (value.hour or value.minute or value.second or value.microsecond):
            return value.date()
        return value
    if kind is timedelta:
        return _duration_text(value)
    return str(value)


def _duration_text(value: timedelta) -> str:
    seconds = round(value.total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    return f"{'-' if seconds < 0 else ''}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _row_text(cells: list[object]) -> str:
    return " | ".join("" if value is None else str(value) for value in cells)


class _CalamineRows:
    """Rows of a sheet loaded by calamine (one dense grid in Rust memory, kept for the second pass)."""

    def __init__(self, fileobj: BinaryIO, sheet: str) -> None:
        fileobj.seek(0)
        try:
            self._book = python_calamine.CalamineWorkbook.from_filelike(fileobj)
            self._sheet: python_calamine.CalamineSheet | None = self._book.get_sheet_by_name(sheet)
        except python_calamine.CalamineError as exc:
            raise invalid_xlsx(f"The workbook could not be read: {exc}.") from exc

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        """(sheet row number, cells from column A) for every row with a non-empty cell."""
        sheet = self._sheet
        start = sheet.start if sheet is not None else None
        if sheet is None or start is None:
            return
        first_row, first_col = start
        pad = [None] * first_col
        try:
            # iter_rows() first yields `first_row` empty rows, so positions are absolute; columns start at first_col
            for number, raw in enumerate(sheet.iter_rows(), start=1):
                if number <= first_row:
                    continue
                cells = [
                    (None if value in EMPTY_TEXTS else value) if type(value) is str else normalize_cell(value)
                    for value in raw
                ]
                if cells.count(None) != len(cells):
                    yield number, pad + cells if first_col else cells
        except python_calamine.CalamineError as exc:
            raise invalid_xlsx(f"The sheet could not be read: {exc}.") from exc

    def close(self) -> None:
        if self._sheet is not None:
            self._sheet = None
            self._book.close()


class _OpenpyxlRows:
    """Rows of a sheet streamed by openpyxl in read-only mode; each pass re-reads the sheet XML."""

    def __init__(self, fileobj: BinaryIO, sheet: str) -> None:
        fileobj.seek(0)
        try:
            self._book = openpyxl.load_workbook(fileobj, read_only=True, data_only=True)
            self._sheet = self._book[sheet]
        except AppError:
            raise
        except Exception as exc:  # openpyxl raises many types on broken files
            raise invalid_xlsx(f"The workbook could not be read: {exc}.") from exc
        self._sheet.reset_dimensions()

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        """(sheet row number, cells from column A) for every row with a non-empty cell."""
        try:
            for number, raw in enumerate(self._sheet.iter_rows(values_only=True), start=1):
                if raw:
                    cells = [
                        (None if value in EMPTY_TEXTS else value) if type(value) is str else normalize_cell(value)
                        for value in raw
                    ]
                    if cells.count(None) != len(cells):
                        yield number, cells
        except AppError:
            raise
        except Exception as exc:  # malformed sheet XML surfaces mid-stream
            raise invalid_xlsx(f"The sheet could not be read: {exc}.") from exc

    def close(self) -> None:
        self._book.close()  # read-only openpyxl: closes its archive handle, not the caller's file
