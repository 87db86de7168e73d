"""Ready-made indicators: exact values against sums the test computes from the data it loads."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from app.services.ingest.values import UF_CODES
from tests.ingest_helpers import Row, make_csv, sample_rows, upload


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def pct(cur: Decimal, prev: Decimal):
    return None if prev == 0 else money((cur - prev) / abs(prev) * 100)


def in_range(rows, start, end, **flt):
    return [r for r in rows if start <= r.day <= end and all(getattr(r, k) == v for k, v in flt.items())]


@pytest.fixture
def loaded(client, org_a, org_b):
    rows_a = sample_rows(300, seed=11)
    # A few rows without UF for the `unassigned` total.
    rows_a += [
        Row(date(2024, 3, 5), Decimal("10.10"), "", "Sem UF"),
        Row(date(2024, 3, 9), Decimal("5.05"), "", "Sem UF"),
    ]
    body = upload(client, org_a.headers(), make_csv(rows_a)).json()
    assert body["rows_loaded"] == len(rows_a), body
    rows_b = [Row(date(2024, 1, 10), Decimal("999999.99"), "SP", "Eletrônicos")] * 3
    assert upload(client, org_b.headers(), make_csv(rows_b)).json()["rows_loaded"] == 3
    return rows_a, body["data_source_id"]


def get(client, org, path, **params):
    r = client.get(f"/indicators/{path}", headers=org.headers("Viewer"), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_valor_mes_a_mes_zero_filled_with_change(client, org_a, loaded):
    rows, _ = loaded
    start, end = date(2023, 11, 1), date(2024, 6, 30)
    body = get(client, org_a, "valor-mes-a-mes", **{"from": start.isoformat(), "to": end.isoformat()})
    sums = defaultdict(Decimal)
    for r in in_range(rows, start, end):
        sums[(r.day.year, r.day.month)] += r.value
    months = [(2023, 11), (2023, 12)] + [(2024, m) for m in range(1, 7)]
    expected, prev = [], None
    for ym in months:
        v = sums.get(ym, Decimal(0))
        expected.append(
            {"month": f"{ym[0]}-{ym[1]:02d}", "value": money(v), "change_pct": None if prev is None else pct(v, prev)}
        )
        prev = v
    assert body["items"] == expected
    assert body["items"][0]["value"] == 0 and body["items"][2]["change_pct"] is None  # zero-filled before data
    assert body["indicator"] == "valor-mes-a-mes" and body["from"] == "2023-11-01" and body["as_of"]


def test_mapa_por_uf_all_states_sorted_with_unassigned(client, org_a, loaded):
    rows, _ = loaded
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    body = get(client, org_a, "mapa-por-uf", **{"from": start.isoformat(), "to": end.isoformat()})
    sums = defaultdict(Decimal)
    for r in in_range(rows, start, end):
        sums[r.uf or None] += r.value
    unassigned = sums.pop(None, Decimal(0))
    total = sum(sums.values(), Decimal(0))
    expected = sorted(((uf, sums.get(uf, Decimal(0))) for uf in UF_CODES), key=lambda t: (-t[1], t[0]))
    assert [i["uf"] for i in body["items"]] == [uf for uf, _ in expected]
    assert [i["value"] for i in body["items"]] == [money(v) for _, v in expected]
    assert [i["share_pct"] for i in body["items"]] == [money(v / total * 100) for _, v in expected]
    assert len(body["items"]) == 27
    assert body["unassigned"] == money(unassigned) == 15.15
    assert body["total"] == money(total + unassigned)


def test_filters_and_kpis_previous_period(client, org_a, loaded):
    rows, source_id = loaded
    start, end = date(2024, 7, 1), date(2024, 12, 31)
    params = {"from": start.isoformat(), "to": end.isoformat(), "uf": "SP", "data_source_id": source_id}
    body = get(client, org_a, "kpis", **params)
    cur = in_range(rows, start, end, uf="SP")
    days = (end - start).days + 1
    prev_start, prev_end = start - timedelta(days=days), start - timedelta(days=1)
    prev = in_range(rows, prev_start, prev_end, uf="SP")

    def tot(rs):
        return sum((r.value for r in rs), Decimal(0))

    assert body["current"] == {
        "total_value": money(tot(cur)),
        "row_count": len(cur),
        "average_value": money(tot(cur) / len(cur)),
        "distinct_categories": len({r.category for r in cur}),
    }
    assert body["previous"]["from"] == prev_start.isoformat() and body["previous"]["to"] == prev_end.isoformat()
    assert body["previous"]["total_value"] == money(tot(prev)) and body["previous"]["row_count"] == len(prev)
    assert body["change_pct"]["total_value"] == pct(tot(cur), tot(prev))
    assert body["change_pct"]["row_count"] == pct(Decimal(len(cur)), Decimal(len(prev)))


def _second_source(client, org, last_uf: str) -> tuple[list[Row], dict]:
    """A second CSV source: the same category in three spellings (case, accents), a row without a UF, and one in
    December 2023 in `last_uf`; returns its rows and the upload's report."""
    extra = [
        Row(date(2024, 2, 20), Decimal("12.34"), "SP", "ELETRONICOS"),
        Row(date(2024, 8, 3), Decimal("-7.50"), "RJ", "eletrônicos"),
        Row(date(2024, 5, 31), Decimal("100"), "", "Eletrônicos"),
        Row(date(2023, 12, 30), Decimal("3"), last_uf, "Outra"),
    ]
    other = upload(client, org.headers(), make_csv(extra), filename="outra.csv").json()
    assert other["rows_loaded"] == len(extra), other
    return extra, other


