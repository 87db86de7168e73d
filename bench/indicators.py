"""Ready-made indicators at scale: N facts over M orgs in Postgres, database time per indicator (EXPLAIN ANALYZE
of the exact SQL the service issues) and HTTP latency of /indicators/valor-mes-a-mes against /health.

    .venv/bin/python bench/indicators.py [--facts 10000000] [--orgs 1000] [--concurrency 16] [--requests 2000]

The data set is loaded server-side (INSERT ... SELECT generate_series) into --database-url: created when missing,
reused on a re-run when its row counts and schema match, else recreated (only a database this script created).
The EXPLAIN plans go to bench/results/explain.txt; the last block printed is a Markdown summary for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, event, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import server_rss_mb, start_server, stop_server  # noqa: E402 after the sys.path line

RESULTS = ROOT / "bench" / "results"
MARKER = "painel bench data set (bench/indicators.py)"
INDICATORS = ["valor-mes-a-mes", "mapa-por-uf", "kpis", "top-categorias", "acumulado-ano"]
CATEGORIES = ["Alimentos", "Bebidas", "Eletrônicos", "Vestuário", "Móveis", "Higiene e Beleza", "Livros", "Serviços"]
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
TARGET_MS = 20.0
LOAD_CHUNK_ORGS = 50


def log(msg: str) -> None:
    print(msg, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] if ordered else float("nan")


# ---------------------------------------------------------------- database and data set


def _admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def ensure_database(url: str, recreate: bool = False) -> bool:
    """Create the database when missing, commented with MARKER; True if created.

    recreate=True drops it first: the caller asks that only of a database carrying MARKER (one this script made)."""
    name, admin = make_url(url).database, _admin(url)
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if exists and recreate:
                conn.execute(text(f'DROP DATABASE "{name}"'))
            elif exists:
                return False
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{MARKER}'"))
            return True
    finally:
        admin.dispose()


def migrate(url: str) -> None:
    from alembic import command
    from app.services.health import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def schema_drift(engine) -> list:
    """Differences between the database and the models (migrations edited in place leave an old schema behind)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.models import Base

    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def prepare_database(url: str, n_facts: int, n_orgs: int, reload: bool):
    """A migrated database holding the data set: (engine, reused). Recreates only a database this script made."""
    created = ensure_database(url)
    migrate(url)
    engine = create_engine(url, pool_size=4)
    with engine.connect() as conn:
        facts = conn.execute(text("SELECT count(*) FROM facts")).scalar()
        orgs = conn.execute(text("SELECT count(*) FROM organizations")).scalar()
        bench_orgs = conn.execute(text("SELECT count(*) FROM organizations WHERE slug LIKE 'bench-%'")).scalar()
        marked = (
            conn.execute(
                text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")
            ).scalar()
            == MARKER
        )
    drift = schema_drift(engine)
    log(
        f"database {engine.url.database}: {'created' if created else 'exists'}, migrated to head"
        + (f"; its schema differs from the models ({len(drift)} differences)" if drift else "")
    )
    if facts == n_facts and orgs == bench_orgs == n_orgs and not drift and not reload:
        return engine, True
    if facts or orgs or drift:
        if not marked:
            raise SystemExit(
                f"{engine.url.database} holds other data ({orgs} orgs, {facts:,} facts) or another "
                "schema, and was not created by this script; choose another --database-url"
            )
        log(f"recreating {engine.url.database} (it held {orgs} orgs, {facts:,} facts)")
        engine.dispose()
        ensure_database(url, recreate=True)
        migrate(url)
        engine = create_engine(url, pool_size=4)
    return engine, False


