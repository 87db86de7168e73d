"""What a 1M-row load cannot go below on this Postgres: each write the COPY path's statement makes, timed alone, next
to `psql \\copy` of the same file in the same run, and the ceiling they put on the upload's ratio to `\\copy`.

    .venv/bin/python bench/ingest_floor.py [--rows 1000000] [--repeat 3]

One upload through the real server (bench/ingest.py's, into its database, created afresh) fills `staging_rows` with
the file's parsed rows. Each step below then runs `--repeat` times over those rows, as the database superuser, in a
transaction that is rolled back (so every run starts from the same tables), and prints its median and the WAL it
wrote:

- `facts` as the schema has it (heap, primary key on (organization_id, id) from its sequence, the
  (organization_id, date) btree), then copies of its columns with the primary key only, with no index, and as a
  temporary table (no index, no WAL): what each part of that write costs;
- `staging_rows` as the schema has it (unlogged; primary key and the (organization_id, batch_id, line_no) btree),
  and building its raw JSON objects alone;
- the daily rollups' GROUP BY alone;
- the DELETE a replace makes of the source's facts.

The ceiling assumes the load did nothing but `\\copy` the file, write `facts` and group the daily rollups: no
parsing, no staging, no rejections. `VACUUM (ANALYZE)` runs after the upload (autovacuum may be off here).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ingest import fresh_database, psql_copy, upload, vacuum_analyze, write_csv
from sqlalchemy import Connection, create_engine, text

FACT_COLUMNS = "organization_id, data_source_id, batch_id, date, value, uf, category, attributes"
PARSED = f"SELECT {FACT_COLUMNS} FROM painel_floor_rows"
STAGING_COLUMNS = "organization_id, batch_id, line_no, raw, is_valid, date, value, uf, category, attributes"


def _insert_into(name: str, like: str, indexes: str = "", temporary: bool = False) -> Callable[[Connection], None]:
    """A fresh table of facts' columns (`LIKE facts <like>`), `indexes` added, then the rows inserted."""

    def step(conn: Connection) -> None:
        conn.execute(text(f"CREATE {'TEMP ' if temporary else ''}TABLE {name} (LIKE facts {like})"))
        if indexes:
            conn.execute(text(indexes.format(name=name)))
        conn.execute(text(f"INSERT INTO {name} ({FACT_COLUMNS}) {PARSED}"))

    return step


def _staging(conn: Connection) -> None:
    conn.execute(
        text(
            f"INSERT INTO staging_rows ({STAGING_COLUMNS}) SELECT organization_id, batch_id + 1000000, line_no, raw, "
            "is_valid, date, value, uf, category, attributes FROM painel_floor_staged"
        )
    )


HEADER = ("Data", "Valor", "UF", "Categoria", "Pedido", "Observação")  # bench/ingest.py's file
CELLS = "painel_floor_cells"  # the file's cells as text columns, as the COPY path's text table holds them


def _raw_json(conn: Connection) -> None:
    names = "{" + ",".join(HEADER) + "}"
    conn.execute(
        text(f"SELECT sum(length(json_object('{names}'::text[], ARRAY[c0, c1, c2, c3, c4, c5])::text)) FROM {CELLS}")
    )


def _cells_only(conn: Connection) -> None:
    conn.execute(text(f"SELECT sum(length(c0 || c1 || c2 || c3 || c4 || c5)) FROM {CELLS}"))


def _rollups(conn: Connection) -> None:
    conn.execute(
        text(
            "SELECT count(*) FROM (SELECT date, uf, category, sum(value), count(*), min(value), max(value) "
            "FROM painel_floor_rows GROUP BY date, uf, category) g"
        )
    )


def _delete_source(conn: Connection) -> None:
    conn.execute(
        text(
            "DELETE FROM facts WHERE (organization_id, data_source_id) = "
            "(SELECT organization_id, data_source_id FROM painel_floor_rows LIMIT 1)"
        )
    )


