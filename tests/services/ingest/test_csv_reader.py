"""CsvReader: refusals, encoding and delimiter detection, record shaping, line numbers, streaming."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import openpyxl
import pytest

from app.core.errors import Unprocessable, UnsupportedMediaType
from app.services.ingest.readers import CsvReader, clean_header
from app.services.ingest.readers import csv_reader as csv_module
from app.services.ingest.readers.csv_reader import sniff_delimiter

ROWS = [
    ["Cidade", "Produto", "Valor"],
    ["São Paulo", "Açaí", "1.234,56"],
    ["Belém", "Pão de queijo", "7,5"],
    ["Curitiba", "Café", ""],
]


def encode_rows(rows: list[list[str]], delimiter: str = ";", encoding: str = "utf-8", newline: str = "\r\n") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue().encode(encoding)


def read_all(reader: CsvReader, size: int = 50_000) -> tuple[list[int], list[list[object]], list[tuple]]:
    lines, rows, bad = [], [], []
    for chunk in reader.chunks(size):
        assert len(chunk.line_numbers) == len(chunk.rows)
        lines += chunk.line_numbers
        rows += chunk.rows
        bad += chunk.bad_rows
    return lines, rows, bad


def reader_for(data: bytes) -> CsvReader:
    return CsvReader(io.BytesIO(data))


# --- encodings and delimiters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_and_delimiters(encoding: str, delimiter: str) -> None:
    reader = reader_for(encode_rows(ROWS, delimiter, encoding))
    assert reader.info() == {"encoding": encoding, "delimiter": delimiter}
    assert reader.header == ROWS[0]
    assert reader.header_line == 1
    lines, rows, bad = read_all(reader)
    assert rows == ROWS[1:]
    assert lines == [2, 3, 4]
    assert bad == []


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_latin1_when_cp1252_cannot_decode(delimiter: str) -> None:
    rows = [*ROWS, ["Macapá", "controle\x8d", "1"]]  # 0x8D is undefined in cp1252, a C1 control in latin-1
    reader = reader_for(encode_rows(rows, delimiter, "latin-1"))
    assert reader.info() == {"encoding": "latin-1", "delimiter": delimiter}
    assert read_all(reader)[1] == rows[1:]


def test_cp1252_byte_only_near_the_end_of_a_long_file(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    with path.open("wb") as handle:
        handle.write(b"id;cidade;valor\r\n")
        handle.writelines(f"{i};Sao Paulo;{i},50\r\n".encode() for i in range(1, 100_000))
        handle.write("100000;Açaí;9,99\r\n".encode("cp1252"))
    with path.open("rb") as handle:
        reader = CsvReader(handle)
        assert reader.info()["encoding"] == "cp1252"
        lines, rows, bad = read_all(reader)
    assert len(rows) == 100_000 and not bad
    assert rows[-1] == ["100000", "Açaí", "9,99"]
    assert lines[-1] == 100_001


def test_utf16_with_bom_excel_unicode_text() -> None:
    data = codecs.BOM_UTF16_LE + encode_rows(ROWS, "\t", "utf-16-le")
    reader = reader_for(data)
    assert reader.info() == {"encoding": "utf-16", "delimiter": "\t"}
    assert reader.header == ROWS[0]
    assert read_all(reader)[1] == ROWS[1:]


def test_bom_is_not_part_of_the_first_header_name() -> None:
    reader = reader_for(codecs.BOM_UTF8 + b"nome;valor\n" + "José;1\n".encode())
    assert reader.header == ["nome", "valor"]
    assert reader.info()["encoding"] == "utf-8-sig"


def test_bom_with_invalid_utf8_is_refused() -> None:
    with pytest.raises(Unprocessable) as error:
        reader_for(codecs.BOM_UTF8 + b"nome;valor\nJos\xe9;1\n")
    assert error.value.code == "invalid_encoding"
    assert "line 2" in error.value.detail


# --- delimiter sniffing -----------------------------------------------------------------------------------------


def test_semicolon_wins_over_decimal_commas() -> None:
    assert sniff_delimiter("produto;valor\nArroz;1,50\nFeijão;12,75\nSal;3\n") == ";"


def test_semicolon_preferred_on_ties() -> None:
    assert sniff_delimiter("a;b,c\n1;2,3\n") == ";"


def test_delimiters_inside_quotes_are_ignored() -> None:
    sample = 'nome,obs\n"Silva; João","a;b;c"\n"Souza; Ana","x;y"\n'
    assert sniff_delimiter(sample) == ","


def test_single_column_file_reports_comma() -> None:
    reader = reader_for(b"cidade\nRecife\nNatal\n")
    assert reader.info()["delimiter"] == ","
    assert reader.header == ["cidade"]
    assert read_all(reader)[1] == [["Recife"], ["Natal"]]


def test_most_consistent_delimiter_wins() -> None:
    lines = ["a\tb\tc"] + [f"{i}\tdescrição, com vírgula\t{i}" for i in range(10)] + ["x\ty\tz, w, k"]
    assert sniff_delimiter("\n".join(lines) + "\n") == "\t"


# --- record shaping and line numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_quoted_fields_keep_physical_line_numbers(newline: str) -> None:
    text = (
        newline.join(
            [
                "nome;endereço;obs",
                '"Silva; João";"Rua A, 10' + newline + 'Apto 2";"diz ""oi"""',
                "Ana;Rua B;",
                '"Multi' + newline + newline + 'linha";x;y',
                "Zé;Rua C;z",
            ]
        )
        + newline
    )
    reader = reader_for(text.encode())
    lines, rows, bad = read_all(reader)
    assert rows == [
        ["Silva; João", "Rua A, 10" + newline + "Apto 2", 'diz "oi"'],
        ["Ana", "Rua B", ""],
        ["Multi" + newline + newline + "linha", "x", "y"],
        ["Zé", "Rua C", "z"],
    ]
    assert lines == [2, 4, 5, 8]
    assert bad == []


