"""What every table reader produces: header, chunks of rows with their line numbers, and rows it could not shape."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import BinaryIO, Protocol, runtime_checkable

DEFAULT_CHUNK_SIZE = 50_000
PREVIEW_CHARS = 200


@dataclass
class Chunk:
    """One slice of a table; every data record lands in exactly one of `rows` or `bad_rows`."""

    line_numbers: list[int] = field(default_factory=list)
    """Per row: the 1-based physical line (CSV) or sheet row (XLSX) where the record starts."""
    rows: list[list[object]] = field(default_factory=list)
    """Each exactly len(header) cells."""
    bad_rows: list[tuple[int, str, str]] = field(default_factory=list)
    """(line_number, raw_text_preview, reason) for records that cannot be shaped into a row."""


@dataclass(frozen=True)
class RawSource:
    """Where a CSV file's data records start in its bytes and how to read them (CsvReader.raw_source)."""

    file: BinaryIO
    offset: int  # the first byte after the header record
    first_line: int  # the physical line at that byte
    encoding: str  # Python's codec name
    delimiter: str


@runtime_checkable
class TableReader(Protocol):
    """A tabular source read in chunks; `chunks()` may be called again and restarts from the top."""

    header: list[str]
    header_line: int

    def info(self) -> dict[str, object]: ...

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Chunk]: ...


def preview(text: str) -> str:
    """The first PREVIEW_CHARS characters of a raw record, for error reports."""
    return text[:PREVIEW_CHARS]


def too_many_fields(fields: int, width: int) -> str:
    """The reason given for a record wider than the header."""
    return f"row has {fields} fields, header has {width}"


def header_text(value: object) -> str:
    """One header cell as a clean name: text, BOM removed, whitespace runs collapsed, ends stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if isinstance(value, datetime | date | time) else str(value)
    return " ".join(text.replace("\ufeff", "").split())


def clean_header(cells: Sequence[object]) -> list[str]:
    """Header names: trailing empty cells dropped, inner empty ones named column_<n>, duplicates suffixed _2, _3.

    Duplicates are compared case-insensitively ("Valor" and "VALOR" clash in most databases).
    """
    names = [header_text(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()
    seen: set[str] = set()
    cleaned: list[str] = []
    for position, name in enumerate(names, start=1):
        base = name or f"column_{position}"
        candidate, suffix = base, 1
        while candidate.casefold() in seen:
            suffix += 1
            candidate = f"{base}_{suffix}"
        seen.add(candidate.casefold())
        cleaned.append(candidate)
    return cleaned