SCRATCH = f"painel_floor_rows, painel_floor_staged, {CELLS}"
PK = "ALTER TABLE {name} ADD PRIMARY KEY (organization_id, id)"
FACTS_STEP = "`facts`' columns and indexes: primary key (id sequence), (organization_id, date) btree"
ROLLUPS_STEP = "daily rollups: the GROUP BY alone"
STEPS: list[tuple[str, Callable[[Connection], None]]] = [
    (FACTS_STEP, _insert_into("painel_floor_facts", "INCLUDING ALL")),
    ("the same columns, primary key only", _insert_into("painel_floor_pk", "INCLUDING DEFAULTS", PK)),
    ("the same columns, no index", _insert_into("painel_floor_heap", "INCLUDING DEFAULTS")),
    (
        "the same columns, temporary table (no index, no WAL)",
        _insert_into("painel_floor_temp", "INCLUDING DEFAULTS", temporary=True),
    ),
    ("`staging_rows` as it is (unlogged, with raw JSON)", _staging),
    ("building the raw JSON objects alone", _raw_json),
    ("reading the same cells without building JSON", _cells_only),
    (ROLLUPS_STEP, _rollups),
    ("a replace's DELETE of the source's facts", _delete_source),
]


def timed(engine, step: Callable[[Connection], None]) -> tuple[float, float]:
    """(seconds, WAL MB) of one run of the step, in a transaction rolled back afterwards (and vacuumed away)."""
    with engine.connect() as conn:
        conn.execute(text("SET work_mem = '64MB'"))
        conn.commit()
        before = conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
        started = time.perf_counter()
        step(conn)
        seconds = time.perf_counter() - started
        wal = conn.execute(text("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :lsn)"), {"lsn": before})
        megabytes = float(wal.scalar_one()) / 2**20
        conn.rollback()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM facts, staging_rows"))  # the rolled-back rows, out of the next run's way
    return seconds, megabytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_ingest")
    args = parser.parse_args()

    fresh_database(args.database_url)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "vendas.csv"
        write_csv(csv_path, args.rows)
        copies = [psql_copy(args.database_url, csv_path) for _ in range(args.repeat)]
        seconds, _peak, _idle, _report = upload(args.database_url, csv_path, copy_path=True)
    vacuum_analyze(args.database_url)
    engine = create_engine(args.database_url, pool_size=1, max_overflow=0)
    with engine.begin() as conn:
        # Session-level copies of the upload's rows: every step reads the same rows from the same kind of table.
        conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
        conn.execute(text(f"CREATE UNLOGGED TABLE painel_floor_rows AS SELECT {FACT_COLUMNS} FROM facts"))
        conn.execute(text(f"CREATE UNLOGGED TABLE painel_floor_staged AS SELECT {STAGING_COLUMNS} FROM staging_rows"))
        cells = ", ".join(f"raw->>'{name}' AS c{i}" for i, name in enumerate(HEADER))
        conn.execute(text(f"CREATE UNLOGGED TABLE {CELLS} AS SELECT {cells} FROM staging_rows"))
        for table in SCRATCH.split(", "):
            conn.execute(text(f"ANALYZE {table}"))
    try:
        results = []
        for label, step in STEPS:
            runs = [timed(engine, step) for _ in range(args.repeat)]
            results.append((label, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)))
            print(f"{label}: {', '.join(f'{r[0]:.2f} s' for r in runs)}", flush=True)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
        engine.dispose()

    copy_s = statistics.median(copies)
    by_label = {label: s for label, s, _ in results}
    facts_s, rollups_s = by_label[FACTS_STEP], by_label[ROLLUPS_STEP]
    print(
        f"\n{args.rows:,} rows; `psql \\copy` of the file: {copy_s:.2f} s (median of {args.repeat}); "
        f"the upload itself: {seconds:.2f} s ({copy_s / seconds:.2f} of `\\copy`)\n"
    )
    print("| step (alone, rolled back) | seconds (median) | WAL MB |")
    print("|---|---:|---:|")
    for label, s, wal in results:
        print(f"| {label} | {s:.2f} | {wal:.0f} |")
    floor = copy_s + facts_s + rollups_s
    print(
        f"\nCeiling with no parsing, no staging and no rejections: `\\copy` {copy_s:.2f} s + `facts` {facts_s:.2f} s + "
        f"rollups {rollups_s:.2f} s = {floor:.2f} s, so at most {copy_s / floor:.2f} of `\\copy` (the target is 0.2)."
    )


if __name__ == "__main__":
    main()
