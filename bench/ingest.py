"""Ingestion benchmark: an N-row Brazilian CSV through the real HTTP endpoint into Postgres, side by side
with `psql \\copy` of the same file into a plain table, in the same run.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--rss-rows 4000000] [--repeat 3] [--paths copy,python]

Each run copies the file with `psql \\copy`, then uploads it through a fresh server with the COPY path on
(`INGEST_COPY_PATH=true`) and off (the Python parser), running `VACUUM (ANALYZE)` after each load (autovacuum is
off on the shared machine), into a database created afresh for the invocation. Prints the medians, the ratios to
the same run's `\\copy`, the server's peak RSS (VmHWM of its /proc status) per upload, and the peak for a
--rss-rows file (4M by default) on the COPY path.
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from _common import ensure_database, rss_mb, start_server, stop_server
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
SERVER_ENV = {
    "APP_ENV": "development",
    "SCHEDULER_ENABLED": "false",
    "SEED_DEMO": "false",
    "JWT_SECRET": secrets.token_urlsafe(48),
    "SECRETS_KEY": Fernet.generate_key().decode(),
    "MAX_UPLOAD_MB": "1024",
    # The request holds until the load is done (no 202 and background load), so its time is the load's.
    "ASYNC_UPLOAD_MB": "0",
    "MAX_UPLOAD_ROWS": "20000000",
    "DEV_LOGIN_ENABLED": "true",
}
UFS = ["SP", "RJ", "MG", "BA", "RS", "PR", "PE", "CE", "DF", "GO", "SC", "AM", "PA", "ES"]
CATEGORIES = ["Eletrônicos", "Vestuário", "Alimentos", "Móveis", "Higiene e Beleza", "Livros"]


MARKER = "painel bench data set (bench/ingest.py)"


def write_csv(path: Path, rows: int, seed: int = 42) -> None:
    """A `;`-separated cp1252 file with decimal commas and dd/mm/yyyy dates, as ERPs export."""
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    days = [(start + timedelta(days=d)).strftime("%d/%m/%Y") for d in range(730)]
    with path.open("w", encoding="cp1252", newline="") as out:
        out.write("Data;Valor;UF;Categoria;Pedido;Observação\r\n")
        for i in range(rows):
            cents = rng.randint(100, 5_000_000)
            whole, frac = divmod(cents, 100)
            value = f"{whole:,}".replace(",", ".") + f",{frac:02d}"
            out.write(
                f"{days[rng.randrange(730)]};{value};{rng.choice(UFS)};{rng.choice(CATEGORIES)};"
                f"{100000 + i};ação nº {i % 97}\r\n"
            )


def psql_copy(url: str, csv_path: Path) -> float:
    """Baseline: psql \\copy of the same file into a plain table of text columns."""
    parsed = make_url(url)
    psql = shutil.which("psql") or "psql"
    conn = [
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        "-d",
        parsed.database,
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
    ]
    subprocess.run(
        [
            psql,
            *conn,
            "-c",
            "DROP TABLE IF EXISTS bench_copy_baseline; CREATE TABLE bench_copy_baseline "
            "(data text, valor text, uf text, categoria text, pedido text, observacao text)",
        ],
        check=True,
    )
    started = time.perf_counter()
    subprocess.run(
        [
            psql,
            *conn,
            "-c",
            f"\\copy bench_copy_baseline FROM '{csv_path}' WITH (FORMAT csv, "
            "DELIMITER ';', HEADER true, ENCODING 'WIN1252')",
        ],
        check=True,
    )
    elapsed = time.perf_counter() - started
    subprocess.run([psql, *conn, "-c", "DROP TABLE bench_copy_baseline"], check=True)
    return elapsed


def vacuum_analyze(url: str) -> float:
    """VACUUM (ANALYZE) the tables a load writes (this machine's Postgres runs with autovacuum off)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    with engine.connect() as conn:
        for table in (
            "staging_rows",
            "rejected_rows",
            "facts",
            "daily_rollups",
            "monthly_rollups",
            "monthly_category_rollups",
            "monthly_uf_rollups",
        ):
            conn.execute(text(f"VACUUM (ANALYZE) {table}"))
    engine.dispose()
    return time.perf_counter() - started


def fresh_database(url: str) -> None:
    """The bench's database, created afresh at the head migration. Afresh on every invocation: `facts` and its index
    grow by a million rows per upload, and every load's index maintenance with them (19M leftover rows made later
    invocations slower than earlier ones)."""
    sys.path.insert(0, str(ROOT))
    from alembic import command
    from app.services.health import alembic_config

    ensure_database(url, MARKER, recreate=True)
    cfg = alembic_config(url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


CSV_UPLOAD = ("/ingest/csv", "vendas.csv", "text/csv")


def upload(
    url: str, csv_path: Path, copy_path: bool, root: str | None = None, kind: tuple[str, str, str] = CSV_UPLOAD
) -> tuple[float, float, float, dict]:
    """One upload (`POST /ingest/csv` unless kind, (endpoint, file name, content type), says otherwise) through a
    fresh server of this checkout (or of the one at root) (so VmHWM is this upload's peak): (seconds, peak RSS MB,
    idle RSS MB, report)."""
    endpoint, filename, content_type = kind
    env = {**SERVER_ENV, "INGEST_COPY_PATH": str(copy_path).lower()}
    server = start_server(url, env=env, root=root or ROOT)
    try:
        base = server.base_url
        slug = f"bench-{secrets.token_hex(4)}"
        token = httpx.post(f"{base}/auth/dev-login", json={"email": "bench@example.com", "org_slug": slug}).json()[
            "access_token"
        ]
        idle = rss_mb(server.proc.pid, "VmHWM")
        started = time.perf_counter()
        with csv_path.open("rb") as fh:
            response = httpx.post(
                f"{base}{endpoint}",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (filename, fh, content_type)},
                timeout=3600,
            )
        seconds = time.perf_counter() - started
        peak = rss_mb(server.proc.pid, "VmHWM")
    finally:
        stop_server(server)
    report = response.json()
    if response.status_code != 201:
        raise SystemExit(f"upload failed: {response.status_code} {str(report)[:500]}")
    return seconds, peak, idle, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rss-rows", type=int, default=4_000_000, help="a second, larger file (COPY path): 0 skips")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--paths",
        default="copy,python",
        help="copy (INGEST_COPY_PATH=true), python (=false), baseline (the COPY path of --baseline-root's checkout)",
    )
    parser.add_argument("--baseline-root", help="another checkout (e.g. a `git archive` of an older commit)")
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_ingest")
    args = parser.parse_args()
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    if "baseline" in paths and not args.baseline_root:
        parser.error("--paths baseline needs --baseline-root")

    fresh_database(args.database_url)

    copies: list[float] = []
    results: dict[str, list[tuple[float, float, float]]] = {path: [] for path in paths}
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "vendas.csv"
        t0 = time.perf_counter()
        write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 2**20
        print(f"generated {args.rows:,} rows ({size_mb:.1f} MB, cp1252, ';') in {time.perf_counter() - t0:.1f} s")
        report: dict = {}
        for run in range(args.repeat):
            copy_s = psql_copy(args.database_url, csv_path)
            copies.append(copy_s)
            line = f"run {run + 1}: \\copy {copy_s:.2f} s"
            for path in paths:
                root = args.baseline_root if path == "baseline" else None
                seconds, peak, idle, report = upload(args.database_url, csv_path, path != "python", root)
                if report["rows_loaded"] != args.rows:
                    raise SystemExit(f"loaded {report['rows_loaded']} rows, expected {args.rows}")
                vacuum_s = vacuum_analyze(args.database_url)
                results[path].append((seconds, peak, idle))
                line += f"; {path} {seconds:.2f} s ({seconds / copy_s:.1f}x), peak RSS {peak:.0f} MB"
                line += f" (VACUUM (ANALYZE) after: {vacuum_s:.1f} s)"
            print(line, flush=True)
        big: tuple[float, float, float] | None = None
        if args.rss_rows:
            write_csv(csv_path, args.rss_rows)
            big_copy = psql_copy(args.database_url, csv_path)
            big = upload(args.database_url, csv_path, True)[:3]
            vacuum_analyze(args.database_url)
            print(
                f"{args.rss_rows:,} rows: \\copy {big_copy:.2f} s; copy path {big[0]:.2f} s, peak RSS {big[1]:.0f} MB"
            )

    copy_med = statistics.median(copies)
    print()
    print(f"medians of {args.repeat} runs ({args.rows:,} rows), each run's uploads right after its own \\copy:")
    print()
    print(
        "| path | seconds (median) | rows/s | time / \\copy (median of per-run ratios) "
        "| rows/s vs \\copy | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| `psql \\copy` into a text table (baseline) | {copy_med:.2f} | {args.rows / copy_med:,.0f} "
        "| 1.0 | 1.00 | - |"
    )
    for path in paths:
        runs = results[path]
        seconds = statistics.median(r[0] for r in runs)
        ratio = statistics.median(r[0] / c for r, c in zip(runs, copies, strict=True))
        peak = statistics.median(r[1] for r in runs)
        print(
            f"| `POST /ingest/csv`, {path} path | {seconds:.2f} | {args.rows / seconds:,.0f} | {ratio:.1f}x "
            f"| {1 / ratio:.2f} | {peak:.0f} |"
        )
    if big is not None:
        peak_1m = statistics.median(r[1] for r in results.get("copy", [])) if "copy" in results else float("nan")
        print()
        print(f"peak RSS, copy path: {peak_1m:.0f} MB at {args.rows:,} rows, {big[1]:.0f} MB at {args.rss_rows:,}")
    print(f"detected: {report.get('detected')}")


if __name__ == "__main__":
    main()
