"""Uploads end to end: every format variant lands with exact sums; bad input stores nothing."""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.core.db import session_scope
from app.models import Fact
from tests.ingest_helpers import Row, curated_totals, make_csv, make_xlsx, sample_rows, stored_counts, upload


def expected(rows: list[Row]) -> tuple[Decimal, int]:
    return sum((r.value for r in rows), Decimal(0)), len(rows)


@pytest.mark.parametrize(
    ("delimiter", "decimal", "dates", "encoding"),
    [
        (";", "comma", "dmy", "cp1252"),
        (";", "comma", "iso", "utf-8"),
        (",", "point", "iso", "utf-8"),
        (",", "comma", "dmy", "utf-8-sig"),
        ("\t", "point", "dmy2", "cp1252"),
        ("|", "comma", "isodt", "latin-1"),
        (",", "point", "dmy", "cp1252"),
    ],
)
def test_csv_variants_load_exact_sums(client, org_a, delimiter, decimal, dates, encoding):
    rows = sample_rows(60)
    r = upload(
        client,
        org_a.headers("Editor"),
        make_csv(rows, delimiter=delimiter, decimal=decimal, dates=dates, encoding=encoding),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["rows_received"], body["rows_loaded"], body["rows_rejected"]) == (60, 60, 0)
    assert body["detected"]["delimiter"] == delimiter
    assert body["detected"]["decimal_style"] == decimal
    assert body["mapping"] == {"date": "Data", "value": "Valor", "uf": "UF", "category": "Categoria"}
    assert curated_totals(org_a.id, body["data_source_id"]) == expected(rows)
    with session_scope(org_a.id) as s:
        facts = s.execute(
            select(Fact.date, Fact.uf, Fact.category, Fact.attributes)
            .where(Fact.organization_id == org_a.id)
            .order_by(Fact.id)
        ).all()
    assert [(f.date, f.uf, f.category) for f in facts] == [(r.day, r.uf, r.category) for r in rows]
    assert facts[0].attributes == {"Observação": "obs 0 ação"}


def test_per_uf_and_month_sums_match(client, org_a):
    rows = sample_rows(120, seed=3)
    body = upload(client, org_a.headers(), make_csv(rows)).json()
    by_uf = defaultdict(Decimal)
    for r in rows:
        by_uf[r.uf] += r.value
    with session_scope(org_a.id) as s:
        from sqlalchemy import func

        got = dict(
            s.execute(
                select(Fact.uf, func.sum(Fact.value))
                .where(Fact.data_source_id == body["data_source_id"])
                .group_by(Fact.uf)
            ).all()
        )
    assert {k: Decimal(v) for k, v in got.items()} == dict(by_uf)


def test_xlsx_with_title_row_and_date_cells(client, org_a):
    rows = sample_rows(30)
    r = upload(client, org_a.headers("Editor"), make_xlsx(rows), kind="xlsx")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["rows_loaded"] == 30 and body["detected"]["header_line"] == 3
    assert body["mapping"] == {"date": "Data", "value": "Valor", "uf": "Estado", "category": "Produto"}
    assert curated_totals(org_a.id) == expected(rows)


def test_xlsx_named_sheet(client, org_a):
    rows = sample_rows(10)
    content = make_xlsx(rows, sheet="Vendas", title=None, extra_sheets=())
    wb_first = make_xlsx(sample_rows(5, seed=99), sheet="Resumo", title=None)
    # A workbook whose first sheet is a summary and the data is on "Vendas".
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(wb_first))
    data = wb.create_sheet("Vendas")
    data.append(["Data", "Valor", "UF", "Categoria"])
    for row in rows:
        data.append([row.day, float(row.value), row.uf, row.category])
    buf = io.BytesIO()
    wb.save(buf)
    r = upload(client, org_a.headers(), buf.getvalue(), kind="xlsx", sheet="Vendas")
    assert r.status_code == 201, r.text
    assert curated_totals(org_a.id) == expected(rows)
    missing = upload(client, org_a.headers(), buf.getvalue(), kind="xlsx", sheet="Nope", filename="other.xlsx")
    assert missing.status_code == 422 and "Vendas" in missing.json()["detail"]
    assert content  # the plain single-sheet workbook is valid too


