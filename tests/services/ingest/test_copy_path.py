"""The COPY path (SQL parsing on Postgres) and the Python path give identical results on the same files: the same
facts, staging rows and rejected rows (line, column, value, reason, in order), and the same detected formats."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.models import Fact, RejectedRow, StagingRow
from app.services.ingest.copy_path import raw_copy
from tests.conftest import all_orgs_session, is_postgres
from tests.ingest_helpers import make_csv, sample_rows, upload

LONG = "x" * 70
# Every cell rejection the odd rows cause.
CELL_REASONS = {
    "not a date in format dd/mm/yyyy",
    "date out of range",
    "empty value",
    "not a number",
    "out of range",
    "unknown UF",
}
ODD_ROWS = [
    # date; value; UF; category; note
    "01/02/2024;1.234,56;SP;A;normal",
    "31/02/2024;10,00;RJ;A;invalid day",
    "29/02/2023;1,00;RJ;A;not a leap year",
    "29/02/2024;1,00;rj;A;leap day",
    "01/01/1899;1,00;MG;A;before 1900",
    "31/12/2101;1,00;MG;A;after 2100",
    "2024-03-05;2,00;BA;B;iso in a dmy column",
    "2024-03-05T10:30:00;2,00;BA;B;iso datetime",
    "2024-03-05 10:30:00.123+03:00;2,00;BA;B;iso with fraction and offset",
    "2024-03-05T25:30:00;2,00;BA;B;hour 25",
    "5/3/2024;3,00; sp ;B;short day and month",
    " 06/03/2024 ;3,00;São Paulo;B;padded",
    "\u00a006/03/2024\u00a0;3,00;sao paulo;B;nbsp",
    ";3,00;SP;B;empty date",
    "   ;3,00;SP;B;blank date",
    f"{LONG};3,00;SP;B;long date",
    f"{' ' * 70};3,00;SP;B;long blank date",
    "00/01/2024;3,00;SP;B;day zero",
    "01/13/2024;3,00;SP;B;month 13",
    "abc;3,00;SP;B;text date",
    "06/03/24;3,00;SP;B;two-digit year in a four-digit column",
    "07/03/2024;-1.234,56;PR;C;negative",
    "07/03/2024;(10,00);PR;C;parentheses",
    "07/03/2024;R$ 1,00;PR;C;currency",
    "07/03/2024;- R$ 0,44;PR;C;sign before currency",
    "07/03/2024;R$ -5;PR;C;sign after currency",
    "07/03/2024;1234.56;PR;C;point in a comma column",
    "07/03/2024;1,234.56;PR;C;point thousands",
    "07/03/2024;1e5;PR;C;exponent",
    "07/03/2024;1,1234567;PR;C;seven decimals",
    "07/03/2024;1,0000005;PR;C;half to even",
    "07/03/2024;1,0000015;PR;C;half to even up",
    "07/03/2024;123456789012345678901;PR;C;too many digits",
    "07/03/2024;999999999999999999,9999999;PR;C;rounding carry",
    "07/03/2024;;PR;C;empty value",
    "07/03/2024;  ;PR;C;blank value",
    "07/03/2024;abc;PR;C;text value",
    "07/03/2024;1.23;PR;C;short group",
    "07/03/2024;,5;PR;C;fraction only",
    "07/03/2024;5,;PR;C;trailing comma",
    "07/03/2024;+7;PR;C;plus",
    "07/03/2024;\u22123;PR;C;minus sign",
    f"07/03/2024;{'0' * 70}1,5;PR;C;long value",
    f"07/03/2024;{'9' * 70};PR;C;long out of range",
    "07/03/2024;1.234.567;PR;C;groups only",
    "07/03/2024;0,000000;PR;C;zero",
    "07/03/2024;-0;PR;C;negative zero",
    "08/03/2024;1,00;XX;D;unknown UF",
    "08/03/2024;1,00;;D;no UF",
    "08/03/2024;1,00;Distrito  Federal;D;double space",
    "08/03/2024;1,00;Pará;D;accent",
    "08/03/2024;1,00;PARA;D;no accent",
    "08/03/2024;1,00;SP; A ;padded category",
    "08/03/2024;1,00;SP;A  B;double space category",
    '08/03/2024;1,00;SP;"A\tB";tab category',
    "08/03/2024;1,00;SP;;empty category",
    "08/03/2024;1,00;SP;   ;blank category",
    f"08/03/2024;1,00;SP;{'Ação ' * 60};long category",
    "08/03/2024;1,00;SP;Ação;accented category",
    "31/02/2024;abc;XX;E;three errors",
    "09/03/2024;1,00;SP;E;x;y;too many fields",
    "09/03/2024;1,00;SP;E;trailing empty fields;;;",
    "09/03/2024;1,00;SP",
    "",
    '09/03/2024;1,00;SP;E;"a note\nover two lines"',
    '09/03/2024;1,00;SP;E;it\'s quoted "inside"',
]


def _odd_file() -> bytes:
    return ("Data;Valor;UF;Categoria;Obs\r\n" + "\r\n".join(ODD_ROWS) + "\r\n").encode("utf-8")


def _regular_odd_file() -> bytes:
    """The odd cells on regular records only (5 fields, no quotes, no blank line): the file's bytes go to COPY."""
    rows = [row for row in ODD_ROWS if row.count(";") == 4 and '"' not in row]
    return ("Data;Valor;UF;Categoria;Obs\r\n" + "\r\n".join(rows) + "\r\n").encode("utf-8")


