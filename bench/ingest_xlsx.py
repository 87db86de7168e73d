"""XLSX ingestion benchmark: an N-row sheet through the real `POST /ingest/xlsx` into Postgres, side by side with
calamine alone opening and reading the same sheet (the reader every upload starts with), in the same run.

    .venv/bin/python bench/ingest_xlsx.py [--rows 200000] [--repeat 3] [--baseline-root <old checkout>]

The sheet is what ERPs export: typed dates and numbers, a UF and a category, an order number and a free-text note.
Each run reads it with python-calamine (open + every row), then uploads it through a fresh server of this checkout
(and of --baseline-root's, when given), with `VACUUM (ANALYZE)` after each load (autovacuum may be off), into the
database bench/ingest.py uses, created afresh for the invocation. Prints the medians and rows/s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from ingest import CATEGORIES, UFS, fresh_database, upload, vacuum_analyze

XLSX_UPLOAD = ("/ingest/xlsx", "vendas.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def write_xlsx(path: Path, rows: int, seed: int = 42) -> None:
    from openpyxl import Workbook

    rng = random.Random(seed)
    start = date(2024, 1, 1)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Vendas")
    sheet.append(["Data", "Valor", "UF", "Categoria", "Pedido", "Observação"])
    for i in range(rows):
        sheet.append(
            [
                start + timedelta(days=rng.randrange(730)),
                rng.randint(100, 5_000_000) / 100,
                rng.choice(UFS),
                rng.choice(CATEGORIES),
                100000 + i,
                f"ação nº {i % 97}",
            ]
        )
    book.save(path)


def calamine_read(path: Path) -> float:
    """Baseline: python-calamine opens the workbook and yields every row of the sheet."""
    import python_calamine

    started = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = sum(1 for _ in book.get_sheet_by_name("Vendas").iter_rows())
    elapsed = time.perf_counter() - started
    book.close()
    if rows < 2:
        raise SystemExit("calamine read no rows")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-root", help="another checkout (e.g. a `git archive` of an older commit)")
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_ingest")
    args = parser.parse_args()
    fresh_database(args.database_url)

    roots = {"this checkout": None, **({"baseline": args.baseline_root} if args.baseline_root else {})}
    reads: list[float] = []
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in roots}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vendas.xlsx"
        started = time.perf_counter()
        write_xlsx(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 2**20:.1f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        for run in range(args.repeat):
            read_s = calamine_read(path)
            reads.append(read_s)
            line = f"run {run + 1}: calamine {read_s:.2f} s"
            for label, root in roots.items():
                seconds, peak, _idle, report = upload(args.database_url, path, True, root, XLSX_UPLOAD)
                if report["rows_loaded"] != args.rows:
                    raise SystemExit(f"loaded {report['rows_loaded']} rows, expected {args.rows}")
                vacuum_analyze(args.database_url)
                results[label].append((seconds, peak))
                line += f"; {label} {seconds:.2f} s ({seconds / read_s:.1f}x), peak RSS {peak:.0f} MB"
            print(line, flush=True)

    read_med = statistics.median(reads)
    print()
    print(f"medians of {args.repeat} runs ({args.rows:,} rows):")
    print()
    print("| what | seconds (median) | rows/s | time / calamine (median of per-run ratios) | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| python-calamine: open and read every row (baseline) | {read_med:.2f} "
        f"| {args.rows / read_med:,.0f} | 1.0 | - |"
    )
    for label, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        ratio = statistics.median(r[0] / c for r, c in zip(runs, reads, strict=True))
        peak = statistics.median(r[1] for r in runs)
        print(
            f"| `POST /ingest/xlsx`, {label} | {seconds:.2f} | {args.rows / seconds:,.0f} | {ratio:.1f}x | {peak:.0f} |"
        )


if __name__ == "__main__":
    main()