def test_rejected_rows_are_accounted_for(client, org_a):
    content = (
        "Data;Valor;UF;Categoria\n"
        "01/02/2024;1.234,56;SP;A\n"
        "31/02/2024;10,00;RJ;A\n"  # invalid date
        "02/02/2024;abc;MG;B\n"  # invalid value
        "03/02/2024;5,00;XX;B\n"  # unknown UF
        "04/02/2024;7,50; sp ;B\n"
        "05/02/2024;2,50;São Paulo;C\n"
        "06/02/2024;1,00;;C\n"
    ).encode("cp1252")
    body = upload(client, org_a.headers(), content).json()
    assert (body["rows_received"], body["rows_loaded"], body["rows_rejected"]) == (7, 4, 3)
    assert [(e["line"], e["column"], e["value"]) for e in body["rejected_sample"]] == [
        (3, "Data", "31/02/2024"),
        (4, "Valor", "abc"),
        (5, "UF", "XX"),
    ]
    assert curated_totals(org_a.id) == (Decimal("1234.56") + Decimal("7.50") + Decimal("2.50") + Decimal("1.00"), 4)
    errors = client.get(f"/ingest/batches/{body['batch_id']}/errors?limit=2", headers=org_a.headers("Viewer")).json()
    assert errors["total"] == 3 and [e["line"] for e in errors["items"]] == [3, 4]
    with session_scope(org_a.id) as s:
        ufs = s.scalars(select(Fact.uf).where(Fact.organization_id == org_a.id).order_by(Fact.date)).all()
    assert ufs == ["SP", "SP", "SP", None]


def test_reupload_same_file_is_idempotent_and_new_file_replaces(client, org_a):
    first, second = sample_rows(20, seed=1), sample_rows(15, seed=2)
    r1 = upload(client, org_a.headers(), make_csv(first))
    assert r1.status_code == 201
    again = upload(client, org_a.headers(), make_csv(first))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["batch_id"] == r1.json()["batch_id"]
    assert curated_totals(org_a.id) == expected(first)
    r2 = upload(client, org_a.headers(), make_csv(second), data_source_id=r1.json()["data_source_id"])
    assert r2.status_code == 201 and r2.json()["data_source_id"] == r1.json()["data_source_id"]
    assert curated_totals(org_a.id) == expected(second)
    batches = client.get("/ingest/batches", headers=org_a.headers("Viewer")).json()
    assert [(b["id"], b["status"]) for b in batches["items"]] == [
        (r2.json()["batch_id"], "loaded"),
        (r1.json()["batch_id"], "superseded"),
    ]
    for b in batches["items"]:
        assert b["rows_received"] == b["rows_loaded"] + b["rows_rejected"]


def test_dry_run_reports_and_stores_nothing(client, org_a):
    rows = sample_rows(12)
    r = upload(client, org_a.headers(), make_csv(rows), dry_run=True)
    assert r.status_code == 201
    body = r.json()
    assert body["dry_run"] is True and body["batch_id"] is None and body["rows_loaded"] == 12
    assert stored_counts(org_a.id) == {
        "data_sources": 0,
        "ingestion_batches": 0,
        "staging_rows": 0,
        "rejected_rows": 0,
        "facts": 0,
    }


def test_explicit_mapping_wins(client, org_a):
    content = b"Quando;Quanto;Onde;Valor\n15/03/2024;100,00;BA;999\n16/03/2024;50,25;PE;999\n"
    r = upload(
        client, org_a.headers(), content, mapping=json.dumps({"date": "Quando", "value": "Quanto", "uf": "Onde"})
    )
    assert r.status_code == 201, r.text
    assert r.json()["mapping"] == {"date": "Quando", "value": "Quanto", "uf": "Onde"}
    assert curated_totals(org_a.id) == (Decimal("150.25"), 2)


def test_preview_shows_raw_and_curated(client, org_a):
    content = b"Data;Valor;UF\n01/01/2024;1.000,50;sp\n"
    batch_id = upload(client, org_a.headers(), content).json()["batch_id"]
    p = client.get(f"/ingest/batches/{batch_id}/preview", headers=org_a.headers("Viewer")).json()
    assert p["staging"] == [{"line": 2, "raw": {"Data": "01/01/2024", "Valor": "1.000,50", "UF": "sp"}, "valid": True}]
    assert p["curated"][0]["uf"] == "SP" and Decimal(p["curated"][0]["value"]) == Decimal("1000.5")


