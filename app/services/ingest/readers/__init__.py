"""Table readers: each turns an upload into a header and chunks of rows (see base.TableReader)."""

from dataclasses import dataclass
from typing import BinaryIO

from app.services.ingest.readers.base import Chunk, TableReader, clean_header
from app.services.ingest.readers.csv_reader import CsvReader
from app.services.ingest.readers.xlsx_reader import XlsxReader


@dataclass(frozen=True)
class ReadOptions:
    """How to read an uploaded file: the worksheet (XLSX) and the header's 1-based line or row (else detected)."""

    sheet: str | None = None
    header_row: int | None = None


def open_reader(kind: str, fileobj: BinaryIO, options: ReadOptions) -> CsvReader | XlsxReader:
    """The reader of an uploaded file ("csv" or "xlsx"); refusals are raised here, before anything is stored."""
    if kind == "csv":
        return CsvReader(fileobj, header_row=options.header_row)
    return XlsxReader(fileobj, sheet=options.sheet or None, header_row=options.header_row)


__all__ = ["Chunk", "CsvReader", "ReadOptions", "TableReader", "XlsxReader", "clean_header", "open_reader"]
