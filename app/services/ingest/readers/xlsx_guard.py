"""Checks on an XLSX upload before any spreadsheet parser touches it: container, zip bomb, XML hazards, sheet extent.

Zip bombs: the central directory is checked first (total declared size, per-member ratio), then every XML part is
decompressed once, streaming, counting the bytes it really holds: a member holding more than it declares is
refused as soon as it passes its declared size (the Rust zip reader used by calamine trusts the stream, not the
directory). The same pass refuses DTDs and entity declarations (billion laughs, external entities) and XML parts
not encoded in UTF-8 (where such markup could hide from a byte scan).
Sheet extent: calamine holds a sheet as one dense grid sized by its outermost cells, so a lone cell at XFD1048576
makes it allocate 512 GB and abort the process. `sheet_extent` bounds that grid from the sheet XML; it reports
"inconclusive" for any markup it cannot bound (prefixed elements, cells without a canonical r="A1" reference).
"""

from __future__ import annotations

import copy
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from defusedxml import ElementTree

from app.core.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

BLOCK_BYTES = 1 << 20
MAX_MEMBERS = 10_000
RATIO_MIN_BYTES = 1 << 20
XML_SUFFIXES = (".xml", ".rels", ".vml")
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_UTF8_NAMES = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_PREFIXED_NAME_END = re.compile(rb":(?:c|row)[\s/>]")
_ELEMENT_PREFIX = re.compile(rb"<[A-Za-z_][\w.-]*")
_NONCANONICAL_CELL = re.compile(rb'<c(?![\w.:-])(?! r="[A-Z]{1,3}[1-9][0-9]{0,6}")')
_CELL_ROW = re.compile(rb'<c r="[A-Z]{1,3}([1-9][0-9]{0,6})"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[1-9]')


def zip_bomb(detail: str) -> PayloadTooLarge:
    return PayloadTooLarge(detail, code="zip_bomb")


def unsafe_xml(detail: str) -> Unprocessable:
    return Unprocessable(detail, code="unsafe_xml")


def invalid_xlsx(detail: str) -> Unprocessable:
    return Unprocessable(detail, code="invalid_xlsx")


@dataclass(frozen=True)
class SheetRef:
    name: str
    path: str
    kind: str  # "worksheet", "chartsheet", ...
    visible: bool


@dataclass(frozen=True)
class SheetExtent:
    conclusive: bool
    cells: int = 0
    max_row: int = 0
    max_col: int = 0

    @property
    def dense_cells(self) -> int:
        return self.max_row * self.max_col


def open_workbook_zip(fileobj: BinaryIO, max_uncompressed_bytes: int, max_ratio: float) -> zipfile.ZipFile:
    """The upload as a ZipFile, refused if it is not one, if its directory announces a bomb, or has no workbook."""
    fileobj.seek(0)
    head = fileobj.read(4096)
    if not head:
        raise Unprocessable("The file is empty", code="empty_file")
    fileobj.seek(0)
    if not zipfile.is_zipfile(fileobj):
        raise _not_a_zip(head)
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise invalid_xlsx(f"The workbook is damaged and cannot be opened: {exc}.") from exc
    try:
        _check_directory(archive, max_uncompressed_bytes, max_ratio)
    except BaseException:
        archive.close()
        raise
    return archive


def _not_a_zip(head: bytes) -> UnsupportedMediaType:
    if head.startswith(_OLE2_MAGIC):
        return UnsupportedMediaType(
            "This is a legacy Excel .xls file (or a password-protected workbook), not .xlsx; "
            "open it in Excel and save it as .xlsx without a password.",
            code="not_xlsx",
        )
    if b"\x00" not in head:
        return UnsupportedMediaType(
            "This file looks like text (CSV), not an .xlsx workbook; upload it to /ingest/csv instead.", code="not_xlsx"
        )
    return UnsupportedMediaType("This file is not an .xlsx workbook (it is not a ZIP archive).", code="not_xlsx")


def _check_directory(archive: zipfile.ZipFile, max_uncompressed_bytes: int, max_ratio: float) -> None:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise zip_bomb(f"The workbook has {len(members):,} parts; at most {MAX_MEMBERS:,} are accepted.")
    total = sum(info.file_size for info in members)
    if total > max_uncompressed_bytes:
        raise zip_bomb(f"The workbook expands to {total:,} bytes; at most {max_uncompressed_bytes:,} are accepted.")
    for info in members:
        if info.file_size > RATIO_MIN_BYTES and (
            info.compress_size == 0 or info.file_size / info.compress_size > max_ratio
        ):
            raise zip_bomb(
                f"The workbook part {info.filename!r} is compressed more than {max_ratio:g}:1, "
                "which only happens in zip bombs."
            )
    names = set(archive.namelist())
    if WORKBOOK not in names:
        if "xl/workbook.bin" in names:
            detail = "This is a binary .xlsb workbook; open it in Excel and save it as .xlsx."
        elif "content.xml" in names:
            detail = "This is an OpenDocument spreadsheet (.ods); open it and save it as .xlsx."
        else:
            detail = "This ZIP archive is not an .xlsx workbook (it has no xl/workbook.xml)."
        raise Unprocessable(detail, code="not_xlsx")
    if any(info.flag_bits & 0x1 for info in members):
        raise invalid_xlsx("The workbook is encrypted; save it again without a password.")


