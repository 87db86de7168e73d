"""Requests/s of the API with 1 and 2 uvicorn workers on this machine (docs/SCALING.md), measured with wrk:

    .venv/bin/python bench/workers.py [--repetitions 3] [--seconds 10] [--connections 16] [--database-url ...]

For each repetition and each worker count (interleaved, so a noisy neighbour hits both alike) a fresh
`python -m app.serve --workers N` on 127.0.0.1 against Postgres answers, in turn, `wrk -t2 -c16 -d10s` on:
- `GET /health` (no database),
- `GET /indicators/valor-mes-a-mes` for a year with a Bearer token, result cache on (the default, per process),
- the same with the result cache off (`RESULT_CACHE_MAX_MB=0`: the rollups are read on every request, by a second
  server started for it).
Each wrk run is bounded in time (its own -d plus a margin, then killed). The figures printed are the medians over the
repetitions with their min..max; the last block is Markdown for docs/SCALING.md.

The database (--database-url) is created when missing, with a comment marking it as this script's, and holds one org
whose 20,000-row CSV is uploaded through the API; it is recreated only when it carries that comment.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import ensure_database, start_server, stop_server, wrk  # noqa: E402 after the sys.path line

MARKER = "painel bench data set (bench/workers.py)"
ORG_SLUG = "bench-workers"
EMAIL = "bench-workers@example.com"
YEAR = "from=2025-01-01&to=2025-12-31"
INDICATOR = f"/indicators/valor-mes-a-mes?{YEAR}"
UFS = ["SP", "RJ", "MG", "BA", "PR", "RS", "PE", "CE", "SC", "GO"]
CATEGORIES = ["Alimentos", "Bebidas", "Eletrônicos", "Vestuário", "Móveis", "Livros"]


def log(msg: str) -> None:
    print(msg, flush=True)


def prepare_database(url: str, recreate: bool) -> bool:
    """Create (or, if it is this script's, recreate) the database and migrate it; True when it is new."""
    created = ensure_database(url, MARKER, recreate=recreate)
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    return created


def csv_rows(n: int, seed: int = 13) -> bytes:
    """n sales rows over 2025, in the Brazilian format the reader expects."""
    rng = random.Random(seed)
    lines = ["Data;Valor;UF;Categoria"]
    for _ in range(n):
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
        cents = rng.randrange(100, 500_000)
        value = f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
        lines.append(f"{day:%d/%m/%Y};{value};{rng.choice(UFS)};{rng.choice(CATEGORIES)}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def sign_in_and_load(base: str, load: bool, rows: int) -> str:
    """A Bearer token of the org's Owner (dev sign-in creates both), after uploading its data when load is set."""
    with httpx.Client(base_url=base, timeout=120) as client:
        r = client.post("/auth/dev-login", json={"email": EMAIL, "org_slug": ORG_SLUG})
        r.raise_for_status()
        token = r.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        if load:
            files = {"file": ("vendas.csv", csv_rows(rows))}
            r = client.post("/ingest/csv", headers=auth, files=files)
            if r.status_code != 201 or r.json().get("rows_loaded") != rows:
                raise SystemExit(f"upload failed: {r.status_code} {r.text[:300]}")
        r = client.get(INDICATOR, headers=auth)
        if r.status_code != 200:
            raise SystemExit(f"unexpected answer {r.status_code}: {r.text[:300]}")
    return token


def measure(url: str, env: dict[str, str], workers: int, targets: list[tuple[str, str, bool]], token: str, args):
    """Start a server with this many workers, warm it up, and run wrk once on each target."""
    server = start_server(url, env=env, workers=workers, timeout=180)  # slow to start on a busy machine
    results: dict[str, dict[str, float]] = {}
    try:
        for name, path, authed in targets:
            headers = {"Authorization": f"Bearer {token}"} if authed else {}
            wrk(server.base_url + path, 2, args.connections, args.threads, headers)  # warm-up: every worker, cache
            results[name] = wrk(server.base_url + path, args.seconds, args.connections, args.threads, headers)
            r = results[name]
            load = os.getloadavg()[0]
            log(
                f"  {workers} worker(s) {name}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms,"
                f" errors {r['errors']:.0f}, load {load:.1f}"
            )
    finally:
        stop_server(server)
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_workers")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the org's CSV")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--recreate", action="store_true", help="drop and reload this script's database")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    env = {
        "APP_ENV": "development",
        "DEV_LOGIN_ENABLED": "true",
        "SCHEDULER_ENABLED": "false",
        "SEED_DEMO": "false",
        "JWT_SECRET": secrets.token_urlsafe(36),
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    os.environ.pop("REDIS_URL", None)  # per-process rate limits and cache: what one machine without Redis runs
    started = time.monotonic()
    new = prepare_database(args.database_url, args.recreate)
    server = start_server(args.database_url, env=env, timeout=180)
    try:
        token = sign_in_and_load(server.base_url, new, args.rows)
    finally:
        stop_server(server)
    log(f"database {'loaded' if new else 'reused'}; {args.repetitions} repetitions of {args.seconds} s per figure")

    cached = [("GET /health", "/health", False), ("GET indicator (cache on)", INDICATOR, True)]
    uncached = [("GET indicator (cache off)", INDICATOR, True)]
    runs: dict[tuple[int, str], list[dict[str, float]]] = {}
    loads: list[float] = []
    for rep in range(args.repetitions):
        order = args.workers if rep % 2 == 0 else list(reversed(args.workers))
        for workers in order:
            log(f"repetition {rep + 1}, {workers} worker(s)")
            loads.append(os.getloadavg()[0])
            for name, r in {
                **measure(args.database_url, env, workers, cached, token, args),
                **measure(args.database_url, {**env, "RESULT_CACHE_MAX_MB": "0"}, workers, uncached, token, args),
            }.items():
                runs.setdefault((workers, name), []).append(r)

    names = [name for name, _, _ in cached + uncached]
    lines = [
        "| endpoint | workers | req/s (median) | min..max | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        for workers in args.workers:
            rs = runs[(workers, name)]
            rps = [r["rps"] for r in rs]
            lines.append(
                f"| {name} | {workers} | {statistics.median(rps):,.0f} | {min(rps):,.0f}..{max(rps):,.0f} | "
                f"{statistics.median(r['p50'] for r in rs):.1f} | {statistics.median(r['p99'] for r in rs):.1f} | "
                f"{sum(r['errors'] for r in rs):.0f} |"
            )
    if len(args.workers) == 2:
        one, two = args.workers
        lines += ["", f"| endpoint | {two} workers / {one} |", "|---|---:|"]
        for name in names:
            ratio = statistics.median(r["rps"] for r in runs[(two, name)]) / statistics.median(
                r["rps"] for r in runs[(one, name)]
            )
            lines.append(f"| {name} | {ratio:.2f}x |")
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln),
        "?",
    )
    engine = create_engine(args.database_url)
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    wrk_out = subprocess.run(["wrk", "-v"], check=False, capture_output=True, text=True)
    wrk_version = (wrk_out.stdout + wrk_out.stderr + "wrk").splitlines()[0].strip()
    lines += [
        "",
        f"Machine: {os.cpu_count()} CPUs ({cpu}); PostgreSQL {version}; wrk, API and database on one host; "
        f"load average at the start of each server run {min(loads):.1f}..{max(loads):.1f} (median "
        f"{statistics.median(loads):.1f}). `{wrk_version}`, `wrk -t{args.threads} -c{args.connections} "
        f"-d{args.seconds}s --latency`, {args.repetitions} repetitions, whole run {time.monotonic() - started:.0f} s.",
    ]
    print("\n" + "=" * 100 + "\n" + "\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