def load_dataset(engine, n_facts: int, n_orgs: int) -> float:
    """Load the data set into the empty tables, server-side; the seconds it took."""
    from app.services.ingest.values import UF_CODES

    started = time.perf_counter()
    per_org, extra = divmod(n_facts, n_orgs)
    width = max(4, len(str(n_orgs)))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organizations (slug, name, data_version, data_updated_at, created_at, updated_at) "
                f"SELECT 'bench-' || lpad(g::text, {width}, '0'), 'Bench ' || g, 1, now(), now(), now() "
                "FROM generate_series(1, :n) g ORDER BY g"
            ),
            {"n": n_orgs},
        )
        conn.execute(
            text(
                "INSERT INTO users (email, created_at, updated_at) "
                "SELECT 'owner@' || slug || '.example.com', now(), now() FROM organizations ORDER BY id"
            )
        )
        conn.execute(
            text(
                "INSERT INTO memberships (user_id, organization_id, role, created_at, updated_at) "
                "SELECT u.id, o.id, 'Owner', now(), now() FROM organizations o "
                "JOIN users u ON u.email = 'owner@' || o.slug || '.example.com' ORDER BY o.id"
            )
        )
        conn.execute(
            text(
                "INSERT INTO data_sources (organization_id, name, type, config_json, is_recurring, created_by, "
                "created_at, updated_at) SELECT m.organization_id, 'vendas.csv', 'csv_upload', '{}'::jsonb, false, "
                "m.user_id, now(), now() FROM memberships m ORDER BY m.organization_id"
            )
        )
        conn.execute(
            text(
                "INSERT INTO ingestion_batches (organization_id, data_source_id, status, file_name, rows_received, "
                "rows_loaded, rows_rejected, details, started_at, finished_at, created_by) "
                "SELECT ds.organization_id, ds.id, 'loaded', 'vendas.csv', n, n, 0, '{}'::jsonb, now(), now(), "
                "ds.created_by FROM (SELECT ds.*, :per + CASE "
                "WHEN row_number() OVER (ORDER BY organization_id) <= :extra THEN 1 ELSE 0 END AS n "
                "FROM data_sources ds) ds ORDER BY ds.organization_id"
            ),
            {"per": per_org, "extra": extra},
        )
        org_ids = conn.execute(text("SELECT id FROM organizations ORDER BY id")).scalars().all()
    chunks = [org_ids[i : i + LOAD_CHUNK_ORGS] for i in range(0, len(org_ids), LOAD_CHUNK_ORGS)]
    ufs = "ARRAY[" + ",".join(f"'{uf}'" for uf in UF_CODES) + "]"
    cats = "ARRAY[" + ",".join(f"'{c}'" for c in CATEGORIES) + "]"
    # One org's facts are inserted together (as one ingestion batch would be); dates random over 2024-2025.
    insert = text(
        "INSERT INTO facts (organization_id, data_source_id, batch_id, date, value, uf, category) "
        "SELECT b.organization_id, b.data_source_id, b.id, DATE '2024-01-01' + floor(random() * 731)::int, "
        f"round((random() * 2000)::numeric, 2), ({ufs})[1 + floor(random() * {len(UF_CODES)})::int], "
        f"({cats})[1 + floor(random() * {len(CATEGORIES)})::int] "
        "FROM ingestion_batches b CROSS JOIN LATERAL generate_series(1, b.rows_loaded) g "
        "WHERE b.organization_id BETWEEN :lo AND :hi"
    )
    done, lock = [0], threading.Lock()

    def run_chunks(worker: int) -> None:
        with engine.connect() as conn:
            # Session-only: a generated data set needs no durable commit per chunk; nothing outlives the connection.
            conn.execute(text("SET synchronous_commit = off"))
            conn.execute(text("SELECT setseed(:s)"), {"s": 0.1 + worker / 10})
            conn.commit()
            for chunk in chunks[worker::2]:
                conn.execute(insert, {"lo": chunk[0], "hi": chunk[-1]})
                conn.commit()
                with lock:
                    done[0] += len(chunk)
                    log(f"  loaded facts of {done[0]}/{len(org_ids)} orgs ({time.perf_counter() - started:.0f} s)")

    with ThreadPoolExecutor(2) as pool:  # two server backends: the load uses both cores
        list(pool.map(run_chunks, range(2)))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # The data set is ours now: a later run with other counts may recreate the database.
        conn.execute(text(f"COMMENT ON DATABASE \"{engine.url.database}\" IS '{MARKER}'"))
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def vacuum(engine) -> float:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) facts"))
    return time.perf_counter() - started


# ---------------------------------------------------------------- database time per indicator