def scan_xml_parts(archive: zipfile.ZipFile, max_uncompressed_bytes: int) -> None:
    """Decompress every XML part once, streaming: real sizes, no DTD/entities, UTF-8 only."""
    total = 0
    for info in archive.infolist():
        if not info.filename.lower().endswith(XML_SUFFIXES):
            continue
        actual, tail = 0, b""
        try:
            with archive.open(_unbounded(info)) as stream:
                while block := stream.read(BLOCK_BYTES):
                    if not actual:
                        _check_xml_encoding(block, info.filename)
                    actual += len(block)
                    total += len(block)
                    if actual > info.file_size or total > max_uncompressed_bytes:
                        raise zip_bomb(
                            f"The workbook part {info.filename!r} holds more data than its declared "
                            f"{info.file_size:,} bytes."
                        )
                    if _DTD.search(tail + block):
                        raise unsafe_xml(
                            f"The workbook part {info.filename!r} contains a DTD or entity "
                            "declaration, which spreadsheets never need; it was refused for safety."
                        )
                    tail = block[-16:]
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
            raise invalid_xlsx(f"The workbook part {info.filename!r} is damaged: {exc}.") from exc
        if actual != info.file_size:
            raise invalid_xlsx(
                f"The workbook part {info.filename!r} holds {actual:,} bytes but declares {info.file_size:,}."
            )


def _unbounded(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    # zipfile stops at the declared size; lift it so a member holding more than it declares is seen.
    lifted = copy.copy(info)
    lifted.file_size = 1 << 62
    return lifted


def _check_xml_encoding(first: bytes, name: str) -> None:
    start = first[:1024]
    if start.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"\x2b\x2f\x76")) or start[1:2] == b"\x00":
        raise unsafe_xml(f"The workbook part {name!r} is not UTF-8 encoded; it was refused for safety.")
    match = _XML_ENCODING.match(start.removeprefix(b"\xef\xbb\xbf").lstrip())
    if match and match.group(1).lower() not in _UTF8_NAMES:
        raise unsafe_xml(
            f"The workbook part {name!r} declares encoding {match.group(1).decode(errors='replace')!r}; "
            "only UTF-8 is accepted."
        )


def read_sheets(archive: zipfile.ZipFile) -> list[SheetRef]:
    """The workbook's sheets in order, with the zip path of each one's XML."""
    try:
        book = ElementTree.fromstring(archive.read(WORKBOOK))
        rels = ElementTree.fromstring(archive.read(WORKBOOK_RELS)) if WORKBOOK_RELS in archive.namelist() else None
    except Exception as exc:  # defusedxml / expat errors on hostile or broken XML
        raise invalid_xlsx(f"The workbook index could not be read: {exc}.") from exc
    targets: dict[str, tuple[str, str]] = {}
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            targets[rel.get("Id", "")] = (path, rel.get("Type", "").rsplit("/", 1)[-1])
    sheets = []
    for element in book.iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = next((value for key, value in element.attrib.items() if _local(key) == "id" and "}" in key), None)
        path, kind = targets.get(rel_id or "", ("", ""))
        sheets.append(
            SheetRef(
                name=element.get("name", ""),
                path=path,
                kind=kind,
                visible=element.get("state", "visible") not in ("hidden", "veryHidden"),
            )
        )
    return sheets


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sheet_extent(archive: zipfile.ZipFile, path: str) -> SheetExtent:
    """Bound the dense grid calamine would build for a sheet, from its cells' r="A1" references."""
    cells = max_row = max_col = 0
    carry = b""
    with archive.open(path) as stream:
        while block := stream.read(BLOCK_BYTES):
            data = carry + block
            cut = data.rfind(b">") + 1
            data, carry = data[:cut], data[cut:]
            if len(carry) > 4 * BLOCK_BYTES:
                return SheetExtent(conclusive=False)
            rows = _CELL_ROW.findall(data)
            # "<c" also starts <col>, <cfRule>...: only when the counts differ is the exact (slower) check needed
            if len(rows) != data.count(b"<c") and _NONCANONICAL_CELL.search(data):
                return SheetExtent(conclusive=False)
            if _has_prefixed_cell_or_row(data):
                return SheetExtent(conclusive=False)
            if rows:
                cells += len(rows)
                max_row = max(max_row, _largest_number(rows))
                max_col = max(max_col, *map(_column_index, set(_CELL_COLUMN.findall(data))))
    if _has_prefixed_cell_or_row(carry) or _NONCANONICAL_CELL.search(carry):
        return SheetExtent(conclusive=False)
    return SheetExtent(conclusive=True, cells=cells, max_row=max_row, max_col=max_col)


def _has_prefixed_cell_or_row(data: bytes) -> bool:
    """Whether a namespace-prefixed <x:c> or <x:row> appears (calamine matches local names, the scan would not)."""
    for match in _PREFIXED_NAME_END.finditer(data):  # ":" is rare in sheet XML: anchor on it, then look back
        start = data.rfind(b"<", max(0, match.start() - 256), match.start())
        if start < 0 or _ELEMENT_PREFIX.fullmatch(data, start, match.start()):
            return True  # no "<" within 256 bytes: maybe a very long prefix, so assume the worst
    return False


def _largest_number(digits: list[bytes]) -> int:
    """The largest of canonical decimal numbers (no leading zeros), comparing bytes where that is exact."""
    top = max(digits)
    if len(top) == max(map(len, digits)):  # the lexicographic maximum has the most digits: it is the largest
        return int(top)
    return max(map(int, digits))


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index
