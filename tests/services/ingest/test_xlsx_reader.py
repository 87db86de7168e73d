"""XlsxReader: both engines, header detection, cell types, and the refusals (zip bombs, XML attacks, non-workbooks)."""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import textwrap
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from app.core.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from app.services.ingest.readers import XlsxReader
from app.services.ingest.readers import xlsx_reader as xlsx_module
from app.services.ingest.readers.xlsx_reader import header_index

ENGINES = ["calamine", "openpyxl"]
ROOT = Path(__file__).resolve().parents[3]

# --- building workbooks -------------------------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
# cellXfs: 0 general, 1 date (14), 2 date-time (22), 3 time (21), 4 duration [h]:mm:ss (46)
STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    + "".join(
        f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for n in (14, 22, 21, 46)
    )
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def sheet_xml(rows: str, dimension: str = "A1") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def shared_strings_xml(strings: list[str]) -> str:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    )


def text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def num(ref: str, value: object, style: int | None = None) -> str:
    return f'<c r="{ref}"{f" s={chr(34)}{style}{chr(34)}" if style else ""}><v>{value}</v></c>'


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def build_xlsx(
    sheets: list[tuple[str, str]],
    shared: str | None = None,
    states: dict[str, str] | None = None,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A minimal but complete .xlsx from hand-written sheet XML."""
    states = states or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "[Content_Types].xml",
            (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                f'{overrides}<Override PartName="/xl/styles.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                '<Override PartName="/xl/sharedStrings.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
            ),
        )
        archive.writestr(
            "_rels/.rels",
            (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG}">'
                f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
        )
        entries = "".join(
            f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"'
            f"{f' state={chr(34)}{states[name]}{chr(34)}' if name in states else ''}/>"
            for i, (name, _xml) in enumerate(sheets, start=1)
        )
        archive.writestr(
            "xl/workbook.xml",
            (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                f"<sheets>{entries}</sheets></workbook>"
            ),
        )
        links = "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG}">{links}'
                f'<Relationship Id="rIdS" Type="{REL}/styles" Target="styles.xml"/>'
                f'<Relationship Id="rIdT" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
            ),
        )
        archive.writestr("xl/styles.xml", STYLES)
        archive.writestr("xl/sharedStrings.xml", shared if shared is not None else shared_strings_xml([]))
        for i, (_name, xml) in enumerate(sheets, start=1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", xml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def openpyxl_xlsx(rows: list[list[object]], title: str = "Plan1") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_member(data: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return buffer.getvalue()


def read_all(reader: XlsxReader, size: int = 50_000) -> tuple[list[int], list[list[object]], list[tuple]]:
    lines, rows, bad = [], [], []
    for chunk in reader.chunks(size):
        assert len(chunk.line_numbers) == len(chunk.rows)
        assert all(len(cells) == len(reader.header) for cells in chunk.rows)
        lines += chunk.line_numbers
        rows += chunk.rows
        bad += chunk.bad_rows
    return lines, rows, bad


def open_reader(data: bytes, **kwargs) -> XlsxReader:
    return XlsxReader(io.BytesIO(data), **kwargs)


# --- reading ------------------------------------------------------------------------------------------------------

SALES = [
    ["Relatório de Vendas 2024"],
    [],
    ["Data", "Cidade", "Quantidade", "Valor", "Pago"],
    [date(2024, 1, 5), "São Paulo", 3, 10.5, True],
    [datetime(2024, 1, 6, 14, 30), "Açaí", 2, 1234.0, False],
    [],
    [date(2024, 1, 7), None, 7, None, None],
]


@pytest.mark.parametrize("engine", ENGINES)
def test_title_rows_dates_numbers_and_empty_rows(engine: str) -> None:
    reader = open_reader(openpyxl_xlsx(SALES), engine=engine)
    assert reader.info() == {"sheet": "Plan1", "engine": engine, "sheets": ["Plan1"]}
    assert reader.header == ["Data", "Cidade", "Quantidade", "Valor", "Pago"]
    assert reader.header_line == 3
    lines, rows, bad = read_all(reader)
    assert lines == [4, 5, 7]
    assert rows == [
        [date(2024, 1, 5), "São Paulo", 3, 10.5, True],
        [datetime(2024, 1, 6, 14, 30), "Açaí", 2, 1234, False],
        [date(2024, 1, 7), None, 7, None, None],
    ]
    assert type(rows[1][3]) is int and type(rows[0][3]) is float
    assert bad == []


@pytest.mark.parametrize("engine", ENGINES)
def test_formula_cells_give_cached_values(engine: str) -> None:
    rows = "".join(
        [
            row(1, text("A1", "a"), text("B1", "b"), text("C1", "soma"), text("D1", "texto"), text("E1", "sem cache")),
            row(
                2,
                num("A2", 2),
                num("B2", 3),
                '<c r="C2"><f>A2+B2</f><v>5</v></c>',
                '<c r="D2" t="str"><f>"x"&amp;A2</f><v>x2</v></c>',
                '<c r="E2"><f>A2/0</f></c>',
            ),
            row(
                3,
                num("A3", 1.5),
                num("B3", 1),
                '<c r="C3"><f>A3+B3</f><v>2.5</v></c>',
                '<c r="D3" t="e"><f>A3/0</f><v>#DIV/0!</v></c>',
                '<c r="E3" t="b"><f>TRUE()</f><v>1</v></c>',
            ),
        ]
    )
    reader = open_reader(build_xlsx([("Plan1", sheet_xml(rows))]), engine=engine)
    assert read_all(reader)[1] == [[2, 3, 5, "x2", None], [1.5, 1, 2.5, None, True]]


@pytest.mark.parametrize("engine", ENGINES)
def test_shared_strings_times_durations_and_errors(engine: str) -> None:
    rows = "".join(
        [
            row(
                1,
                '<c r="A1" t="s"><v>0</v></c>',
                '<c r="B1" t="s"><v>1</v></c>',
                '<c r="C1" t="s"><v>2</v></c>',
                '<c r="D1" t="s"><v>3</v></c>',
            ),
            row(
                2, num("A2", "45292.5", 2), num("B2", "0.75", 3), num("C2", "1.5", 4), '<c r="D2" t="e"><v>#N/A</v></c>'
            ),
            row(3, num("A3", "45293", 2), num("B3", "0.5", 3), num("C3", "0.25", 4), '<c r="D3" t="s"><v>4</v></c>'),
        ]
    )
    shared = shared_strings_xml(["quando", "hora", "duração", "erro", "ok"])
    reader = open_reader(build_xlsx([("Plan1", sheet_xml(rows))], shared=shared), engine=engine)
    assert reader.header == ["quando", "hora", "duração", "erro"]
    assert read_all(reader)[1] == [
        [datetime(2024, 1, 1, 12), time(18), "36:00:00", None],
        [date(2024, 1, 2), time(12), "6:00:00", "ok"],
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_ragged_rows_and_values_beyond_the_header(engine: str) -> None:
    rows = "".join(
        [
            row(1, text("A1", "a"), text("B1", "b"), text("C1", "c")),
            row(2, num("A2", 1)),
            row(4, num("A4", 1), num("B4", 2), num("C4", 3), '<c r="E4" t="inlineStr"><is><t></t></is></c>'),
            row(5, num("A5", 1), num("F5", 6)),
        ]
    )
    lines, rows_read, bad = read_all(open_reader(build_xlsx([("Plan1", sheet_xml(rows))]), engine=engine))
    assert lines == [2, 4]
    assert rows_read == [[1, None, None], [1, 2, 3]]
    assert bad == [(5, "1 |  |  |  |  | 6", "row has 6 fields, header has 3")]


@pytest.mark.parametrize("engine", ENGINES)
def test_header_cells_are_cleaned(engine: str) -> None:
    rows = "".join(
        [
            row(2, text("B2", " Valor "), text("D2", "valor"), num("E2", 2023), text("F2", "Obs\nGeral")),
            row(3, num("B3", 1), num("C3", 2), num("D3", 3), num("E3", 4), text("F3", "x")),
        ]
    )
    reader = open_reader(build_xlsx([("Plan1", sheet_xml(rows))]), engine=engine)
    assert reader.header == ["column_1", "Valor", "column_3", "valor_2", "2023", "Obs Geral"]
    assert reader.header_line == 2
    assert read_all(reader)[1] == [[None, 1, 2, 3, 4, "x"]]


def test_header_rule() -> None:
    title, period = ["Relatório de Vendas 2024"], ["Período:", "jan-dez"]
    header, data = ["Data", "Cidade", "Valor"], [date(2024, 1, 1), "Recife", 10]
    assert header_index([title, period, header, data, data]) == 2
    assert header_index([header, data]) == 0
    # a header with a blank cell above wider, mostly numeric rows still wins
    assert header_index([title, ["Data", None, "Valor"], [date(2024, 1, 1), 1, 2]]) == 1
    # numbers only: the first non-empty row
    assert header_index([[1, 2], [3, 4]]) == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_chunks_restart_and_account_for_every_row(engine: str) -> None:
    values = [["id", "nome"]] + [[i, f"n{i}"] if i % 50 else [i, "a", "extra"] for i in range(1, 301)]
    reader = open_reader(openpyxl_xlsx(values), engine=engine)
    first, second = read_all(reader, size=7), read_all(reader)
    assert first == second
    lines, rows, bad = first
    assert len(rows) + len(bad) == 300
    assert sorted(lines + [line for line, _, _ in bad]) == list(range(2, 302))
    assert [line for line, _, _ in bad] == [51, 101, 151, 201, 251, 301]
    assert all(len(c.rows) + len(c.bad_rows) <= 7 for c in reader.chunks(7))


def test_both_engines_read_the_same_rows() -> None:
    values: list[list[object]] = [["Relatório"], ["id", "quando", "cidade", "valor", "ativo", "obs"]]
    for i in range(1, 3001):
        values.append(
            []
            if i % 97 == 0
            else [
                i,
                datetime(2024, 1, 1 + i % 28, i % 24, i % 60) if i % 3 else date(2024, 2, 1 + i % 28),
                ["São Paulo", "Belém", "Açaí"][i % 3],
                i * 1.25 if i % 4 else i * 2,
                i % 2 == 0,
                None if i % 5 else "ok",
            ]
        )
    data = openpyxl_xlsx(values)
    results = {engine: read_all(open_reader(data, engine=engine), size=500) for engine in ENGINES}
    assert results["calamine"] == results["openpyxl"]
    assert len(results["calamine"][1]) == 3000 - 3000 // 97


def test_calamine_is_preferred_and_openpyxl_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    data = openpyxl_xlsx([["a", "b"], [1, 2]])
    assert open_reader(data).info()["engine"] == "calamine"
    monkeypatch.setattr(xlsx_module, "python_calamine", None)
    reader = open_reader(data)
    assert reader.info()["engine"] == "openpyxl"
    assert read_all(reader)[1] == [[1, 2]]


# --- sheets -------------------------------------------------------------------------------------------------------


def two_sheets(states: dict[str, str] | None = None) -> bytes:
    return build_xlsx(
        [
            ("Resumo", sheet_xml(row(1, text("A1", "total"), text("B1", "x")) + row(2, num("A2", 1)))),
            ("Dados", sheet_xml(row(1, text("A1", "id"), text("B1", "nome")) + row(2, num("A2", 7)))),
        ],
        states=states,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_named_sheet(engine: str) -> None:
    reader = open_reader(two_sheets(), sheet="Dados", engine=engine)
    assert reader.info() == {"sheet": "Dados", "engine": engine, "sheets": ["Resumo", "Dados"]}
    assert reader.header == ["id", "nome"]
    assert read_all(reader)[1] == [[7, None]]
    assert open_reader(two_sheets(), engine=engine).info()["sheet"] == "Resumo"


def test_first_visible_sheet_by_default() -> None:
    assert open_reader(two_sheets({"Resumo": "hidden"})).info()["sheet"] == "Dados"


def test_unknown_sheet_lists_the_names() -> None:
    with pytest.raises(Unprocessable) as error:
        open_reader(two_sheets(), sheet="Vendas")
    assert error.value.code == "sheet_not_found"
    assert "'Resumo', 'Dados'" in error.value.detail


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_sheet(engine: str) -> None:
    with pytest.raises(Unprocessable) as error:
        open_reader(build_xlsx([("Plan1", sheet_xml(""))]), engine=engine)
    assert error.value.code == "empty_file"


# --- the dimension lie and sparse sheets --------------------------------------------------------------------------


def with_dimension(data: bytes, dimension: str) -> bytes:
    tag = f'<dimension ref="{dimension}"/>'.encode()
    pattern = re.compile(rb'<dimension ref="[^"]*"\s*/>')
    return rewrite_member(data, "xl/worksheets/sheet1.xml", lambda xml: pattern.sub(tag, xml))


# Peak RSS of this interpreter alone: Linux's VmHWM. ru_maxrss survives exec, so a child spawned with vfork
# reports the test runner's own peak (over 400 MB late in a full run) instead of its own.
MEASURE = textwrap.dedent("""
    import json, resource, sys, time
    from app.services.ingest.readers import XlsxReader
    def peak_mb():
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) // 1024
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    started = time.perf_counter()
    with open(sys.argv[1], "rb") as handle:
        reader = XlsxReader(handle, engine=None if sys.argv[2] == "auto" else sys.argv[2])
        rows = sum(len(chunk.rows) for chunk in reader.chunks())
        bad = [line for chunk in reader.chunks() for line, _, _ in chunk.bad_rows]
    print(json.dumps([reader.info()["engine"], rows, bad, time.perf_counter() - started, peak_mb()]))
