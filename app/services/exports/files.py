"""An export request's options and the file it produces (a name, a media type and the bytes, streamed)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from app.services.exports import csv_format, xlsx_format
from app.services.exports.tables import Table

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportOptions:
    """`format` (csv or xlsx) and `locale` (pt-BR: Brazilian CSV conventions; en: `,`, `.` and ISO dates)."""

    format: Literal["csv", "xlsx"]
    locale: Literal["pt-BR", "en"] = "pt-BR"


@dataclass
class ExportFile:
    """A file to stream: its name (may hold any character; the HTTP layer adds an ASCII fallback) and its bytes."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]


def file_stem(*parts: object) -> str:
    """A readable file name stem from parts ("Vendas São Paulo", 2025-01-01) -> "Vendas São Paulo_2025-01-01"."""
    text = "_".join(str(part) for part in parts if part is not None and str(part) != "")
    text = unicodedata.normalize("NFC", text)
    return re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', "-", text).strip(" .-")[:150] or "export"


def export_tables(tables: Sequence[Table], options: ExportOptions, stem: str) -> ExportFile:
    """The tables as a CSV (sections when there are several) or an XLSX (one sheet each), streamed."""
    if options.format == "xlsx":
        return ExportFile(f"{stem}.xlsx", XLSX_MEDIA_TYPE, xlsx_format.stream(tables, options.locale))
    return ExportFile(f"{stem}.csv", CSV_MEDIA_TYPE, csv_format.stream(tables, options.locale))