HEADER = "Data;Valor;UF;Categoria;Obs"
# Files whose bytes COPY reads as the Python reader would (the raw COPY is used), and files it must leave to Python.
RAW_FILES = {
    "odd-regular": _regular_odd_file(),
    "quoted-fields": (
        f'{HEADER}\n"01/02/2024";"1.234,56";SP;"A;B";"6"" pipe"\n02/02/2024;2,00;"RJ";"";"say ""hi"""\n'
        '03/02/2024;3,00;MG;C;"a ""quoted"" word; and more"\n'
    ).encode("cp1252"),
    "title-bom-cr-trailing-blank-lines": (
        "\ufeffRelatório de vendas\r\rData;Valor;UF;Categoria\r01/02/2024;1,00;SP;A\r02/02/2024;2,00;RJ;B\r\r\r"
    ).encode("utf-8"),
    "blank-records-of-delimiters": (
        f"{HEADER}\n01/02/2024;1,00;SP;A;x\n;;;;\n ; ;\u00a0; ;\n02/02/2024;2,00;RJ;B;y\n".encode()
    ),
    "no-final-line-break": f"{HEADER}\n01/02/2024;1,00;SP;A;x\n02/02/2024;2,00;RJ;B;y".encode("cp1252"),
}
FALLBACK_FILES = {
    "odd": _odd_file(),
    "blank-line-inside": f"{HEADER}\n01/02/2024;1,00;SP;A;x\n\n02/02/2024;2,00;RJ;B;y\n".encode(),
    "ragged": (f"{HEADER}\n" + "01/02/2024;1;SP;A;x\n" * 5 + "02/02/2024;2;RJ\n03/02/2024;3;MG;C;z;w\n").encode(),
    "quoted-line-break": f'{HEADER}\n01/02/2024;1,00;SP;A;"two\nlines"\n02/02/2024;2,00;RJ;B;y\n'.encode(),
    "stray-quote": f'{HEADER}\n01/02/2024;1,00;SP;A;6" pipe\n02/02/2024;2,00;RJ;B;"a"b\n'.encode(),
    "trailing-empty-fields": f"{HEADER}\n01/02/2024;1,00;SP;A;x;;\n02/02/2024;2,00;RJ;B;y\n".encode(),
    "mixed-line-endings": (
        f"{HEADER}\n01/02/2024;1,00;SP;A;x\r\n02/02/2024;2,00;RJ;B;y\n03/02/2024;3,00;MG;C;z\n".encode()
    ),
    "end-of-data-marker": b"Data;Valor\n01/02/2024;1,00\n\\.\n02/02/2024;2,00\n",
    "utf16": ("\ufeff" + f"{HEADER}\r\n01/02/2024;1,00;SP;A;x\r\n").encode("utf-16-le"),
}

FILES = {
    **RAW_FILES,
    **FALLBACK_FILES,
    "rejections": (
        "Data;Valor;UF;Categoria\n01/02/2024;1.234,56;SP;A\n31/02/2024;10,00;RJ;A\n02/02/2024;abc;MG;B\n"
        "03/02/2024;5,00;XX;B\n04/02/2024;7,50; sp ;B\n05/02/2024;2,50;São Paulo;C\n06/02/2024;1,00;;C\n"
    ).encode("cp1252"),
    "cp1252": make_csv(sample_rows(300)),
    "iso-utf8": make_csv(sample_rows(200), dates="iso", encoding="utf-8"),
    "point-comma": make_csv(sample_rows(200), delimiter=",", decimal="point", dates="iso", encoding="utf-8"),
    "tab-dmy2": make_csv(sample_rows(200), delimiter="\t", decimal="point", dates="dmy2"),
    "pipe-isodt": make_csv(sample_rows(200), delimiter="|", dates="isodt", encoding="latin-1"),
    "only-mapped": make_csv(sample_rows(50), header=("Data", "Valor", "UF", "Categoria", "Total")),
    "header-punctuation": b"Data;Valor;Nota: 100% 'certa'\n01/02/2024;1,00;a\n02/02/2024;2,00;b\n",
    "no-uf-no-category": b"Data;Valor;Nota\n01/02/2024;1,00;a\n02/02/2024;x;b\n",
}