class Recorder:
    """Records the statements and parameters an engine sends (before_cursor_execute)."""

    def __init__(self, engine) -> None:
        self.active, self.statements = False, []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active and "set_config('app.current_org'" not in statement:
            self.statements.append((statement, parameters))

    @contextmanager
    def capture(self):
        self.active, self.statements = True, []
        try:
            yield self.statements
        finally:
            self.active = False


def captured_sql(engine, recorder: Recorder, org_id: int, user_id: int) -> dict[str, list[str]]:
    """The literal SQL of each indicator for one org's year, plus what every indicator request runs around it."""
    from sqlalchemy.orm import Session

    from app.core.db import bind_org
    from app.core.security import TokenClaims
    from app.models import Role
    from app.services import auth as auth_service
    from app.services import freshness
    from app.services.indicators.catalog import CATALOG, extra_options
    from app.services.indicators.ranges import Filters, make_range
    from app.services.tenancy import Tenant

    rng, filters = make_range(*YEAR), Filters()
    out: dict[str, list] = {}
    with Session(engine) as session:
        bind_org(session, org_id)  # as a request does (row-level security)
        tenant = Tenant(org_id, None, Role.OWNER)
        for key in INDICATORS:
            with recorder.capture() as stmts:
                CATALOG[key].compute(session, tenant, rng, filters, **extra_options(key, {}))
            out[key] = list(stmts)
        with recorder.capture() as stmts:  # the route's other queries: membership, ETag version and as_of
            auth_service.resolve_tenant(session, TokenClaims(user_id=user_id, org_id=org_id))
            freshness.data_etag(session, tenant, "indicator", "valor-mes-a-mes", {}, {})
        out["(request overhead)"] = list(stmts)
        session.rollback()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        return {k: [cur.mogrify(s, p).decode() for s, p in v] for k, v in out.items()}
    finally:
        raw.close()


def explain(cur, sql: str) -> dict:
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
    plan = "\n".join(row[0] for row in cur.fetchall())
    started = time.perf_counter()
    cur.execute(sql)
    cur.fetchall()
    wall = (time.perf_counter() - started) * 1000

    def num(pattern):
        return float(m.group(1)) if (m := re.search(pattern, plan)) else 0.0

    return {
        "plan": plan,
        "exec": num(r"Execution Time: ([\d.]+) ms"),
        "planning": num(r"Planning Time: ([\d.]+) ms"),
        "heap_fetches": sum(int(x) for x in re.findall(r"Heap Fetches: (\d+)", plan)),
        "wall": wall,
        "index_only": "Index Only Scan" in plan,
    }


def measure_db_time(engine, sql_by_org: dict[int, dict[str, list[str]]], reps: int) -> dict[str, dict]:
    """Per indicator: Execution Time summed over its statements, for every sampled org x repetition."""
    stats: dict[str, dict] = {}
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True
        cur = raw.cursor()
        for org_id, by_key in sql_by_org.items():
            for key, sqls in by_key.items():
                s = stats.setdefault(
                    key,
                    {
                        "exec": [],
                        "total": [],
                        "wall": [],
                        "heap_fetches": 0,
                        "statements": len(sqls),
                        "index_only": True,
                        "plans": {},
                    },
                )
                for rep in range(reps):
                    results = [explain(cur, sql) for sql in sqls]
                    s["exec"].append(sum(r["exec"] for r in results))
                    s["total"].append(sum(r["exec"] + r["planning"] for r in results))
                    s["wall"].append(sum(r["wall"] for r in results))
                    if rep == reps - 1:
                        s["heap_fetches"] = max(s["heap_fetches"], sum(r["heap_fetches"] for r in results))
                        s["index_only"] &= key.startswith("(") or all(r["index_only"] for r in results)
                        s["plans"][org_id] = [(sql, r["plan"]) for sql, r in zip(sqls, results, strict=True)]
    finally:
        raw.driver_connection.autocommit = False
        raw.close()
    return stats


