"""The daily rollups always equal a recomputation from `facts`, after every kind of write."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tests.ingest_helpers import Row, assert_rollups_match_facts, make_csv, sample_rows, upload


def test_rollups_follow_uploads_replacements_and_deletions(client, org_a, org_b):
    editor = org_a.headers("Editor")
    first = upload(client, editor, make_csv(sample_rows(60, seed=1)), filename="vendas.csv")
    assert first.status_code == 201, first.text
    upload(client, org_b.headers("Editor"), make_csv(sample_rows(30, seed=2)), filename="vendas.csv")
    other = upload(client, editor, make_csv(sample_rows(25, seed=3)), filename="outra.csv")
    assert assert_rollups_match_facts() > 0
    # A new export of the same file replaces the source's facts: the rollups follow.
    replaced = upload(client, editor, make_csv(sample_rows(45, seed=4)), filename="vendas.csv")
    assert replaced.json()["data_source_id"] == first.json()["data_source_id"]
    assert_rollups_match_facts()
    # Deleting a source removes its rollups and leaves the others.
    assert client.delete(f"/datasources/{other.json()['data_source_id']}", headers=org_a.headers("Admin")).status_code
    assert_rollups_match_facts()


def test_rollups_group_equal_days_ufs_and_categories(client, org_a):
    day = date(2025, 3, 10)
    rows = [Row(day, Decimal("10.50"), "SP", "A"), Row(day, Decimal("-2.25"), "SP", "A")]
    rows += [Row(day, Decimal("7"), "RJ", "A"), Row(day + timedelta(days=1), Decimal("1"), "SP", "A")]
    assert upload(client, org_a.headers("Editor"), make_csv(rows)).status_code == 201
    assert assert_rollups_match_facts() == 3