""")


def measure(path: Path, engine: str) -> tuple[str, int, list[int], float, int]:
    """Read a workbook in a fresh interpreter: (engine, rows, bad lines, seconds, peak RSS in MB)."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), engine],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    engine_used, rows, bad, seconds, rss = json.loads(done.stdout.strip().splitlines()[-1])
    return engine_used, rows, bad, seconds, rss


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dimension", ["A1:Z1048576", "A1:XFD1048576"])
def test_dimension_claiming_a_million_rows_is_not_trusted(tmp_path: Path, engine: str, dimension: str) -> None:
    path = tmp_path / "lie.xlsx"
    path.write_bytes(with_dimension(openpyxl_xlsx([["a", "b", "c"], [1, 2, 3], [4, 5, 6], [7, 8, 9]]), dimension))
    assert b"1048576" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    engine_used, rows, bad, seconds, rss = measure(path, engine)
    assert (engine_used, rows, bad) == (engine, 3, [])
    assert seconds < 5 and rss < 400


@pytest.mark.parametrize("engine", ENGINES)
def test_dimension_claiming_too_few_rows_loses_nothing(engine: str) -> None:
    data = with_dimension(openpyxl_xlsx([["a"]] + [[i] for i in range(1, 11)]), "A1:A2")
    assert read_all(open_reader(data, engine=engine))[1] == [[i] for i in range(1, 11)]


