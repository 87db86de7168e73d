"""CSV reader: refuses non-text uploads, detects encoding and delimiter, streams records in bounded memory.

Encoding: a UTF-8 BOM means utf-8-sig and a UTF-16 BOM utf-16 (Excel's "Unicode text" export); otherwise the
whole file is validated as UTF-8 in 1 MB blocks (an ERP's cp1252 "ç" may first appear at line 900,000), then
cp1252 if it has none of the five bytes cp1252 leaves undefined, else latin-1 (which decodes anything).
Delimiter: among ; , TAB | the one giving the most consistent field count (> 1) over the first 50 non-blank
records, ";" winning ties; a single-column file reports ",".
Records: the stdlib csv module over a TextIOWrapper (quotes, doubled quotes, embedded newlines, CR/LF/CRLF).
Header: the first non-blank record, skipping title lines above it (records with fewer than 2 non-empty fields, such
as "Relatório de vendas", when a later one of the first 20 non-blank records has 2 or more); or the record starting
at an explicit `header_row` line. Records above the header are not data.
Blank records are skipped and not counted; short rows are padded with ""; trailing empty fields beyond the
header are dropped; a row with more non-empty fields than the header becomes a bad row, as does a field over
10 MB, a physical line over 16 MB, or a record spanning 1,000+ lines (an unclosed quote swallowing the file).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from app.core.errors import Unprocessable, UnsupportedMediaType
from app.services.ingest.readers.base import (
    DEFAULT_CHUNK_SIZE,
    Chunk,
    RawSource,
    clean_header,
    preview,
    too_many_fields,
)

BLOCK_BYTES = 1 << 20
HEAD_BYTES = 64 * 1024
SAMPLE_CHARS = 256 * 1024
SNIFF_RECORDS = 50
HEADER_WINDOW = 20  # non-blank records searched for the header, past title lines
MAX_FIELD_CHARS = 10 * 1024 * 1024
MAX_LINE_CHARS = 16 * 1024 * 1024  # must stay >= BLOCK_BYTES: the scan only measures lines crossing block edges
MAX_RECORD_LINES = 1_000
CONTROL_SHARE = 0.05
DELIMITERS = (";", ",", "\t", "|")  # preference order on ties: ";" is the Brazilian default

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTROL_BYTES = bytes([*range(0x01, 0x09), *range(0x0E, 0x20), 0x7F])
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_MARKUP_STARTS = ("<!doctype html", "<html", "<?xml", "<table")
_FIELD_LIMIT_ERROR = "field larger than field limit"


class CsvReader:
    """A CSV upload read as chunks of rows; refusals are raised from the constructor, before anything is stored."""

    text_cells = True  # every cell is a str: the COPY path may parse it in SQL

    def __init__(self, fileobj: BinaryIO, header_row: int | None = None) -> None:
        if not fileobj.seekable():
            raise ValueError("CsvReader needs a seekable binary file")
        self._file = fileobj
        fileobj.seek(0)
        head = fileobj.read(HEAD_BYTES)
        _refuse_non_text(head)
        self.encoding, longest_line = _detect_encoding(fileobj, head)
        self._bounded_lines = longest_line > MAX_LINE_CHARS
        self._longest_line = longest_line
        self.delimiter = self._sniff_delimiter()
        self.header, self.header_line, self._header_end, self._header_records = self._read_header(header_row)

    def info(self) -> dict[str, object]:
        return {"encoding": self.encoding, "delimiter": self.delimiter}

    def raw_source(self) -> RawSource | None:
        """Where the data records start in the file's bytes, for a database that parses CSV itself; None when a line
        may hold a field over MAX_FIELD_CHARS (a bad row here) or the encoding is not ASCII-compatible."""
        if self._longest_line >= MAX_FIELD_CHARS or self.encoding == "utf-16":
            return None
        offset = _offset_after_line(self._file, self._header_end)
        if offset is None:
            return None
        return RawSource(self._file, offset, self._header_end + 1, self.encoding, self.delimiter)

    def close(self) -> None:
        """Nothing to release: the caller owns the file."""

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Chunk]:
        """Data records after the header, `size` records (rows + bad rows) per chunk; restarts from the top.

        Passes share the file position: run them one after the other, not interleaved.
        """
        if size < 1:
            raise ValueError("chunk size must be positive")
        width, delimiter, max_record_lines = len(self.header), self.delimiter, MAX_RECORD_LINES
        with self._text() as (reader, lines):
            for _ in range(self._header_records):
                next(reader)
            chunk, count, extra, last_end = Chunk(), 0, 0, self._header_end
            rows, line_numbers, bad_rows = chunk.rows, chunk.line_numbers, chunk.bad_rows
            while True:
                try:
                    for fields in reader:
                        start = last_end + 1
                        last_end = reader.line_num + extra
                        if len(fields) == width and last_end == start and fields[0] and not fields[0].isspace():
                            rows.append(fields)  # the common case, kept cheap
                            line_numbers.append(start)
                        elif not "".join(fields).strip():
                            continue
                        elif last_end - start >= max_record_lines:
                            bad_rows.append(
                                (
                                    start,
                                    preview(delimiter.join(fields)),
                                    f"record spans {last_end - start + 1} lines; probably an unclosed quote",
                                )
                            )
                        elif len(fields) <= width:
                            fields.extend([""] * (width - len(fields)))
                            rows.append(fields)
                            line_numbers.append(start)
                        elif not any(fields[width:]):
                            rows.append(fields[:width])
                            line_numbers.append(start)
                        else:
                            used = len(fields)
                            while not fields[used - 1]:
                                used -= 1
                            bad_rows.append((start, preview(delimiter.join(fields)), too_many_fields(used, width)))
                        count += 1
                        if count >= size:
                            yield chunk
                            chunk, count = Chunk(), 0
                            rows, line_numbers, bad_rows = chunk.rows, chunk.line_numbers, chunk.bad_rows
                    break
                except csv.Error as exc:
                    line = reader.line_num + extra
                    if _FIELD_LIMIT_ERROR not in str(exc):
                        raise Unprocessable(
                            f"The CSV file could not be parsed at line {line}: {exc}.", code="malformed_csv"
                        ) from exc
                    bad_rows.append((last_end + 1, "", f"a field is longer than {MAX_FIELD_CHARS:,} characters"))
                    last_end = line
                except _LineTooLong as exc:
                    extra = lines.skipped if lines is not None else 0  # only _BoundedLines raises this
                    line = reader.line_num + extra
                    bad_rows.append(
                        (last_end + 1, exc.preview, f"line {line} is longer than {MAX_LINE_CHARS:,} characters")
                    )
                    last_end = line
                count += 1
                if count >= size:
                    yield chunk
                    chunk, count = Chunk(), 0
                    rows, line_numbers, bad_rows = chunk.rows, chunk.line_numbers, chunk.bad_rows
            if count:
                yield chunk

    @contextmanager
    def _text(self) -> Iterator[tuple[Any, _BoundedLines | None]]:
        """A csv reader over the decoded file from its first byte; the TextIOWrapper is detached afterwards."""
        csv.field_size_limit(MAX_FIELD_CHARS)  # process-wide; the 128 KB default would fail long notes
        self._file.seek(0)
        text = io.TextIOWrapper(self._file, encoding=self.encoding, newline="")
        try:
            lines = _BoundedLines(text, MAX_LINE_CHARS) if self._bounded_lines else None
            yield csv.reader(lines if lines is not None else text, delimiter=self.delimiter), lines
        finally:
            text.detach()  # leave the caller's file open

    def _sniff_delimiter(self) -> str:
        self._file.seek(0)
        text = io.TextIOWrapper(self._file, encoding=self.encoding, newline="")
        try:
            sample = text.read(SAMPLE_CHARS)
        finally:
            text.detach()
        return sniff_delimiter(sample, complete=len(sample) < SAMPLE_CHARS)

    def _read_header(self, header_row: int | None) -> tuple[list[str], int, int, int]:
        """(header, its first line, its last line, records consumed up to and including it)."""
        window: list[tuple[list[str], int, int, int]] = []
        with self._text() as (reader, _lines):
            consumed = last_end = 0
            try:
                for fields in reader:
                    consumed += 1
                    start, last_end = last_end + 1, reader.line_num
                    blank = not "".join(fields).strip()
                    if header_row is not None:
                        if start <= header_row <= last_end:
                            return _given_header(fields, header_row, start, blank), start, last_end, consumed
                    elif not blank:
                        window.append((fields, start, last_end, consumed))
                        if len(window) >= HEADER_WINDOW or _filled(fields) >= 2:
                            break  # the header is the first record with 2+ values: no need to read further
            except (csv.Error, _LineTooLong) as exc:
                if window:  # a broken record below a title line: the header rule decides among those read
                    return _chosen_header(window)
                raise Unprocessable(
                    f"The header line (line {last_end + 1}) could not be read: it is too long.", code="malformed_csv"
                ) from exc
        if header_row is not None:
            raise Unprocessable(
                f"header_row is {header_row} but the file has {last_end} lines.", code="invalid_header_row"
            )
        if not window:
            raise Unprocessable("The file is empty", code="empty_file")
        return _chosen_header(window)


def _filled(fields: list[str]) -> int:
    return sum(1 for value in fields if value.strip())


def _chosen_header(window: list[tuple[list[str], int, int, int]]) -> tuple[list[str], int, int, int]:
    fields, start, end, consumed = window[header_record([fields for fields, *_ in window])]
    return clean_header(fields), start, end, consumed


def _given_header(fields: list[str], header_row: int, start: int, blank: bool) -> list[str]:
    if blank:
        raise Unprocessable(f"header_row {header_row} is a blank line.", code="invalid_header_row")
    if start != header_row:
        raise Unprocessable(
            f"header_row {header_row} is inside a record that starts at line {start} (a quoted value spans lines).",
            code="invalid_header_row",
        )
    return clean_header(fields)


def header_record(records: list[list[str]]) -> int:
    """Which of the first non-blank records is the header: title lines (fewer than 2 non-empty fields) above the
    first record with 2 or more are skipped; with no such record, the first one is the header."""
    for i, fields in enumerate(records):
        if _filled(fields) >= 2:
            return i
    return 0


def sniff_delimiter(sample: str, complete: bool = True) -> str:
    """The delimiter giving the most consistent field count > 1 over the first non-blank records (";" on ties)."""
    if not complete:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        sample = sample[: cut + 1] if cut >= 0 else sample
    best, best_score = ",", 0.0
    for delimiter in DELIMITERS:
        counts: list[int] = []
        try:
            for fields in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                if len(fields) > 1 or (fields and fields[0].strip()):  # skip only truly blank lines
                    counts.append(len(fields))
                    if len(counts) > SNIFF_RECORDS:
                        break
        except csv.Error:
            continue
        if not complete and len(counts) > 1:
            counts.pop()  # the last record may be cut inside a quoted field
        if not counts:
            continue
        mode, hits = Counter(counts).most_common(1)[0]
        score = hits / len(counts)
        if mode > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


class _LineTooLong(Exception):
    def __init__(self, preview_text: str) -> None:
        super().__init__("line too long")
        self.preview = preview_text


class _BoundedLines:
    """Physical lines of a text stream; a line over `limit` characters is skipped and reported by raising."""

    def __init__(self, text: io.TextIOWrapper, limit: int) -> None:
        self._readline, self._limit, self.skipped = text.readline, limit, 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self._readline(self._limit)
        if not line:
            raise StopIteration
        if len(line) < self._limit or line.endswith(("\n", "\r")):
            return line
        head = preview(line)
        while line and not line.endswith(("\n", "\r")):
            line = self._readline(self._limit)
        self.skipped += 1
        raise _LineTooLong(head)


def _refuse_non_text(head: bytes) -> None:
    """Refuse what is clearly not a CSV from the first 64 KB: empty, archives, workbooks, PDF, HTML, binary."""
    if not head:
        raise Unprocessable("The file is empty", code="empty_file")
    if head.startswith(_ZIP_MAGIC):
        raise UnsupportedMediaType(
            "This file looks like an XLSX workbook (a ZIP archive), not CSV text; upload it to /ingest/xlsx instead.",
            code="not_csv",
        )
    if head.startswith(_OLE2_MAGIC):
        raise UnsupportedMediaType(
            "This file looks like a legacy Excel .xls workbook (or a password-protected one), "
            "not CSV text; open it in Excel and save it as .xlsx (for /ingest/xlsx) or as "
            "CSV UTF-8.",
            code="not_csv",
        )
    if head.startswith(b"%PDF-"):
        raise UnsupportedMediaType(
            "This file is a PDF, not CSV text; export the report as CSV or XLSX.", code="not_csv"
        )
    if head.startswith(_UTF32_BOMS):
        raise UnsupportedMediaType("UTF-32 text is not supported; save the file as CSV UTF-8.", code="not_csv")
    if head.startswith(_UTF16_BOMS):
        return
    if b"\x00" in head:
        raise UnsupportedMediaType(
            "This file contains binary data (NUL bytes), not CSV text; if it is a UTF-16 "
            "export without a byte-order mark, save it as CSV UTF-8.",
            code="not_csv",
        )
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > CONTROL_SHARE * len(head):
        raise UnsupportedMediaType("This file contains binary data (control characters), not CSV text.", code="not_csv")
    start = head[:512].removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if start.startswith(tuple(s.encode() for s in _MARKUP_STARTS)):
        raise UnsupportedMediaType(
            "This file is an HTML/XML document, not CSV text (some systems export HTML "
            "tables with an .xls name); open it in Excel and save it as CSV UTF-8 or .xlsx.",
            code="not_csv",
        )


def _detect_encoding(fileobj: BinaryIO, head: bytes) -> tuple[str, int]:
    """(encoding, longest physical line in bytes), validating the whole file in one streaming pass."""
    if head.startswith(codecs.BOM_UTF8):
        label, codec, start = "utf-8-sig", "utf-8", len(codecs.BOM_UTF8)
    elif head.startswith(_UTF16_BOMS):
        label, codec, start = "utf-16", "utf-16", 0
    else:
        label, codec, start = "utf-8", "utf-8", 0
    decoder = codecs.getincrementaldecoder(codec)()
    wide = codec == "utf-16"
    valid, bad_at, nul_at = True, -1, -1
    offset, run, longest = start, 0, 0
    fileobj.seek(start)
    while block := fileobj.read(BLOCK_BYTES):
        if valid:
            try:
                text = decoder.decode(block)
                if wide and nul_at < 0 and "\x00" in text:
                    nul_at = offset
            except UnicodeDecodeError as exc:
                valid, bad_at = False, offset + max(exc.start, 0)
        if not wide and nul_at < 0 and (i := block.find(b"\x00")) >= 0:
            nul_at = offset + i
        run, longest = _line_run(block, run, longest)
        offset += len(block)
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid, bad_at = False, offset
    longest = max(longest, run)
    if offset == start:
        raise Unprocessable("The file is empty", code="empty_file")
    if nul_at >= 0:
        raise Unprocessable(
            f"The file contains a NUL byte at line {_line_at(fileobj, nul_at)}; it is probably "
            "damaged or not a text export.",
            code="malformed_csv",
        )
    if valid:
        return label, longest
    if label != "utf-8":
        raise Unprocessable(
            f"The file declares {label} with a byte-order mark but is not valid {codec} "
            f"(line {_line_at(fileobj, bad_at)}); export it again as CSV UTF-8.",
            code="invalid_encoding",
        )
    return ("cp1252" if _fits_cp1252(fileobj) else "latin-1"), longest


def _line_run(block: bytes, run: int, longest: int) -> tuple[int, int]:
    """Track the longest run of bytes without a line break across blocks: (current run, longest so far)."""
    breaks = [i for i in (block.find(b"\n"), block.find(b"\r")) if i >= 0]
    if not breaks:
        return run + len(block), longest
    longest = max(longest, run + min(breaks))
    return len(block) - max(block.rfind(b"\n"), block.rfind(b"\r")) - 1, longest


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def _offset_after_line(fileobj: BinaryIO, line: int) -> int | None:
    """The byte offset just after the `line`-th line break (CR, LF and CRLF each end one line); None if the file
    has fewer."""
    fileobj.seek(0)
    data, start, breaks = b"", 0, 0
    while True:
        block = fileobj.read(BLOCK_BYTES)
        data += block
        for match in _LINE_BREAK.finditer(data, start):
            if block and match.end() == len(data) and data.endswith(b"\r"):
                break  # maybe the first half of a CRLF: read on
            breaks += 1
            start = match.end()
            if breaks == line:
                return start
        if not block:
            return None


def _fits_cp1252(fileobj: BinaryIO) -> bool:
    fileobj.seek(0)
    while block := fileobj.read(BLOCK_BYTES):
        if _CP1252_UNDEFINED.search(block):
            return False
    return True


def _line_at(fileobj: BinaryIO, offset: int) -> int:
    """The 1-based physical line holding byte `offset` (CR, LF and CRLF each end one line)."""
    fileobj.seek(0)
    breaks, remaining, previous = 0, offset, b""
    while remaining > 0 and (block := fileobj.read(min(BLOCK_BYTES, remaining))):
        remaining -= len(block)
        breaks += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
        if previous.endswith(b"\r") and block.startswith(b"\n"):
            breaks -= 1
        previous = block
    return breaks + 1