def test_blank_lines_anywhere_are_skipped_and_not_counted() -> None:
    text = "\n\n  \nnome;valor\n\n1;2\n;;\n   \n3;4\n\n\n"
    reader = reader_for(text.encode())
    assert reader.header_line == 4
    lines, rows, bad = read_all(reader)
    assert rows == [["1", "2"], ["3", "4"]]
    assert lines == [6, 9]
    assert bad == []


def test_trailing_delimiter_on_every_line() -> None:
    reader = reader_for(b"nome;valor;\nA;1;\nB;2;\n")
    assert reader.header == ["nome", "valor"]
    assert read_all(reader)[1] == [["A", "1"], ["B", "2"]]


def test_ragged_rows() -> None:
    text = "a;b;c\n1\n1;2\n1;2;3;;\n1;2;3;4\n1;2;3;4;5;;\n"
    lines, rows, bad = read_all(reader_for(text.encode()))
    assert rows == [["1", "", ""], ["1", "2", ""], ["1", "2", "3"]]
    assert lines == [2, 3, 4]
    assert bad == [
        (5, "1;2;3;4", "row has 4 fields, header has 3"),
        (6, "1;2;3;4;5;;", "row has 5 fields, header has 3"),
    ]


def test_values_are_passed_as_read() -> None:
    reader = reader_for(b'nome;valor\n  Ana ; 1,5 \n"  B  ";"0012"\n')
    assert read_all(reader)[1] == [["  Ana ", " 1,5 "], ["  B  ", "0012"]]


def test_header_names_are_cleaned() -> None:
    reader = reader_for(b" nome ;;nome;NOME;valor;;\n1;2;3;4;5\n")
    assert reader.header == ["nome", "column_2", "nome_2", "NOME_3", "valor"]


def test_clean_header_rules() -> None:
    assert clean_header(["\ufeffId", " Valor\nTotal ", "", None, "id", "column_3", 2023.0, "", None]) == [
        "Id",
        "Valor Total",
        "column_3",
        "column_4",
        "id_2",
        "column_3_2",
        "2023",
    ]


def test_header_only_gives_no_rows() -> None:
    reader = reader_for(b"a;b;c\r\n\r\n")
    assert reader.header == ["a", "b", "c"]
    assert list(reader.chunks()) == []


def test_every_record_is_accounted_once_across_chunks_and_passes() -> None:
    rows = [["id", "valor"]] + [[str(i), str(i * 2)] for i in range(1, 1001)]
    rows[500] = ["500", "1", "extra"]
    reader = reader_for(encode_rows(rows))
    first = read_all(reader, size=7)
    second = read_all(reader, size=1000)
    assert first == second
    lines, good, bad = first
    assert len(good) + len(bad) == 1000
    assert sorted(lines + [line for line, _, _ in bad]) == list(range(2, 1002))
    assert bad == [(501, "500;1;extra", "row has 3 fields, header has 2")]
    assert all(len(chunk.rows) + len(chunk.bad_rows) <= 7 for chunk in reader.chunks(7))


def test_huge_field_is_a_bad_row_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_bytes(b"a;b\n1;2\n3;" + b"x" * (csv_module.MAX_FIELD_CHARS + 10) + b"\n5;6\n")
    with path.open("rb") as handle:
        lines, rows, bad = read_all(CsvReader(handle))
    assert rows == [["1", "2"], ["5", "6"]]
    assert lines == [2, 4]
    assert [(line, reason) for line, _, reason in bad] == [(3, "a field is longer than 10,485,760 characters")]