def test_far_away_cell_never_reaches_calamine(tmp_path: Path) -> None:
    # calamine would allocate a dense 1,048,576 x 16,384 grid (512 GB) and abort the process: run in a subprocess
    far = row(1048576, num("XFD1048576", 1))
    path = tmp_path / "sparse.xlsx"
    path.write_bytes(
        build_xlsx([("Plan1", sheet_xml(row(1, text("A1", "a"), text("B1", "b")) + row(2, num("A2", 1)) + far))])
    )
    engine_used, rows, bad, seconds, rss = measure(path, "auto")
    assert (engine_used, rows, bad) == ("openpyxl", 1, [1048576])
    assert seconds < 10 and rss < 400


@pytest.mark.parametrize(
    "cell",
    [
        '<x:c r="XFD9" xmlns:x="urn:x"><x:v>1</x:v></x:c>',
        '<c r="&#88;FD9"><v>1</v></c>',
        "<c r = 'XFD9'><v>1</v></c>",
        '<c s="0" r="XFD9"><v>1</v></c>',
        "<c><v>1</v></c>",
        f'<{"p" * 300}:c r="XFD9" xmlns:{"p" * 300}="urn:x"><v>1</v></{"p" * 300}:c>',
    ],
)
def test_cells_the_extent_scan_cannot_bound_go_to_openpyxl(cell: str) -> None:
    data = build_xlsx([("Plan1", sheet_xml(row(1, text("A1", "a"), text("B1", "b")) + f'<row r="9">{cell}</row>'))])
    assert open_reader(data).info()["engine"] == "openpyxl"