def _stored(batch_id: int) -> dict[str, object]:
    with all_orgs_session() as s:
        staged = s.execute(
            select(
                StagingRow.line_no,
                StagingRow.raw,
                StagingRow.is_valid,
                StagingRow.date,
                StagingRow.value,
                StagingRow.uf,
                StagingRow.category,
                StagingRow.attributes,
            )
            .where(StagingRow.batch_id == batch_id)
            .order_by(StagingRow.line_no)
        ).all()
        rejected = s.execute(
            select(RejectedRow.line_no, RejectedRow.column, RejectedRow.value, RejectedRow.reason)
            .where(RejectedRow.batch_id == batch_id)
            .order_by(RejectedRow.id)
        ).all()
        facts = s.execute(
            select(Fact.date, Fact.value, Fact.uf, Fact.category, Fact.attributes).where(Fact.batch_id == batch_id)
        ).all()
    return {
        "staged": [tuple(row) for row in staged],
        "rejected": [tuple(row) for row in rejected],
        "facts": sorted(json.dumps([str(cell) for cell in row[:4]] + [row[4]], sort_keys=True) for row in facts),
    }


def _load(client, org, content: bytes, name: str, copy_path: bool, monkeypatch) -> dict[str, object]:
    monkeypatch.setattr(get_settings(), "INGEST_COPY_PATH", copy_path)
    r = upload(client, org.headers(), content, name=name)
    assert r.status_code == 201, r.text
    body = r.json()
    stored = _stored(body["batch_id"])
    report = {k: body[k] for k in ("rows_received", "rows_loaded", "rows_rejected", "detected", "mapping")}
    return {"report": report, "sample": body["rejected_sample"], **stored}


@pytest.mark.parametrize("file", sorted(FILES))
def test_copy_path_equals_python_path(client, org_a, monkeypatch, caplog, file):
    if not is_postgres():
        pytest.skip("the COPY path runs on Postgres only")
    content = FILES[file]
    python = _load(client, org_a, content, f"{file}-python", False, monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="painel.ingest"):
        sql = _load(client, org_a, content, f"{file}-sql", True, monkeypatch)
    assert sql == python
    assert python["report"]["rows_loaded"] == len(python["facts"])
    read_in_python = any("reading it in Python" in record.getMessage() for record in caplog.records)
    assert read_in_python == (file in FALLBACK_FILES and file != "utf16")  # UTF-16 never tries the raw COPY


@pytest.mark.parametrize("file", ["cp1252", "odd-regular", "quoted-fields", "title-bom-cr-trailing-blank-lines"])
def test_raw_copy_cut_into_tiny_blocks(client, org_a, monkeypatch, caplog, file):
    """The bytes stream in pieces of whole lines: with 5-byte reads every line, CRLF and quoted field crosses a read
    boundary, and the rows are still the Python reader's."""
    if not is_postgres():
        pytest.skip("the COPY path runs on Postgres only")
    python = _load(client, org_a, FILES[file], f"{file}-python", False, monkeypatch)
    monkeypatch.setattr(raw_copy, "BLOCK_BYTES", 5)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="painel.ingest"):
        sql = _load(client, org_a, FILES[file], f"{file}-tiny", True, monkeypatch)
    assert sql == python
    assert not any("reading it in Python" in record.getMessage() for record in caplog.records)


def test_regular_files_reach_every_rule(client, org_a, monkeypatch):
    """The raw COPY sees the odd cells too: rejections of every kind, and the blank records skipped uncounted."""
    if not is_postgres():
        pytest.skip("the COPY path runs on Postgres only")
    sql = _load(client, org_a, RAW_FILES["odd-regular"], "odd-regular-sql", True, monkeypatch)
    rows = [row for row in ODD_ROWS if row.count(";") == 4 and '"' not in row]
    assert sql["report"]["rows_received"] == len(rows)
    assert {reason for *_, reason in sql["rejected"]} == CELL_REASONS
    # Physical lines: the header is line 1, so the k-th row is line k + 1.
    assert [line for line, *_ in sql["staged"]] == list(range(2, len(rows) + 2))
    blanks = _load(client, org_a, RAW_FILES["blank-records-of-delimiters"], "blanks-sql", True, monkeypatch)
    assert blanks["report"]["rows_received"] == 2
    assert [line for line, *_ in blanks["staged"]] == [2, 5]
    titled = _load(client, org_a, RAW_FILES["title-bom-cr-trailing-blank-lines"], "titled-sql", True, monkeypatch)
    assert [line for line, *_ in titled["staged"]] == [4, 5]
    assert titled["report"]["detected"]["header_line"] == 3


def test_odd_file_is_checked_in_detail(client, org_a, monkeypatch):
    """The odd file exercises every branch: the expected counts are computed here, not read from the output."""
    if not is_postgres():
        pytest.skip("the COPY path runs on Postgres only")
    sql = _load(client, org_a, FILES["odd"], "odd-sql", True, monkeypatch)
    shaped = [row for row in ODD_ROWS if (row and row.count(";") <= 4) or row.endswith(";;;")]
    assert sql["report"]["rows_received"] == len(shaped) + 1  # + the row with too many fields
    reasons = {reason for *_, reason in sql["rejected"]}
    assert reasons == {*CELL_REASONS, "row has 7 fields, header has 5"}
