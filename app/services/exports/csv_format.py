"""CSV: one table, or several as sections (a title line, the header, the rows, a blank line), streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from app.services.exports.cells import csv_text
from app.services.exports.tables import Table, neutralize

BOM = "\ufeff"
ROWS_PER_CHUNK = 500


def stream(tables: Sequence[Table], locale: str) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads the accents); `;` for pt-BR, `,` for en."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if locale == "pt-BR" else ",", lineterminator="\r\n")
    buffer.write(BOM)
    sections = len(tables) > 1
    for index, table in enumerate(tables):
        if sections:
            if index:
                writer.writerow([])
            writer.writerow([neutralize(table.title)])
        writer.writerow([neutralize(column.name) for column in table.columns])
        kinds = [column.kind for column in table.columns]
        for count, row in enumerate(table.rows, start=1):
            writer.writerow([csv_text(value, kind, locale) for value, kind in zip(row, kinds, strict=True)])
            if count % ROWS_PER_CHUNK == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode()