def test_overlong_line_is_a_bad_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_module, "MAX_LINE_CHARS", 1000)
    monkeypatch.setattr(csv_module, "BLOCK_BYTES", 256)  # the scan only measures lines crossing a block edge
    data = b"a;b\n1;2\n" + b"y;" * 800 + b"\n\n5;6\n"
    lines, rows, bad = read_all(reader_for(data))
    assert rows == [["1", "2"], ["5", "6"]]
    assert lines == [2, 5]
    assert bad == [(3, ("y;" * 100), "line 3 is longer than 1,000 characters")]


def test_unclosed_quote_does_not_silently_swallow_the_file() -> None:
    body = "".join(f"{i};{i}\n" for i in range(1200))
    _lines, rows, bad = read_all(reader_for(('a;b\n1;2\n"oops;3\n' + body).encode()))
    assert rows == [["1", "2"]]
    assert [(line, reason) for line, _, reason in bad] == [(3, "record spans 1201 lines; probably an unclosed quote")]


# --- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \r\n\n\t\n", codecs.BOM_UTF8, b";;;\n;;\n"])
def test_empty_files_are_refused(data: bytes) -> None:
    with pytest.raises(Unprocessable) as error:
        reader_for(data)
    assert error.value.code == "empty_file"
    assert error.value.status_code == 422


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["a", "b"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (xlsx_bytes(), "/ingest/xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"<html><body><table><tr><td>a</td></tr></table></body></html>", "HTML"),
        (b"nome;valor\x00\x00\x01\x02" + bytes(range(256)) * 10, "binary"),
        (b"a;b\n" + bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15]) * 200, "binary"),
        (codecs.BOM_UTF32_LE + "a;b\n".encode("utf-32-le"), "UTF-32"),
    ],
)
def test_non_csv_uploads_are_refused_with_415(data: bytes, hint: str) -> None:
    with pytest.raises(UnsupportedMediaType) as error:
        reader_for(data)
    assert error.value.code == "not_csv"
    assert error.value.status_code == 415
    assert hint in error.value.detail


def test_nul_byte_mid_file_is_malformed_and_names_the_line() -> None:
    head = "".join(f"{i};valor {i}\n" for i in range(10_000)).encode()
    data = b"id;valor\n" + head + b"10000;bro\x00ken\n10001;ok\n"
    with pytest.raises(Unprocessable) as error:
        reader_for(data)
    assert error.value.code == "malformed_csv"
    assert "line 10002" in error.value.detail


# --- streaming --------------------------------------------------------------------------------------------------


class BoundedReads(io.BytesIO):
    """A file that fails any read without a size or larger than 4 MB: the reader must stream."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and 0 <= size <= 4 << 20, f"unbounded read({size})"
        return super().read(size)

    def read1(self, size: int = -1) -> bytes:
        assert 0 <= size <= 4 << 20, f"unbounded read1({size})"
        return super().read1(size)


def test_reads_are_bounded_and_the_caller_file_stays_open() -> None:
    rows = [["id", "nome"]] + [[str(i), "x" * 50] for i in range(50_000)]
    handle = BoundedReads(encode_rows(rows))
    reader = CsvReader(handle)
    assert sum(len(chunk.rows) for chunk in reader.chunks(10_000)) == 50_000
    assert not handle.closed


# --- where the header is -----------------------------------------------------------------------------------------


def test_title_lines_above_the_header_are_not_data():
    data = "Relatório de vendas\r\n\r\nData;Valor\r\n01/01/2024;1,00\r\n\r\n02/01/2024;2,00\r\n".encode("cp1252")
    reader = reader_for(data)
    assert (reader.header, reader.header_line) == (["Data", "Valor"], 3)
    assert read_all(reader) == ([4, 6], [["01/01/2024", "1,00"], ["02/01/2024", "2,00"]], [])


def test_a_single_column_file_keeps_its_first_line_as_the_header():
    reader = reader_for(b"valor\n1\n2\n")
    assert (reader.header, reader.header_line) == (["valor"], 1)
    assert read_all(reader)[1] == [["1"], ["2"]]


def test_header_row_picks_the_line_and_skips_everything_above():
    data = b"Empresa;2024\nData;Valor\n01/01/2024;5\n"
    assert reader_for(data).header == ["Empresa", "2024"]  # two values: read as the header when not told
    reader = CsvReader(io.BytesIO(data), header_row=2)
    assert (reader.header, reader.header_line) == (["Data", "Valor"], 2)
    assert read_all(reader) == ([3], [["01/01/2024", "5"]], [])
    inside = b'Nota;"duas\nlinhas"\nData;Valor\n'
    with pytest.raises(Unprocessable, match="inside a record that starts at line 1"):
        CsvReader(io.BytesIO(inside), header_row=2)