def db_table(stats: dict[str, dict]) -> list[str]:
    lines = [
        (
            "| indicator | statements | exec p50 (ms) | exec max (ms) | plan+exec p50 (ms) | client round trip "
            "p50 (ms) | index-only | heap fetches | < 20 ms |"
        ),
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for key, s in stats.items():
        ok = "yes" if max(s["exec"]) < TARGET_MS else "**no**"
        lines.append(
            f"| {key} | {s['statements']} | {pct(s['exec'], 0.5):.2f} | {max(s['exec']):.2f} | "
            f"{pct(s['total'], 0.5):.2f} | {pct(s['wall'], 0.5):.2f} | "
            f"{'-' if key.startswith('(') else ('yes' if s['index_only'] else 'no')} | "
            f"{s['heap_fetches']:,} | {'-' if key.startswith('(') else ok} |"
        )
    return lines


# ---------------------------------------------------------------- HTTP load


def drive(base: str, make_request, n: int, concurrency: int, max_seconds: float) -> dict:
    """n GET requests from `concurrency` threads (one keep-alive client each), stopping at max_seconds."""
    counter, latencies, errors, lock = itertools.count(), [], [0], threading.Lock()
    deadline = time.monotonic() + max_seconds

    def worker(_: int) -> None:
        local, failed = [], 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline and (i := next(counter)) < n:
                path, headers = make_request(i)
                started = time.perf_counter()
                try:
                    ok = client.get(path, headers=headers).status_code == 200
                except httpx.HTTPError:
                    ok = False
                local.append((time.perf_counter() - started) * 1000)
                failed += not ok
        with lock:
            latencies.extend(local)
            errors[0] += failed

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "n": len(latencies),
        "errors": errors[0],
        "p50": pct(latencies, 0.5),
        "p99": pct(latencies, 0.99),
        "rps": len(latencies) / elapsed,
        "seconds": elapsed,
        "clients": concurrency,
    }


def http_bench(url: str, env: dict[str, str], tokens: list[str], args) -> tuple[dict[str, dict], dict]:
    indicator_path = f"/indicators/valor-mes-a-mes?from={YEAR[0]}&to={YEAR[1]}"
    auth = [{"Authorization": f"Bearer {t}"} for t in tokens]

    def health(i):
        return ("/health", None)

    def indicator(i):
        return (indicator_path, auth[i % len(auth)])  # rotates orgs; no If-None-Match

    server = start_server(url, env=env, workers=args.workers)
    try:
        base = server.base_url
        with httpx.Client(base_url=base, timeout=30) as client:  # check the answers once per org
            for h in auth:
                r = client.get(indicator_path, headers=h)
                if r.status_code != 200 or len(r.json()["items"]) != 12:
                    raise SystemExit(f"unexpected answer {r.status_code}: {r.text[:300]}")
        log(f"warm-up against {base} ({args.workers} workers)")
        drive(base, health, 500, args.concurrency, 30)
        drive(base, indicator, 300, args.concurrency, 30)
        results = {
            "GET /health, 1 client": drive(base, health, 200, 1, 30),
            "GET /indicators/valor-mes-a-mes, 1 client": drive(base, indicator, 200, 1, 60),
        }
        if results["GET /health, 1 client"]["p50"] > 20:
            log(
                "WARNING: /health takes > 20 ms with one client: Nagle's algorithm is probably on (uvicorn "
                "--workers N binds a socket asyncio does not mark TCP_NODELAY, Kludex/uvicorn#3149)"
            )
        for name, fn in (("GET /health", health), ("GET /indicators/valor-mes-a-mes", indicator)):
            results[name] = drive(base, fn, args.requests, args.concurrency, args.max_seconds)
            log(f"  {name}: {results[name]['rps']:.0f} req/s")
        # Both at once, half the clients each: does the indicator load slow the liveness probe?
        half = max(1, args.concurrency // 2)
        with ThreadPoolExecutor(2) as pool:
            mixed_h = pool.submit(drive, base, health, args.requests, half, args.max_seconds)
            mixed_i = pool.submit(drive, base, indicator, args.requests, half, args.max_seconds)
            results["GET /health (mixed)"], results["GET /indicators/valor-mes-a-mes (mixed)"] = (
                mixed_h.result(),
                mixed_i.result(),
            )
        rss = server_rss_mb(server, "VmHWM")
    finally:
        stop_server(server)
    return results, rss


def http_table(results: dict[str, dict]) -> list[str]:
    lines = [
        "| endpoint | requests | clients | p50 (ms) | p99 (ms) | req/s | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['n']:,} | {r['clients']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps']:,.0f} | "
            f"{r['errors']} |"
        )
    for suffix in (", 1 client", ""):
        h, i = results["GET /health" + suffix], results["GET /indicators/valor-mes-a-mes" + suffix]
        clients = h["clients"]
        lines.append(
            f"| **ratio indicator / health**, {clients} client{'s' if clients > 1 else ''} | | {clients} | "
            f"{i['p50'] / h['p50']:.1f}x | {i['p99'] / h['p99']:.1f}x | {i['rps'] / h['rps']:.2f}x | |"
        )
    return lines


# ---------------------------------------------------------------- main


def machine(engine) -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "?",
    )
    mem_kb = int(
        next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    )
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
        sb = conn.execute(text("SHOW shared_buffers")).scalar()
        jit = conn.execute(text("SHOW jit")).scalar()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 2**20:.1f} GiB RAM; PostgreSQL {version} "
        f"(shared_buffers {sb}, jit {jit}); client, API and database on the same machine"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facts", type=int, default=10_000_000)
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--repetitions", type=int, default=20, help="EXPLAIN ANALYZE runs per indicator and org")
    parser.add_argument("--sample-orgs", type=int, default=5, help="orgs whose database time is measured")
    parser.add_argument("--token-orgs", type=int, default=50, help="orgs whose tokens the HTTP load rotates")
    parser.add_argument("--max-seconds", type=float, default=120, help="upper bound of each HTTP phase")
    parser.add_argument("--reload", action="store_true", help="reload the data set even when its counts match")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL")
    if args.facts < args.orgs or args.orgs < 1:
        parser.error("--facts must be at least --orgs, and --orgs at least 1")
    return args