def test_kpis_without_uf_over_partial_months_sources_and_spellings(client, org_a, loaded):
    """Without a UF filter kpis reads the per-category monthly rollups for whole months: ranges with partial months
    at either end (read as days, or as the month minus its other days), one or two sources, and categories that
    differ only in case or accents (each spelling is a distinct category; the category filter matches them all)."""
    rows, source_id = loaded
    extra, other = _second_source(client, org_a, last_uf="MG")
    spellings = {"Eletrônicos", "ELETRONICOS", "eletrônicos"}

    def summary(selected):
        total = sum((r.value for r in selected), Decimal(0))
        return {
            "total_value": money(total),
            "row_count": len(selected),
            "average_value": money(total / len(selected)) if selected else 0.0,
            "distinct_categories": len({r.category for r in selected}),
        }

    ranges = [
        (date(2024, 2, 10), date(2024, 8, 20)),  # edges longer than half their month
        (date(2024, 2, 20), date(2024, 8, 5)),  # edges shorter than half their month
        (date(2024, 3, 1), date(2025, 2, 28)),  # whole months; the previous period starts mid-month
        (date(2024, 1, 15), date(2024, 1, 25)),  # inside one month
    ]
    sources = [
        ({}, rows + extra),
        ({"data_source_id": source_id}, rows),
        ({"data_source_id": other["data_source_id"]}, extra),
    ]
    for start, end in ranges:
        days = (end - start).days + 1
        prev_start, prev_end = start - timedelta(days=days), start - timedelta(days=1)
        dates = {"from": start.isoformat(), "to": end.isoformat()}
        for source, loaded_rows in sources:
            body = get(client, org_a, "kpis", **dates, **source)
            assert body["current"] == summary(in_range(loaded_rows, start, end)), (start, end, source)
            previous = summary(in_range(loaded_rows, prev_start, prev_end))
            assert {key: body["previous"][key] for key in previous} == previous, (start, end, source)
        body = get(client, org_a, "kpis", **dates, category="eletronicos")
        assert body["current"] == summary([r for r in in_range(rows + extra, start, end) if r.category in spellings])


