"""Table readers: each turns an upload into a header and chunks of rows (see base.TableReader)."""

from app.services.ingest.readers.base import Chunk, TableReader, clean_header
from app.services.ingest.readers.csv_reader import CsvReader
from app.services.ingest.readers.xlsx_reader import XlsxReader

__all__ = ["Chunk", "CsvReader", "TableReader", "XlsxReader", "clean_header"]