def write_explain(path: Path, args, org_id: int, stats: dict, fresh_plan: list) -> None:
    with path.open("w") as fh:
        fh.write(
            f"-- EXPLAIN (ANALYZE, BUFFERS), {args.facts:,} facts / {args.orgs:,} orgs, organization_id = "
            f"{org_id}, {YEAR[0]}..{YEAR[1]}, after VACUUM (ANALYZE)\n"
        )
        for key in INDICATORS:
            for sql, plan in stats[key]["plans"][org_id]:
                fh.write(f"\n-- {key}\n{sql};\n\n{plan}\n")
        for sql, plan in fresh_plan:
            fh.write(
                f"\n-- valor-mes-a-mes right after the load, before VACUUM (visibility map not set)\n{sql};\n\n{plan}\n"
            )


def main() -> None:
    args = parse_args()
    # The API server and the tokens minted here share these settings; set before any app import.
    env = {
        "DATABASE_URL": args.database_url,
        "APP_ENV": "development",
        "SCHEDULER_ENABLED": "false",
        "SEED_DEMO": "false",
        "JWT_SECRET": secrets.token_urlsafe(36),
        "SECRETS_KEY": Fernet.generate_key().decode(),
    }
    os.environ.update(env)
    from app.core.security import create_access_token

    run_started = time.perf_counter()
    engine, reused = prepare_database(args.database_url, args.facts, args.orgs, args.reload)
    load_s = 0.0 if reused else load_dataset(engine, args.facts, args.orgs)
    log(
        "reusing the already-loaded data set (row counts and schema match)"
        if reused
        else f"loaded {args.facts:,} facts over {args.orgs:,} orgs in {load_s:.1f} s (INSERT ... SELECT, ANALYZE)"
    )
    with engine.connect() as conn:
        owners = conn.execute(text("SELECT organization_id, user_id FROM memberships ORDER BY organization_id")).all()
        sizes = conn.execute(
            text(
                "SELECT pg_size_pretty(pg_table_size('facts')), pg_size_pretty(pg_indexes_size('facts')), "
                "pg_size_pretty(pg_relation_size('ix_facts_org_date'))"
            )
        ).one()
        year_rows = conn.execute(
            text("SELECT count(*) FROM facts WHERE organization_id = :o AND date BETWEEN :a AND :b"),
            {"o": owners[0][0], "a": YEAR[0], "b": YEAR[1]},
        ).scalar()

    recorder = Recorder(engine)
    step = max(1, (len(owners) - 1) // max(1, args.sample_orgs - 1))
    sample = owners[::step][: args.sample_orgs]
    sql_by_org = {org: captured_sql(engine, recorder, org, user) for org, user in sample}
    fresh_stats, fresh_plan = None, []
    if not reused:  # as right after ingestion: ANALYZEd, but the visibility map is not set until VACUUM
        log("database time before VACUUM (fresh load)")
        fresh_stats = measure_db_time(engine, sql_by_org, max(3, args.repetitions // 4))
        fresh_plan = fresh_stats["valor-mes-a-mes"]["plans"][sample[0][0]]
        log("\n".join(db_table(fresh_stats)))
        log(f"VACUUM (ANALYZE) facts: {vacuum(engine):.1f} s")
    log(f"database time: {len(sample)} orgs x {args.repetitions} repetitions, range {YEAR[0]}..{YEAR[1]}")
    stats = measure_db_time(engine, sql_by_org, args.repetitions)
    db_lines = db_table(stats)
    log("\n".join(db_lines))
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_explain(RESULTS / "explain.txt", args, sample[0][0], stats, fresh_plan)
    log(f"EXPLAIN plans written to {(RESULTS / 'explain.txt').relative_to(ROOT)}")

    every = owners[:: max(1, len(owners) // args.token_orgs)][: args.token_orgs]
    tokens = [create_access_token(user, org) for org, user in every]
    log(f"HTTP: {args.requests} requests per endpoint, {args.concurrency} clients, {len(tokens)} orgs' tokens")
    results, rss = http_bench(args.database_url, env, tokens, args)
    machine_line = machine(engine)
    engine.dispose()

    rss_mb = list(rss.values())
    summary = [
        "## Indicators at scale (`bench/indicators.py`)",
        "",
        f"Machine: {machine_line}.",
        "",
        (
            f"Data set: {args.facts:,} facts over {args.orgs:,} orgs ({args.facts // args.orgs:,} per org, dates over "
            f"2024-2025, so {year_rows:,} in one org's year); `facts` {sizes[0]} + indexes {sizes[1]} "
            f"(`ix_facts_org_date` {sizes[2]}); "
            + ("reused from an earlier run." if reused else f"loaded in {load_s:.0f} s with INSERT ... SELECT.")
        ),
        "",
        (
            f"Database time per indicator, one org's year ({YEAR[0]}..{YEAR[1]}): sum of EXPLAIN ANALYZE "
            f"`Execution Time` over the statements the service issues; {len(sample)} orgs x {args.repetitions} runs, "
            "after VACUUM (ANALYZE). The overhead row is what every indicator request also runs (membership, "
            "ETag data version and `as_of`)."
        ),
        "",
        *db_lines,
        "",
    ]
    if fresh_stats:
        summary += [
            "Same, right after the load (ANALYZE only, visibility map not yet set by VACUUM):",
            "",
            *db_table(fresh_stats),
            "",
        ]
    summary += [
        (
            f"HTTP, uvicorn with {args.workers} workers, {len(tokens)} orgs' tokens rotated, no `If-None-Match`; "
            "`mixed` rows ran at the same time, half the clients each:"
        ),
        "",
        *http_table(results),
        "",
    ]
    if results["GET /health, 1 client"]["p50"] > 20:
        summary += [
            (
                "Note: /health itself takes ~40 ms per keep-alive request here: `uvicorn --workers N` leaves "
                "Nagle's algorithm on (Kludex/uvicorn#3149), so these latencies measure the delayed ACK, "
                "not the app. Compare with `--workers 1`."
            ),
            "",
        ]
    summary += [
        (
            f"API server peak RSS (VmHWM): master {rss_mb[0]:.0f} MB; child processes "
            f"{', '.join(f'{v:.0f} MB' for v in rss_mb[1:]) or 'none'}."
        ),
        f"Whole run: {time.perf_counter() - run_started:.0f} s.",
    ]
    print("\n" + "=" * 100 + "\n" + "\n".join(summary), flush=True)


if __name__ == "__main__":
    main()