# --- refusals: not a workbook -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        ("nome;valor\nSão Paulo;1\n".encode(), "/ingest/csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "save it as .xlsx"),
        (bytes(range(256)) * 4, "not a ZIP"),
    ],
)
def test_non_zip_uploads_are_refused_with_415(data: bytes, hint: str) -> None:
    with pytest.raises(UnsupportedMediaType) as error:
        open_reader(data)
    assert error.value.code == "not_xlsx"
    assert hint in error.value.detail


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "hint"),
    [
        ({"readme.txt": b"hello"}, "no xl/workbook.xml"),
        ({"xl/workbook.bin": b"\x00"}, ".xlsb"),
        ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}, ".ods"),
    ],
)
def test_zips_without_a_workbook_are_refused(members: dict[str, bytes], hint: str) -> None:
    with pytest.raises(Unprocessable) as error:
        open_reader(zip_of(members))
    assert error.value.code == "not_xlsx"
    assert hint in error.value.detail


def test_empty_upload() -> None:
    with pytest.raises(Unprocessable) as error:
        open_reader(b"")
    assert error.value.code == "empty_file"


# --- refusals: zip bombs ------------------------------------------------------------------------------------------


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(openpyxl_xlsx([["a"], [1]]))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive, archive.open("xl/media/zeros.bin", "w") as out:
        block = bytes(1 << 20)
        for _ in range(300):  # 300 MB of zeros, about 300 KB compressed, written in a streaming way
            out.write(block)
    assert path.stat().st_size < 2_000_000
    with path.open("rb") as handle, pytest.raises(PayloadTooLarge) as error:
        XlsxReader(handle)
    assert error.value.code == "zip_bomb"
    assert error.value.status_code == 413