def _bad_inputs():
    xlsx = make_xlsx(sample_rows(3))
    return {
        "empty": ("csv", b""),
        "header_only": ("csv", b"Data;Valor;UF\r\n"),
        "binary": ("csv", bytes(range(256)) * 20),
        "xlsx_as_csv": ("csv", xlsx),
        "csv_as_xlsx": ("xlsx", make_csv(sample_rows(3))),
        "not_a_zip_xlsx": ("xlsx", b"PK\x03\x04 this is not really a zip"),
        "no_value_column": ("csv", b"Data;Produto\n01/01/2024;X\n"),
        "bad_mapping": ("csv", make_csv(sample_rows(3))),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
def test_bad_input_is_4xx_problem_and_stores_nothing(client, org_a, case):
    kind, content = _bad_inputs()[case]
    form = {"mapping": '{"value": "Missing"}'} if case == "bad_mapping" else {}
    r = upload(client, org_a.headers(), content, kind=kind, **form)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"]
    assert stored_counts(org_a.id) == {
        "data_sources": 0,
        "ingestion_batches": 0,
        "staging_rows": 0,
        "rejected_rows": 0,
        "facts": 0,
    }


def test_missing_value_column_names_headers(client, org_a):
    r = upload(client, org_a.headers(), b"Data;Produto\n01/01/2024;X\n")
    assert r.status_code == 422 and "'Data'" in r.json()["detail"] and "'Produto'" in r.json()["detail"]


def test_file_over_limit_is_413(client, org_a, monkeypatch):
    monkeypatch.setattr(get_settings(), "MAX_UPLOAD_MB", 1)
    content = make_csv(sample_rows(40_000))
    assert len(content) > 1 << 20
    r = upload(client, org_a.headers(), content)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert stored_counts(org_a.id)["facts"] == 0


def test_too_many_rows_is_413(client, org_a, monkeypatch):
    monkeypatch.setattr(get_settings(), "MAX_UPLOAD_ROWS", 10)
    r = upload(client, org_a.headers(), make_csv(sample_rows(11)))
    assert r.status_code == 413 and r.json()["code"] == "too_many_rows"
    assert stored_counts(org_a.id)["ingestion_batches"] == 0


def test_viewer_cannot_upload(client, org_a):
    r = upload(client, org_a.headers("Viewer"), make_csv(sample_rows(3)))
    assert r.status_code == 403 and r.json()["code"] == "insufficient_role"
    assert stored_counts(org_a.id)["data_sources"] == 0


def test_other_orgs_source_and_batches_are_404(client, org_a, org_b):
    body = upload(client, org_a.headers(), make_csv(sample_rows(5))).json()
    r = upload(client, org_b.headers(), make_csv(sample_rows(5)), data_source_id=body["data_source_id"])
    assert r.status_code == 404
    for path in ("", "/errors", "/preview"):
        assert client.get(f"/ingest/batches/{body['batch_id']}{path}", headers=org_b.headers()).status_code == 404
    assert client.get("/ingest/batches", headers=org_b.headers()).json()["total"] == 0
    assert stored_counts(org_b.id)["facts"] == 0
    assert client.get(f"/ingest/batches/{body['batch_id']}", headers=org_a.headers()).status_code == 200


def test_upload_to_unknown_source_is_404(client, org_a):
    r = upload(client, org_a.headers(), make_csv(sample_rows(3)), data_source_id=424242)
    assert r.status_code == 404
    assert stored_counts(org_a.id)["facts"] == 0


def test_xlsx_zip_bomb_refused(client, org_a):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        # 20 MB of zeros deflate to ~20 KB: a compression ratio no real sheet has.
        z.writestr("xl/worksheets/sheet1.xml", "<a>" + "0" * (20 * 2**20) + "</a>")
    r = upload(client, org_a.headers(), buf.getvalue(), kind="xlsx")
    assert r.status_code in (413, 422) and r.headers["content-type"] == "application/problem+json"
    assert stored_counts(org_a.id)["facts"] == 0


def test_real_world_oddities(client, org_a):
    long_category = "Categoria " + "muito longa " * 40
    content = (
        '\ufeff"Data";"Valor (R$)";"Estado";"Produto";"Obs";"Obs"\r\n'
        '"01/03/2024";"R$ 1.234,56";"São Paulo";"' + long_category + '";"tem ; dentro";"x"\r\n'
        "\r\n"
        '"02/03/2024";"(10,00)";"  rj ";"B";"linha\nquebrada";"y"\r\n'
        '"03/03/2024";"- R$ 0,44";"Distrito Federal";"";"";"z";;\r\n'
    ).encode("utf-8")
    r = upload(client, org_a.headers(), content, filename="export.csv")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["rows_received"], body["rows_loaded"]) == (3, 3)
    assert body["mapping"] == {"date": "Data", "value": "Valor (R$)", "uf": "Estado", "category": "Produto"}
    assert curated_totals(org_a.id) == (Decimal("1234.56") - Decimal("10.00") - Decimal("0.44"), 3)
    with session_scope(org_a.id) as s:
        facts = s.execute(
            select(Fact.uf, Fact.category, Fact.attributes).where(Fact.organization_id == org_a.id).order_by(Fact.date)
        ).all()
    assert [f.uf for f in facts] == ["SP", "RJ", "DF"]
    assert len(facts[0].category) == 255 and facts[2].category is None
    assert facts[1].attributes == {"Obs": "linha\nquebrada", "Obs_2": "y"}


def test_too_many_columns_is_422_and_stores_nothing(client, org_a):
    header = ";".join(["Data", "Valor"] + [f"c{i}" for i in range(1200)])
    r = upload(client, org_a.headers(), (header + "\n01/01/2024;1,00\n").encode())
    assert r.status_code == 422 and r.json()["code"] == "too_many_columns"
    assert stored_counts(org_a.id)["data_sources"] == 0
