"""The file's bytes straight into the text table with Postgres's own CSV parser, when that gives the very rows the
Python reader would.

The Python reader (csv module) and COPY's CSV parser agree on a *regular* file: one record per physical line, every
record exactly the header's width, quotes only around whole fields (`"a;b"`, `"6"" pipe"`), no line that COPY would
take for its end-of-data marker. The bytes are checked as they stream (a stray quote aborts the COPY); COPY itself
refuses ragged rows, blank lines and mixed line endings; and the records it loaded must equal the physical lines
counted on the way. Anything else rolls back to a savepoint and the caller reads the file in Python, which describes
every odd record line by line. Line numbers come from a sequence starting at the first data line, and records that
are blank once whitespace is ignored are dropped afterwards, as the Python reader skips them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from sqlalchemy import Connection

from app.core.db import driver_connection
from app.services.ingest.copy_path.decisions import whitespace_chars
from app.services.ingest.copy_path.text_table import TextTable
from app.services.ingest.readers.base import RawSource

log = logging.getLogger("painel.ingest")

BLOCK_BYTES = 1 << 20
# Python's codec name -> Postgres's; the ASCII-compatible encodings the reader detects (UTF-16 stays in Python).
PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "cp1252": "WIN1252", "latin-1": "LATIN1"}


class _NotRegular(Exception):
    """The bytes hold something COPY would read differently from the Python reader."""


class _Stream:
    """The data bytes for COPY, a block of whole lines at a time; counts the physical lines, checks the quotes and
    reports progress."""

    def __init__(self, source: RawSource, max_lines: int, progress: Callable[[int], None] | None) -> None:
        self._file, self._max_lines, self._progress = source.file, max_lines, progress
        self._file.seek(source.offset)
        self._carry = b""
        self._done = False
        self.lines = 0
        d = re.escape(source.delimiter.encode())
        # A whole quoted field: after a delimiter or a line start, up to a closing quote before a delimiter or a line
        # end, with doubled quotes inside and no line break. What is left of the block must hold no quote.
        self._quoted = re.compile(rb"(?<![^" + d + rb'\r\n])"(?:[^"\r\n]|"")*"(?![^' + d + rb"\r\n])")
        self._end_marker = re.compile(rb"(?:^|[\r\n])\\\.(?:[\r\n]|$)")

    def read(self, size: int = BLOCK_BYTES) -> bytes:
        """Whole lines without the line breaks that end them (those wait in front of the next piece): line breaks
        at the end of the file (blank lines) are never sent, and every piece is cut between lines."""
        while not self._done:
            block = self._file.read(max(size, BLOCK_BYTES))
            data = self._carry + block
            if not block:
                self._done = True
                tail = data if data.rstrip(b"\r\n") else b""
                self._carry = b""
                return self._checked(tail) if tail else b""
            cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
            if cut == len(data) - 1 and data.endswith(b"\r"):
                cut -= 1  # a CR at the end may be the first half of a CRLF split across reads
            lines = data[: cut + 1].rstrip(b"\r\n")
            if not lines:
                self._carry = data
                continue
            self._carry = data[len(lines) :]
            return self._checked(lines)
        return b""

    def _checked(self, text: bytes) -> bytes:
        if b'"' in text and b'"' in self._quoted.sub(b"", text):
            raise _NotRegular("a quote inside a field")
        if b"\\." in text and self._end_marker.search(text):
            raise _NotRegular("a line COPY reads as its end marker")
        if not self.lines:
            self.lines = 1  # what is sent never ends with a line break: the last line counts here
        self.lines += text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")
        if self.lines > self._max_lines:
            raise _NotRegular("more lines than the row limit")  # the Python reader counts and refuses precisely
        if self._progress is not None:
            self._progress(self.lines)
        return text


def copy_file(
    connection: Connection,
    table: TextTable,
    source: RawSource,
    max_lines: int,
    progress: Callable[[int], None] | None = None,
) -> int | None:
    """COPY the file's data records into the (empty) text table; the rows kept, or None when the file is not regular
    (the table is left empty and the transaction usable)."""
    pg_encoding = PG_ENCODINGS.get(source.encoding)
    if pg_encoding is None or len(source.delimiter) != 1:
        return None
    cells = ", ".join(table.cells)
    sequence = f"{table.name}_line"
    stream = _Stream(source, max_lines, progress)
    raw = driver_connection(connection)
    connection.exec_driver_sql(f"CREATE TEMP SEQUENCE {sequence} START {int(source.first_line)}")
    connection.exec_driver_sql(f"ALTER TABLE {table.name} ALTER line_no SET DEFAULT nextval('{sequence}')")
    connection.exec_driver_sql("SAVEPOINT painel_raw_copy")
    delimiter = source.delimiter.replace("'", "''")
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {table.name} ({cells}) FROM STDIN WITH (FORMAT csv, DELIMITER '{delimiter}', "
                f"ENCODING '{pg_encoding}', FORCE_NOT_NULL ({cells}))",
                stream,
                size=BLOCK_BYTES,
            )
            copied = int(cursor.rowcount)
        if copied != stream.lines:
            raise _NotRegular(f"{copied} records on {stream.lines} lines (a quoted line break)")
    except Exception as exc:  # COPY refused the bytes (ragged, blank line, encoding) or the stream did
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT painel_raw_copy")
        log.info("COPY of the file's bytes not used (%s): reading it in Python", _reason(exc))
        return None
    finally:
        connection.exec_driver_sql(f"ALTER TABLE {table.name} ALTER line_no DROP DEFAULT")
        connection.exec_driver_sql(f"DROP SEQUENCE {sequence}")
    connection.exec_driver_sql("RELEASE SAVEPOINT painel_raw_copy")
    whitespace = _escaped_whitespace()
    joined = " || ".join(table.cells)  # FORCE_NOT_NULL: no cell is NULL
    # A blank record's first cell is empty or starts with whitespace: that cheap test spares the other rows the
    # translate() over the whole record.
    first = table.cells[0]
    blank = (
        f"({first} = '' OR strpos('{whitespace}', left({first}, 1)) > 0) "
        f"AND translate({joined}, '{whitespace}', '') = ''"
    )
    with raw.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table.name} WHERE {blank}")
        skipped = int(cursor.rowcount)
    return copied - skipped


def _escaped_whitespace() -> str:
    # Every character str.strip() removes (the Python reader's blank record), as a SQL literal body.
    return whitespace_chars().replace("'", "''")


def _reason(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