def test_uf_indicators_over_partial_months_sources_and_appends(client, org_a, loaded):
    """mapa-por-uf and UF filters without a category read the per-UF monthly rollups for whole months: ranges with
    partial months at either end (read as days, or as the month minus its other days), one or two sources, facts
    without a UF, and an append into months the source already had. A category filter with a UF keeps the monthly
    rollups and must agree."""
    rows, source_id = loaded
    extra, other = _second_source(client, org_a, last_uf="AC")
    appended = [
        Row(date(2024, 2, 11), Decimal("0.01"), "SP", "Alimentos"),
        Row(date(2024, 8, 19), Decimal("41.99"), "", "Sem UF"),
        Row(date(2024, 6, 15), Decimal("-2.25"), "TO", "Outra"),
    ]
    body = upload(client, org_a.headers(), make_csv(appended), mode="append").json()
    assert body["rows_loaded"] == len(appended) and body["data_source_id"] == source_id, body
    rows = rows + appended

    ranges = [
        (date(2024, 2, 10), date(2024, 8, 20)),  # edges longer than half their month
        (date(2024, 2, 20), date(2024, 8, 5)),  # edges shorter than half their month
        (date(2023, 12, 1), date(2024, 11, 30)),  # whole months
        (date(2024, 1, 15), date(2024, 1, 25)),  # inside one month
    ]
    sources = [
        ({}, rows + extra),
        ({"data_source_id": source_id}, rows),
        ({"data_source_id": other["data_source_id"]}, extra),
    ]
    for start, end in ranges:
        dates = {"from": start.isoformat(), "to": end.isoformat()}
        for source, loaded_rows in sources:
            inside = in_range(loaded_rows, start, end)
            by_uf = defaultdict(Decimal)
            for r in inside:
                by_uf[r.uf or None] += r.value
            unassigned = by_uf.pop(None, Decimal(0))
            body = get(client, org_a, "mapa-por-uf", **dates, **source)
            assert {i["uf"]: i["value"] for i in body["items"]} == {
                uf: money(by_uf.get(uf, Decimal(0))) for uf in UF_CODES
            }, (start, end, source)
            assert body["unassigned"] == money(unassigned), (start, end, source)
            assert body["total"] == money(sum(by_uf.values(), unassigned)), (start, end, source)
            for uf in ("SP", "RJ", "TO", "AC"):
                selected = [r for r in inside if r.uf == uf]
                series = get(client, org_a, "serie-temporal", **dates, **source, uf=uf, grain="month")["items"]
                expected = []
                for item in series:
                    month = [r for r in selected if r.day.isoformat()[:7] == item["start"][:7]]
                    expected.append(
                        {**item, "value": money(sum((r.value for r in month), Decimal(0))), "row_count": len(month)}
                    )
                assert series == expected, (start, end, source, uf)
                assert sum(i["row_count"] for i in series) == len(selected)
                months = get(client, org_a, "valor-mes-a-mes", **dates, **source, uf=uf)["items"]
                assert [i["value"] for i in months] == [i["value"] for i in series], (start, end, source, uf)
        body = get(client, org_a, "mapa-por-uf", **dates, category="eletronicos")
        spellings = [
            r for r in in_range(rows + extra, start, end) if r.category in {"Eletrônicos", "ELETRONICOS", "eletrônicos"}
        ]
        assert {i["uf"]: i["value"] for i in body["items"]} == {
            uf: money(sum((r.value for r in spellings if r.uf == uf), Decimal(0))) for uf in UF_CODES
        }, (start, end)


def test_category_filter_on_monthly(client, org_a, loaded):
    rows, _ = loaded
    start, end = date(2024, 1, 1), date(2024, 3, 31)
    body = get(client, org_a, "valor-mes-a-mes", **{"from": "2024-01-01", "to": "2024-03-31", "category": "Alimentos"})
    for item, month in zip(body["items"], (1, 2, 3), strict=True):
        expected = sum(
            (r.value for r in in_range(rows, start, end, category="Alimentos") if r.day.month == month), Decimal(0)
        )
        assert item["value"] == money(expected)


