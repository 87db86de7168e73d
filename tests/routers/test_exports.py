"""Exports: CSV per locale (separator, decimal mark, BOM, dates), XLSX with real numbers and dates, sums equal to the
JSON answers, formula neutralisation, Content-Disposition, every rejected row of a batch, other orgs' ids 404."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest

from app.services.exports.tables import neutralize
from app.services.ingest import batches as batch_service
from tests.ingest_helpers import Row, make_csv, sample_rows, upload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RANGE = {"from": "2024-01-01", "to": "2025-05-31"}


@pytest.fixture
def loaded(client, org_a):
    rows = [
        *sample_rows(200, seed=5),
        Row(date(2024, 6, 1), Decimal("12.34"), "SP", '=HYPERLINK("http://x","y")'),
        Row(date(2024, 6, 2), Decimal("-5.00"), "RJ", "+cmd|' /C calc'!A0"),
        Row(date(2024, 6, 3), Decimal("1.00"), "MG", "@SUM(1)"),
        Row(date(2024, 6, 4), Decimal("2.00"), "BA", "-2+3"),
    ]
    assert upload(client, org_a.headers(), make_csv(rows)).json()["rows_loaded"] == len(rows)
    return rows


def get(client, org, path, **params):
    r = client.get(path, headers=org.headers("Viewer"), params=params)
    assert r.status_code == 200, r.text
    return r


def read_csv(response, locale="pt-BR"):
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so spreadsheets read the accents
    text = raw.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";" if locale == "pt-BR" else ","))


def br_number(text: str) -> Decimal:
    assert "." not in text, text
    return Decimal(text.replace(",", "."))


def test_csv_pt_br_sums_equal_the_json(client, org_a, loaded):
    body = get(client, org_a, "/indicators/valor-mes-a-mes", **RANGE).json()
    r = get(client, org_a, "/indicators/valor-mes-a-mes", **RANGE, format="csv")
    assert r.headers["content-type"].startswith("text/csv")
    table = read_csv(r)
    assert table[0] == ["month", "value", "change_pct"]
    assert [row[0] for row in table[1:]] == [f"{m['month'][5:]}/{m['month'][:4]}" for m in body["items"]]
    assert sum(br_number(row[1]) for row in table[1:]) == sum(Decimal(str(m["value"])) for m in body["items"])
    assert table[2][2] == f"{body['items'][1]['change_pct']:.2f}".replace(".", ",")
    assert r.headers["etag"] != get(client, org_a, "/indicators/valor-mes-a-mes", **RANGE).headers["etag"]


def test_csv_en_uses_comma_point_and_iso_dates(client, org_a, loaded):
    body = get(client, org_a, "/indicators/serie-temporal", **RANGE, grain="week").json()
    table = read_csv(
        get(client, org_a, "/indicators/serie-temporal", **RANGE, grain="week", format="csv", locale="en"), "en"
    )
    assert table[0] == ["period", "start", "end", "value", "row_count"]
    assert [row[1] for row in table[1:]] == [b["start"] for b in body["items"]]  # ISO dates
    assert [Decimal(row[3]) for row in table[1:]] == [Decimal(str(b["value"])) for b in body["items"]]
    assert sum(int(row[4]) for row in table[1:]) == sum(b["row_count"] for b in body["items"])


def test_mapa_and_top_exports_add_up_to_the_total(client, org_a, loaded):
    uf = get(client, org_a, "/indicators/mapa-por-uf", **RANGE).json()
    table = read_csv(get(client, org_a, "/indicators/mapa-por-uf", **RANGE, format="csv"))
    assert sum(br_number(row[1]) for row in table[1:]) == Decimal(str(uf["total"]))
    top = get(client, org_a, "/indicators/top-categorias", **RANGE, limit=3).json()
    rows = read_csv(get(client, org_a, "/indicators/top-categorias", **RANGE, limit=3, format="csv"))[1:]
    assert len(rows) == 4 and rows[-1][0] == "(others)"
    assert sum(br_number(row[1]) for row in rows) == Decimal(str(top["total"]))


def test_formulas_are_neutralised_and_numbers_stay_numbers(client, org_a, loaded):
    params = {"from": "2024-06-01", "to": "2024-06-04", "limit": 100}
    table = read_csv(get(client, org_a, "/indicators/top-categorias", **params, format="csv"))
    categories = {row[0]: row[1] for row in table[1:-1]}
    assert categories == {
        '\'=HYPERLINK("http://x","y")': "12,34",
        "'-2+3": "2,00",
        "'@SUM(1)": "1,00",
        "'+cmd|' /C calc'!A0": "-5,00",  # a negative number stays a number
    }
    book = openpyxl.load_workbook(
        io.BytesIO(get(client, org_a, "/indicators/top-categorias", **params, format="xlsx").content)
    )
    sheet = book.active
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert {name for name in cells if name != "(others)"} == set(categories)
    assert all(cell.data_type == "n" for cell in cells.values())
    assert all(row[0].data_type == "s" for row in sheet.iter_rows(min_row=2))
    assert cells["'+cmd|' /C calc'!A0"].value == -5.0


def test_xlsx_has_real_numbers_dates_and_currency(client, org_a, loaded):
    body = get(client, org_a, "/indicators/acumulado-ano", **RANGE).json()
    r = get(client, org_a, "/indicators/acumulado-ano", **RANGE, format="xlsx")
    assert r.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(min_row=2))
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == ["month", "value", "cumulative"]
    assert [row[0].value for row in rows] == [datetime.fromisoformat(f"{m['month']}-01") for m in body["items"]]
    assert rows[0][0].number_format == "mm/yyyy" and "R$" in rows[0][1].number_format
    assert "#,##0.00" in rows[0][1].number_format
    assert [row[2].value for row in rows] == [m["cumulative"] for m in body["items"]]
    assert sum(Decimal(str(row[1].value)) for row in rows) == sum(Decimal(str(m["value"])) for m in body["items"])


def test_kpis_and_dimensions_exports(client, org_a, loaded):
    body = get(client, org_a, "/indicators/kpis", **RANGE).json()
    rows = read_csv(get(client, org_a, "/indicators/kpis", **RANGE, format="csv"))
    assert [row[0] for row in rows[1:]] == ["total_value", "row_count", "average_value", "distinct_categories"]
    assert br_number(rows[1][1]) == Decimal(str(body["current"]["total_value"]))
    assert int(rows[2][1]) == body["current"]["row_count"]
    dims = get(client, org_a, "/indicators/dimensions").json()
    sections = read_csv(get(client, org_a, "/indicators/dimensions", format="csv"))
    assert sections[0] == ["categories"] and sections[1] == ["category", "row_count"]
    counts = {row[0]: int(row[1]) for row in sections[2 : 2 + len(dims["categories"])]}
    assert sum(counts.values()) == len(loaded)
    assert ["dates"] in sections and sections[-1] == [
        date.fromisoformat(dims["first_date"]).strftime("%d/%m/%Y"),
        date.fromisoformat(dims["last_date"]).strftime("%d/%m/%Y"),
    ]


def test_dashboard_export_one_sheet_or_section_per_widget(client, org_a, loaded):
    widgets = [
        {"title": "Mês a mês", "indicator": "valor-mes-a-mes"},
        {"title": "Por UF", "indicator": "mapa-por-uf"},
        {"title": "Semanas", "indicator": "serie-temporal", "params": {"grain": "week"}},
    ]
    d = client.post(
        "/dashboards", headers=org_a.headers(), json={"name": "Vendas São Paulo", "widgets": widgets}
    ).json()
    url = f"/dashboards/{d['id']}/data"
    body = get(client, org_a, url, **RANGE).json()
    r = get(client, org_a, url, **RANGE, format="xlsx")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Vendas Sao Paulo_2024-01-01_2025-05-31.xlsx"')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Vendas São Paulo_2024-01-01_2025-05-31.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Mês a mês", "Por UF", "Semanas"]
    for sheet, widget in zip(book.worksheets, body["widgets"], strict=True):
        values = (
            [row[1].value for row in sheet.iter_rows(min_row=2)]
            if widget["indicator"] != "serie-temporal"
            else [row[3].value for row in sheet.iter_rows(min_row=2)]
        )
        total = widget["data"].get("total") or sum(i["value"] for i in widget["data"]["items"])
        assert sum(Decimal(str(v)) for v in values) == Decimal(str(total)).quantize(Decimal("0.01"))
    sections = read_csv(get(client, org_a, url, **RANGE, format="csv"))
    titles = [sections[0][0]] + [sections[i + 1][0] for i, row in enumerate(sections) if row == []]
    assert titles == ["Mês a mês", "Por UF", "Semanas"]


def test_custom_run_export(client, org_a, loaded):
    ci = client.post(
        "/indicators/custom",
        headers=org_a.headers("Admin"),
        json={
            "name": "Por categoria",
            "sql": "SELECT category, SUM(value) AS total, MIN(date) AS first_day FROM facts "
            "WHERE uf = :uf GROUP BY category ORDER BY category",
            "parameters": [{"name": "uf", "type": "string"}],
        },
    ).json()
    url = f"/indicators/custom/{ci['id']}/run"
    body = get(client, org_a, url, uf="SP").json()
    r = get(client, org_a, url, uf="SP", format="xlsx")
    assert "Por categoria.xlsx" in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == [neutralize(row["category"]) for row in body["rows"]]
    assert all(isinstance(row[1], int | float) and isinstance(row[2], datetime) for row in rows)
    expected = sum(r.value for r in loaded if r.uf == "SP")
    assert sum(Decimal(str(row[1])) for row in rows).quantize(Decimal("0.01")) == expected
    table = read_csv(get(client, org_a, url, uf="SP", format="csv"))
    assert table[0] == ["category", "total", "first_day"] and len(table) == len(rows) + 1


def test_batch_errors_export_has_every_rejected_row(client, org_a, org_b, monkeypatch):
    monkeypatch.setattr(batch_service, "ERRORS_EXPORT_PAGE", 7)  # several pages
    lines = ["Data;Valor;UF;Categoria"] + [
        f"0{1 + n % 9}/02/2024;{'abc' if n % 3 == 0 else '1,00'};{'XX' if n % 4 == 0 else 'SP'};=cmd{n}"
        for n in range(60)
    ]
    batch = upload(client, org_a.headers(), "\r\n".join(lines).encode("cp1252")).json()
    page = client.get(f"/ingest/batches/{batch['batch_id']}/errors?limit=1000", headers=org_a.headers()).json()
    assert page["total"] > 14
    r = get(client, org_a, f"/ingest/batches/{batch['batch_id']}/errors", format="csv", limit=1)
    table = read_csv(r)
    assert table[0] == ["line", "column", "value", "reason"]
    assert [(int(row[0]), row[1], row[2], row[3]) for row in table[1:]] == [
        (e["line"], e["column"], e["value"], e["reason"]) for e in page["items"]
    ]
    assert f"batch_{batch['batch_id']}_errors.csv" in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(
        io.BytesIO(get(client, org_a, f"/ingest/batches/{batch['batch_id']}/errors", format="xlsx").content)
    ).active
    assert sheet.max_row == page["total"] + 1
    # Another org's batch answers 404, exactly like a missing one, before anything is streamed.
    for batch_id in (batch["batch_id"], 999_999):
        other = client.get(f"/ingest/batches/{batch_id}/errors", headers=org_b.headers(), params={"format": "csv"})
        assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"


def test_other_orgs_ids_are_404_for_exports(client, org_a, org_b, loaded):
    d = client.post("/dashboards", headers=org_a.headers(), json={"name": "x", "widgets": []}).json()
    ci = client.post(
        "/indicators/custom",
        headers=org_a.headers("Admin"),
        json={"name": "n", "sql": "SELECT COUNT(*) AS n FROM facts"},
    ).json()
    for path in (f"/dashboards/{d['id']}/data", f"/indicators/custom/{ci['id']}/run"):
        for fmt in ("csv", "xlsx"):
            r = client.get(path, headers=org_b.headers(), params={"format": fmt})
            assert r.status_code == 404, (path, fmt)
    empty = openpyxl.load_workbook(io.BytesIO(get(client, org_a, f"/dashboards/{d['id']}/data", format="xlsx").content))
    assert empty.sheetnames == ["Dados"]


def test_unknown_format_is_422(client, org_a):
    r = client.get("/indicators/kpis", headers=org_a.headers(), params={**RANGE, "format": "pdf"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
