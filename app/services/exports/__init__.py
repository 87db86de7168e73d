"""Exports of what the API shows, as files spreadsheets open: CSV (Brazilian by default: `;`, decimal comma, UTF-8
with BOM, dd/mm/yyyy; `locale=en`: `,`, `.`, ISO dates) or XLSX (real numbers and dates, values as `R$ #,##0.00`).

Every export is one or more tables (typed columns, rows produced lazily), streamed: CSV a few hundred rows at a time,
XLSX through openpyxl's write-only mode into a temporary file sent in chunks. Text cells that a spreadsheet would run
as a formula (starting with =, +, -, @, tab or CR) are neutralised with a leading apostrophe; numbers stay numbers."""

from app.services.exports.files import ExportFile, ExportOptions, export_tables
from app.services.exports.tables import Column, ColumnKind, Table

__all__ = ["Column", "ColumnKind", "ExportFile", "ExportOptions", "Table", "export_tables"]