def test_zip_bomb_by_total_size() -> None:
    zeros = bytes(3 << 20)
    data = build_xlsx([("Plan1", sheet_xml(row(1, text("A1", "a"))))], extra={"xl/media/big.bin": zeros})
    with pytest.raises(PayloadTooLarge) as error:
        open_reader(data, max_uncompressed_bytes=2 << 20, max_ratio=10**9)
    assert error.value.code == "zip_bomb"
    assert "2,097,152" in error.value.detail


def test_member_holding_more_than_it_declares() -> None:
    rows = "".join(row(i, num(f"A{i}", i)) for i in range(2, 2000))
    data = bytearray(build_xlsx([("Plan1", sheet_xml(row(1, text("A1", "n")) + rows))]))
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_at, name_at in ((b"PK\x01\x02", 24, 46), (b"PK\x03\x04", 22, 30)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at : start + name_at + len(name)] == name:
                data[start + size_at : start + size_at + 4] = struct.pack("<I", 1000)  # claim 1,000 bytes
            start += 4
    with pytest.raises(PayloadTooLarge) as error:
        open_reader(bytes(data))
    assert error.value.code == "zip_bomb"
    assert "sheet1.xml" in error.value.detail


# --- refusals: XML attacks ----------------------------------------------------------------------------------------

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>\n"
)


def test_defusedxml_protects_openpyxl() -> None:
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize("engine", ENGINES)
def test_entity_bomb_in_shared_strings(engine: str) -> None:
    shared = LAUGHS + f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    data = build_xlsx([("Plan1", sheet_xml(row(1, '<c r="A1" t="s"><v>0</v></c>')))], shared=shared)
    with pytest.raises(Unprocessable) as error:
        open_reader(data, engine=engine)
    assert error.value.code == "unsafe_xml"
    assert "sharedStrings.xml" in error.value.detail


@pytest.mark.parametrize(
    "prolog",
    [
        '<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
        '<?xml version="1.0"?>\n<!doctype w [<!entity x "y">]>\n',
        LAUGHS,
    ],
)
def test_dtd_in_a_sheet(prolog: str) -> None:
    xml = prolog + f'<worksheet xmlns="{MAIN}"><sheetData>{row(1, text("A1", "a"))}</sheetData></worksheet>'
    with pytest.raises(Unprocessable) as error:
        open_reader(build_xlsx([("Plan1", xml)]))
    assert error.value.code == "unsafe_xml"


@pytest.mark.parametrize(
    "encode",
    [
        lambda xml: xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
        lambda xml: xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-le"),
        lambda xml: xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1"),
        lambda xml: xml.replace('encoding="UTF-8"', 'encoding="UTF-7"').encode("utf-7"),
    ],
)
def test_xml_parts_must_be_utf8(encode) -> None:
    data = build_xlsx([("Plan1", "")])
    data = rewrite_member(data, "xl/worksheets/sheet1.xml", lambda _: encode(sheet_xml(row(1, text("A1", "ção")))))
    with pytest.raises(Unprocessable) as error:
        open_reader(data)
    assert error.value.code == "unsafe_xml"
