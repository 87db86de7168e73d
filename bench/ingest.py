"""Ingestion benchmark: an N-row Brazilian CSV through the real HTTP endpoint into Postgres, side by side
with `psql \\copy` of the same file into a plain table, in the same run.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--database-url postgresql+psycopg2://...]

Prints rows/s for both, their ratio, and the API server's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from _common import rss_mb, start_server, stop_server
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
    "MAX_UPLOAD_ROWS": "20000000",
    "DEV_LOGIN_ENABLED": "true",
}
UFS = ["SP", "RJ", "MG", "BA", "RS", "PR", "PE", "CE", "DF", "GO", "SC", "AM", "PA", "ES"]
CATEGORIES = ["Eletrônicos", "Vestuário", "Alimentos", "Móveis", "Higiene e Beleza", "Livros"]


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


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_ingest")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from alembic import command
    from app.services.health import alembic_config

    ensure_database(args.database_url)
    cfg = alembic_config(args.database_url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "vendas.csv"
        t0 = time.perf_counter()
        write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 2**20
        print(f"generated {args.rows:,} rows ({size_mb:.1f} MB, cp1252, ';') in {time.perf_counter() - t0:.1f} s")

        copy_s = psql_copy(args.database_url, csv_path)

        server = start_server(args.database_url, env=SERVER_ENV)
        try:
            base = server.base_url
            slug = f"bench-{secrets.token_hex(4)}"
            token = httpx.post(f"{base}/auth/dev-login", json={"email": "bench@example.com", "org_slug": slug}).json()[
                "access_token"
            ]
            baseline_rss = rss_mb(server.proc.pid, "VmHWM")
            started = time.perf_counter()
            with csv_path.open("rb") as fh:
                response = httpx.post(
                    f"{base}/ingest/csv",
                    headers={"Authorization": f"Bearer {token}"},
                    files={"file": ("vendas.csv", fh, "text/csv")},
                    timeout=1800,
                )
            api_s = time.perf_counter() - started
            rss = rss_mb(server.proc.pid, "VmHWM")
        finally:
            stop_server(server)
        report = response.json()
        if response.status_code != 201 or report["rows_loaded"] != args.rows:
            raise SystemExit(f"upload failed: {response.status_code} {str(report)[:500]}")

    ratio = api_s / copy_s
    print()
    print("| path | rows | seconds | rows/s |")
    print("|---|---:|---:|---:|")
    print(
        f"| `psql \\copy` into a plain text table (baseline) | {args.rows:,} | {copy_s:.2f} "
        f"| {args.rows / copy_s:,.0f} |"
    )
    print(f"| `POST /ingest/csv` (parse, stage, curate) | {args.rows:,} | {api_s:.2f} | {args.rows / api_s:,.0f} |")
    print()
    print(f"endpoint / \\copy time ratio: {ratio:.2f}x (target <= 3x)")
    print(f"API server peak RSS: {rss:.0f} MB (idle after start: {baseline_rss:.0f} MB; target < 400 MB)")
    print(f"detected: {report['detected']}")


if __name__ == "__main__":
    main()