def test_top_categorias_and_acumulado_ano(client, org_a, loaded):
    rows, _ = loaded
    start, end = date(2024, 4, 1), date(2024, 9, 30)
    body = get(client, org_a, "top-categorias", **{"from": start.isoformat(), "to": end.isoformat(), "limit": 2})
    sums = defaultdict(Decimal)
    for r in in_range(rows, start, end):
        sums[r.category] += r.value
    overall = sum(sums.values(), Decimal(0))
    top = sorted(sums.items(), key=lambda t: (-t[1], t[0]))[:2]
    assert body["items"] == [{"category": c, "value": money(v), "share_pct": money(v / overall * 100)} for c, v in top]
    assert body["others"] == money(overall - sum(v for _, v in top))
    ytd = get(client, org_a, "acumulado-ano", **{"from": "2024-04-01", "to": "2025-02-28"})
    running, year, expected = Decimal(0), None, []
    for y, m in [(2024, m) for m in range(1, 13)] + [(2025, 1), (2025, 2)]:
        if y != year:
            running, year = Decimal(0), y
        month_total = sum((r.value for r in rows if (r.day.year, r.day.month) == (y, m)), Decimal(0))
        running += month_total
        if (y, m) >= (2024, 4):
            expected.append({"month": f"{y}-{m:02d}", "value": money(month_total), "cumulative": money(running)})
    assert ytd["items"] == expected


def test_other_org_sees_only_its_data(client, org_b, loaded):
    body = get(client, org_b, "valor-mes-a-mes", **{"from": "2024-01-01", "to": "2024-02-29"})
    assert [i["value"] for i in body["items"]] == [2999999.97, 0.0]
    uf = get(client, org_b, "mapa-por-uf", **{"from": "2024-01-01", "to": "2024-12-31"})
    assert uf["items"][0] == {"uf": "SP", "value": 2999999.97, "share_pct": 100.0} and uf["unassigned"] == 0
    top = get(client, org_b, "top-categorias", **{"from": "2020-01-01", "to": "2025-12-31"})
    assert [i["category"] for i in top["items"]] == ["Eletrônicos"]
    # org A's source id answers org B exactly like a missing one (issue #10: an unknown data_source_id is a 422).
    _, source_a = loaded
    params = {"from": "2020-01-01", "to": "2025-12-31"}
    theirs = client.get("/indicators/kpis", headers=org_b.headers(), params={**params, "data_source_id": source_a})
    missing = client.get("/indicators/kpis", headers=org_b.headers(), params={**params, "data_source_id": 999_999})
    assert theirs.status_code == missing.status_code == 422
    assert theirs.json()["code"] == missing.json()["code"] == "unknown_data_source"
    assert theirs.json()["detail"].replace(str(source_a), "N") == missing.json()["detail"].replace("999999", "N")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"from": "2024-02-01", "to": "2024-01-01"}, "after"),
        ({"from": "2024-13-01", "to": "2024-12-31"}, "from"),
        ({"to": "2024-12-31"}, "from"),
        ({"from": "2000-01-01", "to": "2024-12-31"}, "maximum"),
    ],
)
def test_bad_ranges_are_422(client, org_a, params, fragment):
    r = client.get("/indicators/valor-mes-a-mes", headers=org_a.headers(), params=params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert fragment in r.json()["detail"]


def test_etag_and_304_change_with_data(client, org_a):
    params = {"from": "2024-01-01", "to": "2024-12-31"}
    first = client.get("/indicators/kpis", headers=org_a.headers(), params=params)
    tag = first.headers["etag"]
    again = client.get("/indicators/kpis", headers={**org_a.headers(), "If-None-Match": tag}, params=params)
    assert again.status_code == 304 and again.headers["etag"] == tag
    upload(client, org_a.headers(), make_csv(sample_rows(5)))
    changed = client.get("/indicators/kpis", headers={**org_a.headers(), "If-None-Match": tag}, params=params)
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert changed.json()["as_of"] is not None and first.json()["as_of"] is None


def test_catalog_lists_indicators(client, org_a):
    keys = [i["key"] for i in client.get("/indicators", headers=org_a.headers("Viewer")).json()["items"]]
    assert keys == ["valor-mes-a-mes", "mapa-por-uf", "kpis", "top-categorias", "acumulado-ano", "serie-temporal"]


def test_dates_outside_the_supported_span_are_422(client, org_a):
    r = client.get("/indicators/kpis", headers=org_a.headers(), params={"from": "0001-01-01", "to": "0001-01-01"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_range"
