"""serie-temporal grains, ISO weeks, fiscal years, the org's time zone, dimensions and filter validation (issue #10),
against sums the test computes from the rows it uploads."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.ingest_helpers import Row, make_csv, sample_rows, upload


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def get(client, org, path, **params):
    r = client.get(f"/indicators/{path}", headers=org.headers("Viewer"), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def bucket_of(day: date, grain: str) -> str:
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    if grain == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


@pytest.fixture
def rows(client, org_a):
    data = sample_rows(400, seed=21)
    assert upload(client, org_a.headers(), make_csv(data)).json()["rows_loaded"] == len(data)
    return data


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_each_grain_adds_up_to_the_month_series(client, org_a, rows, grain):
    start, end = date(2024, 2, 10), date(2025, 3, 20)  # partial months at both ends, across a year boundary
    body = get(client, org_a, "serie-temporal", **{"from": start.isoformat(), "to": end.isoformat(), "grain": grain})
    inside = [r for r in rows if start <= r.day <= end]
    expected, counts = defaultdict(Decimal), defaultdict(int)
    for r in inside:
        expected[bucket_of(r.day, grain)] += r.value
        counts[bucket_of(r.day, grain)] += 1
    assert body["grain"] == grain and body["from"] == start.isoformat()
    # Zero-filled: every bucket the range touches, in order, each with its first and last day.
    days, labels = [start + timedelta(days=n) for n in range((end - start).days + 1)], []
    for day in days:
        if not labels or labels[-1] != bucket_of(day, grain):
            labels.append(bucket_of(day, grain))
    assert [b["period"] for b in body["items"]] == labels
    assert all(bucket_of(date.fromisoformat(b["start"]), grain) == b["period"] for b in body["items"])
    assert all(bucket_of(date.fromisoformat(b["end"]), grain) == b["period"] for b in body["items"])
    assert [b["value"] for b in body["items"]] == [money(expected[label]) for label in labels]
    assert [b["row_count"] for b in body["items"]] == [counts[label] for label in labels]
    # The same total as the month series over the same range.
    monthly = get(client, org_a, "valor-mes-a-mes", **{"from": start.isoformat(), "to": end.isoformat()})
    month_total = sum((expected_month for expected_month in _by_month(inside).values()), Decimal(0))
    assert sum(counts.values()) == len(inside)
    assert sum((expected[label] for label in labels), Decimal(0)) == month_total
    assert [m["value"] for m in monthly["items"]] == [money(v) for v in _by_month(inside, start, end).values()]


def _by_month(rows, start=None, end=None) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    if start is not None:
        day = start.replace(day=1)
        while day <= end:
            sums[f"{day.year}-{day.month:02d}"] = Decimal(0)
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    for r in rows:
        key = f"{r.day.year}-{r.day.month:02d}"
        sums[key] = sums.get(key, Decimal(0)) + r.value
    return sums


def test_iso_weeks_across_a_year_boundary(client, org_a):
    days = [date(2024, 12, 29), date(2024, 12, 30), date(2025, 1, 5), date(2025, 1, 6), date(2020, 12, 31)]
    data = [Row(day, Decimal(n + 1) * Decimal("1.25"), "SP", "A") for n, day in enumerate(days)]
    upload(client, org_a.headers(), make_csv(data))
    body = get(client, org_a, "serie-temporal", **{"from": "2024-12-28", "to": "2025-01-06", "grain": "week"})
    assert [(b["period"], b["start"], b["end"], b["value"]) for b in body["items"]] == [
        ("2024-W52", "2024-12-23", "2024-12-29", 1.25),  # Sunday 29 December belongs to 2024's last week
        ("2025-W01", "2024-12-30", "2025-01-05", 2.50 + 3.75),  # Monday 30 December starts 2025's first week
        ("2025-W02", "2025-01-06", "2025-01-12", 5.00),
    ]
    year_53 = get(client, org_a, "serie-temporal", **{"from": "2020-12-31", "to": "2021-01-03", "grain": "week"})
    assert [(b["period"], b["value"]) for b in year_53["items"]] == [("2020-W53", 6.25)]
    days_only = get(client, org_a, "serie-temporal", **{"from": "2024-12-28", "to": "2025-01-06", "grain": "day"})
    assert len(days_only["items"]) == 10 and days_only["items"][0]["value"] == 0


def test_bad_grain_is_422(client, org_a):
    r = client.get(
        "/indicators/serie-temporal",
        headers=org_a.headers(),
        params={"from": "2025-01-01", "to": "2025-01-31", "grain": "fortnight"},
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_acumulado_ano_restarts_at_the_fiscal_year_start(client, org_a, rows):
    patched = client.patch("/organizations/current", headers=org_a.headers(), json={"fiscal_year_start_month": 4})
    assert patched.status_code == 200, patched.text
    body = get(client, org_a, "acumulado-ano", **{"from": "2024-02-01", "to": "2025-05-31"})
    assert body["fiscal_year_start_month"] == 4
    running, expected = Decimal(0), []
    month = date(2023, 4, 1)  # the fiscal year holding 2024-02 started in April 2023
    while month <= date(2025, 5, 1):
        if month.month == 4:
            running = Decimal(0)
        total = sum((r.value for r in rows if (r.day.year, r.day.month) == (month.year, month.month)), Decimal(0))
        running += total
        if month >= date(2024, 2, 1):
            expected.append(
                {"month": f"{month.year}-{month.month:02d}", "value": money(total), "cumulative": money(running)}
            )
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    assert body["items"] == expected
    # Back to January: the same request answers the calendar year-to-date (the setting is part of the cache key).
    client.patch("/organizations/current", headers=org_a.headers(), json={"fiscal_year_start_month": 1})
    january = get(client, org_a, "acumulado-ano", **{"from": "2024-02-01", "to": "2025-05-31"})
    assert january["fiscal_year_start_month"] == 1 and january["items"] != body["items"]
    jan_2025 = next(i for i in january["items"] if i["month"] == "2025-01")
    assert jan_2025["cumulative"] == jan_2025["value"]


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_dashboard_default_range_without_data_ends_today_in_the_org_time_zone(client, org_a, zone):
    client.patch("/organizations/current", headers=org_a.headers(), json={"timezone": zone})
    d = client.post(
        "/dashboards", headers=org_a.headers(), json={"name": "x", "widgets": [{"title": "m", "indicator": "kpis"}]}
    ).json()
    body = client.get(f"/dashboards/{d['id']}/data", headers=org_a.headers()).json()
    assert body["to"] == datetime.now(ZoneInfo(zone)).date().isoformat()


def test_dimensions_list_what_has_data(client, org_a, org_b):
    data = [
        Row(date(2025, 1, 5), Decimal("10"), "SP", "Eletrônicos"),
        Row(date(2025, 1, 6), Decimal("20"), "SP", "ELETRONICOS"),
        Row(date(2025, 2, 7), Decimal("30"), "RJ", "Móveis"),
        Row(date(2025, 3, 8), Decimal("40"), "", "Livros"),
    ]
    first = upload(client, org_a.headers(), make_csv(data), filename="a.csv").json()
    second = upload(
        client, org_a.headers(), make_csv([Row(date(2024, 12, 1), Decimal(1), "MG", "Livros")]), filename="b.csv"
    ).json()
    upload(client, org_b.headers(), make_csv([Row(date(2020, 1, 1), Decimal(5), "AC", "Secreta")]))
    body = get(client, org_a, "dimensions")
    assert (body["first_date"], body["last_date"]) == ("2024-12-01", "2025-03-08")
    assert body["categories"] == [
        {"category": "ELETRONICOS", "row_count": 1},
        {"category": "Eletrônicos", "row_count": 1},
        {"category": "Livros", "row_count": 2},
        {"category": "Móveis", "row_count": 1},
    ]
    assert body["ufs"] == [
        {"uf": "MG", "name": "Minas Gerais", "row_count": 1},
        {"uf": "RJ", "name": "Rio de Janeiro", "row_count": 1},
        {"uf": "SP", "name": "São Paulo", "row_count": 2},
    ]
    assert body["data_sources"] == [
        {"id": first["data_source_id"], "name": "a.csv", "type": "csv_upload", "row_count": 4},
        {"id": second["data_source_id"], "name": "b.csv", "type": "csv_upload", "row_count": 1},
    ]
    ranged = get(client, org_a, "dimensions", **{"from": "2025-01-01", "to": "2025-01-31", "uf": "sao paulo"})
    assert [c["category"] for c in ranged["categories"]] == ["ELETRONICOS", "Eletrônicos"]
    assert (ranged["first_date"], ranged["last_date"]) == ("2025-01-05", "2025-01-06")
    by_source = get(client, org_a, "dimensions", data_source_id=second["data_source_id"])
    assert [s["name"] for s in by_source["data_sources"]] == ["b.csv"] and by_source["first_date"] == "2024-12-01"
    assert get(client, org_b, "dimensions")["categories"] == [{"category": "Secreta", "row_count": 1}]


def test_category_matching_ignores_case_and_accents(client, org_a):
    data = [
        Row(date(2025, 1, 5), Decimal("10.10"), "SP", "Eletrônicos"),
        Row(date(2025, 1, 6), Decimal("20.20"), "SP", "ELETRONICOS"),
        Row(date(2025, 2, 6), Decimal("5.05"), "SP", "  eletrônicos "),
        Row(date(2025, 1, 7), Decimal("99"), "SP", "Eletro"),
    ]
    upload(client, org_a.headers(), make_csv(data))
    for spelling in ("eletronicos", "ELETRÔNICOS", " Eletrônicos"):
        body = get(client, org_a, "kpis", **{"from": "2025-01-01", "to": "2025-03-31", "category": spelling})
        assert body["current"]["total_value"] == 35.35 and body["current"]["row_count"] == 3
    monthly = get(
        client, org_a, "valor-mes-a-mes", **{"from": "2025-01-01", "to": "2025-02-28", "category": "eletronicos"}
    )
    assert [m["value"] for m in monthly["items"]] == [30.30, 5.05]


@pytest.mark.parametrize(
    ("uf", "expected"), [("sp", 10.0), ("SP", 10.0), ("São Paulo", 10.0), ("sao paulo", 10.0), ("rj", 5.0)]
)
def test_uf_filter_takes_codes_and_names_in_any_case(client, org_a, uf, expected):
    upload(
        client,
        org_a.headers(),
        make_csv([Row(date(2025, 1, 5), Decimal(10), "SP", "A"), Row(date(2025, 1, 5), Decimal(5), "RJ", "A")]),
    )
    body = get(client, org_a, "kpis", **{"from": "2025-01-01", "to": "2025-01-31", "uf": uf})
    assert body["current"]["total_value"] == expected


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"uf": "XX"}, "invalid_uf"),
        ({"uf": "Atlantis"}, "invalid_uf"),
        ({"category": "   "}, "invalid_parameter"),
        ({"data_source_id": 999_999}, "unknown_data_source"),
    ],
)
@pytest.mark.parametrize("path", ["kpis", "serie-temporal", "dimensions", "mapa-por-uf"])
def test_invalid_filters_are_422(client, org_a, params, code, path):
    r = client.get(
        f"/indicators/{path}", headers=org_a.headers(), params={"from": "2025-01-01", "to": "2025-01-31", **params}
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code


def test_widget_with_a_bad_uf_is_refused_at_save(client, org_a):
    r = client.post(
        "/dashboards",
        headers=org_a.headers(),
        json={"name": "x", "widgets": [{"title": "t", "indicator": "kpis", "params": {"uf": "XX"}}]},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_uf" and "widgets[0]" in r.json()["detail"]


def test_openapi_documents_every_answer_shape(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in [
        "valor-mes-a-mes",
        "mapa-por-uf",
        "kpis",
        "top-categorias",
        "acumulado-ano",
        "serie-temporal",
        "dimensions",
    ]:
        ok = paths[f"/indicators/{path}"]["get"]["responses"]["200"]["content"]
        assert ok["application/json"]["schema"]["$ref"].startswith("#/components/schemas/"), path
        assert {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(ok), path
        params = {p["name"]: p for p in paths[f"/indicators/{path}"]["get"]["parameters"]}
        if "from" in params:  # examples inside the demo data (November 2024 to October 2026)
            first, last = params["from"]["examples"]["demo"]["value"], params["to"]["examples"]["demo"]["value"]
            assert "2024-11-01" <= first <= last <= "2026-10-31"
    data = paths["/dashboards/{dashboard_id}/data"]["get"]["responses"]["200"]["content"]["application/json"]
    assert data["schema"]["$ref"].endswith("DashboardDataRead")
