"""Where the header is: CSV title lines above it are skipped like XLSX's, and `header_row` names it explicitly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.ingest_helpers import Row, curated_totals, make_csv, make_xlsx, sample_rows, upload


def titled_csv(rows: list[Row], *titles: str) -> bytes:
    return "".join(f"{t}\r\n" for t in titles).encode("cp1252") + make_csv(rows)


def exact(rows: list[Row]) -> tuple[Decimal, int]:
    return sum((r.value for r in rows), Decimal(0)), len(rows)


@pytest.mark.parametrize(
    ("titles", "header_line"),
    [
        (("Relatório de vendas", ""), 3),
        (("Relatório de vendas;;;;", "Gerado em 02/12/2026", ""), 4),
        (("", "Relatório de vendas"), 3),
    ],
)
def test_csv_title_lines_above_the_header_are_skipped(client, org_a, titles, header_line):
    rows = sample_rows(40, seed=21)
    r = upload(client, org_a.headers("Editor"), titled_csv(rows, *titles))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["detected"]["header_line"] == header_line
    assert (body["rows_received"], body["rows_loaded"], body["rows_rejected"]) == (40, 40, 0)
    assert body["mapping"] == {"date": "Data", "value": "Valor", "uf": "UF", "category": "Categoria"}
    assert curated_totals(org_a.id) == exact(rows)


def test_csv_header_row_names_the_header_below_a_wide_title(client, org_a):
    rows = sample_rows(25, seed=22)
    content = titled_csv(rows, "Empresa X;Período: 2024")  # two values: it looks like a header
    guessed = upload(client, org_a.headers("Editor"), content)
    assert (guessed.status_code, guessed.json()["code"]) == (422, "mapping_required")
    r = upload(client, org_a.headers("Editor"), content, header_row=2)
    assert r.status_code == 201, r.text
    assert (r.json()["detected"]["header_line"], r.json()["rows_loaded"]) == (2, 25)
    assert curated_totals(org_a.id) == exact(rows)
    # The same file read the same way again is a duplicate (header_row is part of how it was read).
    assert upload(client, org_a.headers("Editor"), content, header_row=2).json()["duplicate"] is True


@pytest.mark.parametrize(
    ("header_row", "detail"),
    [
        (2, "header_row 2 is a blank line."),
        (99, "header_row is 99 but the file has 8 lines."),
    ],
)
def test_csv_header_row_that_is_not_a_header_is_a_clear_422(client, org_a, header_row, detail):
    content = titled_csv(sample_rows(5), "Relatório", "")
    r = upload(client, org_a.headers("Editor"), content, header_row=header_row)
    assert (r.status_code, r.json()["code"], r.json()["detail"]) == (422, "invalid_header_row", detail)
    assert r.headers["content-type"] == "application/problem+json"
    assert curated_totals(org_a.id) == (0, 0)


def test_header_row_below_one_is_refused(client, org_a):
    r = upload(client, org_a.headers("Editor"), make_csv(sample_rows(3)), header_row=0)
    assert r.status_code == 422 and "header_row" in r.text


def test_xlsx_header_row(client, org_a):
    rows = sample_rows(30, seed=23)
    content = make_xlsx(rows)  # a title in row 1, row 2 empty, the header in row 3
    r = upload(client, org_a.headers("Editor"), content, kind="xlsx", header_row=3)
    assert r.status_code == 201, r.text
    assert (r.json()["detected"]["header_line"], r.json()["rows_loaded"]) == (3, 30)
    assert curated_totals(org_a.id) == exact(rows)
    empty = upload(client, org_a.headers("Editor"), content, kind="xlsx", header_row=2)
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_header_row")
    assert empty.json()["detail"] == "header_row 2 is an empty row of sheet 'Plan1'."
    past = upload(client, org_a.headers("Editor"), content, kind="xlsx", header_row=500)
    assert past.json()["detail"] == "header_row is 500 but the sheet 'Plan1' has data only up to row 33."
    title = upload(client, org_a.headers("Editor"), content, kind="xlsx", header_row=1)
    assert (title.status_code, title.json()["code"]) == (422, "mapping_required")
