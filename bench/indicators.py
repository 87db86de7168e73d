"""Ready-made indicators at scale, each figure with its baseline in the same run:

- database time of every indicator (EXPLAIN ANALYZE of the exact SQL the service issues, over the rollups) for one
  org-year, for orgs with 10,000, 100,000 and 5,000,000 facts in that year, against the same answers computed from
  `facts` (what the indicators read before);
- HTTP through the real server (`python -m app.serve`, 2 workers, 16 clients): an indicator's requests/s and p99
  against `/health`, and a 5-widget dashboard-data call against one indicator, with the result cache on (in process,
  and in Redis when it answers) and off.

    .venv/bin/python bench/indicators.py [--small-orgs 100] [--seconds 15] [--database-url ...]

The data set is loaded server-side (INSERT ... SELECT generate_series, then the app's own rollup builder) into
--database-url: created when missing, reused when its counts and schema match, else recreated (only a database this
script created). VACUUM (ANALYZE) runs after a load (autovacuum may be off). The last block printed is Markdown for
docs/PERFORMANCE.md; the plans go to bench/results/explain.txt.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import secrets
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, event, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import ensure_database, server_rss_mb, start_server, stop_server, wrk  # noqa: E402 after the sys.path line

RESULTS = ROOT / "bench" / "results"
MARKER = "painel bench data set (bench/indicators.py, rollups)"
INDICATORS = ["valor-mes-a-mes", "mapa-por-uf", "kpis", "top-categorias", "acumulado-ano", "serie-temporal"]
CATEGORIES = ["Alimentos", "Bebidas", "Eletrônicos", "Vestuário", "Móveis", "Higiene e Beleza", "Livros", "Serviços"]
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
PREVIOUS = (date(2024, 1, 1), date(2024, 12, 31))
TARGET_MS = 1.0
LOAD_CHUNK = 1_000_000


def log(msg: str) -> None:
    print(msg, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] if ordered else float("nan")


# ---------------------------------------------------------------- data set


def data_set(small_orgs: int) -> list[tuple[str, int, int]]:
    """(slug, facts in 2024, facts in 2025) per org: many small orgs, one with 100k facts a year, one with 5M."""
    orgs = [(f"bench-small-{n:04d}", 10_000, 10_000) for n in range(1, small_orgs + 1)]
    return [*orgs, ("bench-medium", 100_000, 100_000), ("bench-large", 1_000_000, 5_000_000)]


def migrate(url: str) -> None:
    from alembic import command
    from app.services.health import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def schema_drift(engine) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.models import Base

    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def prepare_database(url: str, orgs: list[tuple[str, int, int]], reload: bool):
    """A migrated database holding the data set: (engine, reused). Recreates only a database this script made."""
    created = ensure_database(url, MARKER)
    migrate(url)
    engine = create_engine(url, pool_size=4)
    want_facts = sum(a + b for _, a, b in orgs)
    with engine.connect() as conn:
        facts = conn.execute(text("SELECT count(*) FROM facts")).scalar()
        n_orgs = conn.execute(text("SELECT count(*) FROM organizations")).scalar()
        rollups = conn.execute(text("SELECT count(*) FROM monthly_rollups")).scalar()
        marked = (
            conn.execute(
                text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")
            ).scalar()
            == MARKER
        )
    drift = schema_drift(engine)
    log(f"database {engine.url.database}: {'created' if created else 'exists'}, migrated to head")
    if facts == want_facts and n_orgs == len(orgs) and rollups and not drift and not reload:
        return engine, True
    if facts or n_orgs or drift:
        if not marked:
            raise SystemExit(f"{engine.url.database} holds other data and was not created by this script")
        log(f"recreating {engine.url.database} (it held {n_orgs} orgs, {facts:,} facts)")
        engine.dispose()
        ensure_database(url, MARKER, recreate=True)
        migrate(url)
        engine = create_engine(url, pool_size=4)
    return engine, False


def load_dataset(engine, orgs: list[tuple[str, int, int]]) -> float:
    """Orgs, owners, one source and batch each, their facts (random day, UF, category), then the rollups built by
    the app's own rollup builder; the seconds it took."""
    from app.core.db import session_scope
    from app.models import Role
    from app.services import rollups
    from app.services.ingest.values import UF_CODES
    from app.services.tenancy import Tenant

    started = time.perf_counter()
    with engine.begin() as conn:
        for slug, before, during in orgs:
            org = conn.execute(
                text(
                    "INSERT INTO organizations (slug, name, data_version, data_updated_at, created_at, updated_at) "
                    "VALUES (:s, :s, 1, now(), now(), now()) RETURNING id"
                ),
                {"s": slug},
            ).scalar()
            user = conn.execute(
                text("INSERT INTO users (email, created_at, updated_at) VALUES (:e, now(), now()) RETURNING id"),
                {"e": f"owner@{slug}.example.com"},
            ).scalar()
            conn.execute(
                text(
                    "INSERT INTO memberships (user_id, organization_id, role, created_at, updated_at) "
                    "VALUES (:u, :o, 'Owner', now(), now())"
                ),
                {"u": user, "o": org},
            )
            source = conn.execute(
                text(
                    "INSERT INTO data_sources (organization_id, name, type, config_json, is_recurring, created_by, "
                    "created_at, updated_at) VALUES (:o, 'vendas.csv', 'csv_upload', '{}'::jsonb, false, :u, now(), "
                    "now()) RETURNING id"
                ),
                {"o": org, "u": user},
            ).scalar()
            conn.execute(
                text(
                    "INSERT INTO ingestion_batches (organization_id, data_source_id, status, file_name, "
                    "rows_received, rows_loaded, rows_rejected, details, started_at, finished_at, created_by) "
                    "VALUES (:o, :d, 'loaded', 'vendas.csv', :n, :n, 0, '{}'::jsonb, now(), now(), :u)"
                ),
                {"o": org, "d": source, "n": before + during, "u": user},
            )
    ufs = "ARRAY[" + ",".join(f"'{uf}'" for uf in UF_CODES) + "]"
    cats = "ARRAY[" + ",".join(f"'{c}'" for c in CATEGORIES) + "]"
    insert = text(
        "INSERT INTO facts (organization_id, data_source_id, batch_id, date, value, uf, category) "
        "SELECT b.organization_id, b.data_source_id, b.id, CAST(:first AS date) + floor(random() * :days)::int, "
        f"round((random() * 2000)::numeric, 2), ({ufs})[1 + floor(random() * {len(UF_CODES)})::int], "
        f"({cats})[1 + floor(random() * {len(CATEGORIES)})::int] "
        "FROM ingestion_batches b CROSS JOIN generate_series(1, :n) g WHERE b.organization_id = :o"
    )
    with engine.connect() as conn:
        conn.execute(text("SET synchronous_commit = off"))
        conn.execute(text("SELECT setseed(0.42)"))
        ids = dict(conn.execute(text("SELECT slug, id FROM organizations")).all())
        for slug, before, during in orgs:
            for (first, last), count in ((PREVIOUS, before), (YEAR, during)):
                for offset in range(0, count, LOAD_CHUNK):
                    n = min(LOAD_CHUNK, count - offset)
                    days = (last - first).days + 1
                    conn.execute(insert, {"first": first, "days": days, "n": n, "o": ids[slug]})
                    conn.commit()
            if not slug.startswith("bench-small-") or slug.endswith("0"):
                log(f"  facts of {slug} ({time.perf_counter() - started:.0f} s)")
        sources = conn.execute(text("SELECT organization_id, id FROM data_sources")).all()
    for org, source in sources:
        with session_scope(org) as session:
            rollups.rebuild_source(session, Tenant(org, None, Role.OWNER), source)
    log(f"  rollups built ({time.perf_counter() - started:.0f} s)")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"COMMENT ON DATABASE \"{engine.url.database}\" IS '{MARKER}'"))
    return time.perf_counter() - started


def vacuum(engine) -> float:
    """VACUUM (ANALYZE) the tables the indicators read (this Postgres may run without autovacuum)."""
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = ("facts", "daily_rollups", "monthly_rollups", "monthly_category_rollups", "monthly_uf_rollups")
        for table in (*tables, "organizations", "memberships", "ingestion_batches"):
            conn.execute(text(f"VACUUM (ANALYZE) {table}"))
    return time.perf_counter() - started


# ---------------------------------------------------------------- database time per indicator


class Recorder:
    """Records the statements and parameters an engine sends (before_cursor_execute)."""

    def __init__(self, engine) -> None:
        self.active, self.statements = False, []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active and "set_config(" not in statement:
            self.statements.append((statement, parameters))

    @contextmanager
    def capture(self):
        self.active, self.statements = True, []
        try:
            yield self.statements
        finally:
            self.active = False


def facts_baseline(org_id: int) -> dict[str, list[str]]:
    """What each indicator ran over `facts` before the rollups (the SQL of the previous implementation)."""
    where = f"FROM facts WHERE organization_id = {org_id} AND date >= '{YEAR[0]}' AND date <= '{YEAR[1]}'"
    prev = f"FROM facts WHERE organization_id = {org_id} AND date >= '{PREVIOUS[0]}' AND date <= '{PREVIOUS[1]}'"
    monthly = (
        "SELECT CAST(EXTRACT(year FROM date) AS INTEGER), CAST(EXTRACT(month FROM date) AS INTEGER), sum(value) "
        f"{where} GROUP BY 1, 2"
    )
    summary = "SELECT coalesce(sum(value), 0), count(*), count(DISTINCT category) "
    return {
        "valor-mes-a-mes": [monthly],
        "mapa-por-uf": [f"SELECT uf, sum(value) {where} GROUP BY uf"],
        "kpis": [summary + where, summary + prev],
        "top-categorias": [
            f"SELECT category, sum(value) AS total {where} AND category IS NOT NULL GROUP BY category "
            "ORDER BY total DESC, category LIMIT 10",
            f"SELECT coalesce(sum(value), 0) {where}",
        ],
        "acumulado-ano": [monthly],
        "serie-temporal": [monthly],
    }


def captured_sql(engine, recorder: Recorder, org_id: int, user_id: int) -> dict[str, list[str]]:
    """The literal SQL of each indicator for one org's year, plus what every indicator request runs around it."""
    from sqlalchemy.orm import Session

    from app.core.db import bind_org
    from app.core.security import TokenClaims
    from app.models import Role
    from app.services import auth as auth_service
    from app.services import freshness
    from app.services.indicators import serving
    from app.services.indicators.ranges import Filters, make_range
    from app.services.tenancy import Tenant

    rng = make_range(*YEAR)
    out: dict[str, list] = {}
    session = Session(engine)
    try:
        bind_org(session, org_id)  # as a request does (row-level security)
        tenant = Tenant(org_id, user_id, Role.OWNER)
        state = freshness.state(session, tenant)
        for key in INDICATORS:
            with recorder.capture() as stmts:
                serving.compute_indicator(session, tenant, key, rng, Filters(), {}, state)
            out[key] = list(stmts)
        freshness.forget(session)
        with recorder.capture() as stmts:  # membership, data version, settings and as_of: one statement
            auth_service.resolve_tenant(session, TokenClaims(user_id=user_id, org_id=org_id))
        out["(request: membership + data state)"] = list(stmts)
        session.rollback()
    finally:
        session.close()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        return {k: [cur.mogrify(s, p).decode() for s, p in v] for k, v in out.items()}
    finally:
        raw.close()


def explain(cur, sql: str, timing: bool = True) -> dict:
    """EXPLAIN ANALYZE of one statement. timing=False: TIMING OFF, no clock reads per plan node and row (the
    instrumentation itself costs ~0.1-0.2 µs per row and node, a large share of a ~1 ms statement); the
    statement's Execution Time is still measured."""
    cur.execute(f"EXPLAIN (ANALYZE, BUFFERS{'' if timing else ', TIMING OFF'}) " + sql)
    plan = "\n".join(row[0] for row in cur.fetchall())

    def num(pattern):
        return float(m.group(1)) if (m := re.search(pattern, plan)) else 0.0

    return {
        "plan": plan,
        "exec": num(r"Execution Time: ([\d.]+) ms"),
        "planning": num(r"Planning Time: ([\d.]+) ms"),
        "heap_fetches": sum(int(x) for x in re.findall(r"Heap Fetches: (\d+)", plan)),
        "rows": sum(int(x) for x in re.findall(r"Index Only Scan.*?actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", plan)),
    }


def measure(engine, sqls: list[str], reps: int, org_id: int) -> dict:
    """Execution Time summed over the statements, reps times, as painel_app bound to the org (row-level security
    applies, as in a request)."""
    raw = engine.raw_connection()
    out: dict = {"exec": [], "total": [], "untimed": [], "untimed_total": [], "heap_fetches": 0, "rows": 0, "plans": []}
    try:
        cur = raw.cursor()
        cur.execute("SELECT set_config('app.current_org', %s, false)", (str(org_id),))
        cur.execute("SET ROLE painel_app")
        for rep in range(reps):
            untimed = [explain(cur, sql, timing=False) for sql in sqls]  # interleaved: the same conditions
            out["untimed"].append(sum(r["exec"] for r in untimed))
            out["untimed_total"].append(sum(r["exec"] + r["planning"] for r in untimed))
            results = [explain(cur, sql) for sql in sqls]
            out["exec"].append(sum(r["exec"] for r in results))
            out["total"].append(sum(r["exec"] + r["planning"] for r in results))
            if rep == reps - 1:
                out["heap_fetches"] = sum(r["heap_fetches"] for r in results)
                out["rows"] = sum(r["rows"] for r in results)
                out["plans"] = [(sql, r["plan"]) for sql, r in zip(sqls, results, strict=True)]
        cur.execute("RESET ROLE")
        raw.commit()
    finally:
        raw.close()
    return out


def db_time(
    engine, samples: dict[str, list[tuple[int, int]]], reps: int, with_facts: bool = True
) -> tuple[list[str], list]:
    """Per org size and indicator: rollups (now) against facts (before), p50 over sampled orgs x reps."""
    recorder = Recorder(engine)
    facts_baseline_runs = max(2, reps // 4) if with_facts else 0
    lines = [
        "| org (facts in 2025) | indicator | statements | rollup rows read | exec p50 (ms) | exec max (ms) | "
        "plan+exec p50 (ms) | exec p50, TIMING OFF (ms) | plan+exec p50, TIMING OFF (ms) | from `facts` p50 (ms) | "
        "faster | < 1 ms (TIMING OFF exec) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    plans = []
    for label, members in samples.items():
        new: dict[str, dict] = {}
        old: dict[str, dict] = {}
        for org_id, user_id in members:
            sql = captured_sql(engine, recorder, org_id, user_id)
            baseline = facts_baseline(org_id)
            for key, statements in sql.items():
                got = measure(engine, statements, reps, org_id)
                into = new.setdefault(
                    key,
                    {"exec": [], "total": [], "untimed": [], "untimed_total": [], "n": len(statements), "rows": 0},
                )
                into["rows"] = got["rows"]
                for field in ("exec", "total", "untimed", "untimed_total"):
                    into[field] += got[field]
                if label.startswith("5,000,000"):
                    plans.append((key, got["plans"]))
                if key in baseline and facts_baseline_runs:
                    before = measure(engine, baseline[key], facts_baseline_runs, org_id)
                    old.setdefault(key, {"exec": []})["exec"] += before["exec"]
        for key, s in new.items():
            p50, untimed = pct(s["exec"], 0.5), pct(s["untimed"], 0.5)
            before = pct(old[key]["exec"], 0.5) if key in old else None
            missed = f"**no** ({untimed / TARGET_MS:.1f}x)"
            ok = "-" if key.startswith("(") else ("yes" if untimed < TARGET_MS else missed)
            lines.append(
                f"| {label} | {key} | {s['n']} | {s['rows']:,} | {p50:.3f} | {max(s['exec']):.3f} | "
                f"{pct(s['total'], 0.5):.3f} | {untimed:.3f} | {pct(s['untimed_total'], 0.5):.3f} | "
                f"{'-' if before is None else f'{before:.1f}'} | "
                f"{'-' if before is None else f'{before / max(p50, 1e-3):,.0f}x'} | {ok} |"
            )
        log("\n".join(lines[-len(new) :]))
    return lines, plans


# ---------------------------------------------------------------- HTTP load


def drive(base: str, make_request, seconds: float, concurrency: int) -> dict:
    """GET requests from `concurrency` threads (one keep-alive client each) for `seconds`."""
    latencies, errors, lock = [], [0], threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + seconds

    def worker(_: int) -> None:
        local, failed = [], 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline:
                path, headers = make_request(next(counter))
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
    return summary_of(latencies, errors[0], elapsed, concurrency)


def summary_of(latencies: list[float], errors: int, elapsed: float, concurrency: int) -> dict:
    return {
        "n": len(latencies),
        "errors": errors,
        "p50": pct(latencies, 0.5),
        "p99": pct(latencies, 0.99),
        "rps": len(latencies) / elapsed,
        "clients": concurrency,
        "latencies": latencies,
        "elapsed": elapsed,
    }


def drive_wrk(base: str, make_request, seconds: float, concurrency: int) -> dict:
    """The same load from wrk (C, 2 threads, `concurrency` keep-alive connections): the client takes little of the
    CPU the server shares with it, unlike the Python clients of drive()."""
    path, headers = make_request(0)
    got = wrk(base + path, max(1, round(seconds)), concurrency, 2, headers or {})
    n = round(got["rps"] * max(1, round(seconds)))
    return {**got, "n": n, "clients": concurrency, "elapsed": max(1, round(seconds)), "latencies": []}


def drive_interleaved(
    base: str, endpoints: dict, seconds: float, concurrency: int, slices: int, use_wrk: bool = False
) -> dict[str, dict]:
    """Each endpoint for `seconds` in all, in `slices` turns taken in rotation (health, indicator, dashboard,
    health, ...): on a shared machine whose load changes by the minute, every endpoint sees the same conditions, so
    their ratios compare like with like. Requests/s is the requests over the endpoint's own time."""
    slices = max(1, min(slices, 100))
    got: dict[str, list[dict]] = {name: [] for name in endpoints}
    for _ in range(slices):
        for name, make_request in endpoints.items():
            driver = drive_wrk if use_wrk else drive
            got[name].append(driver(base, make_request, seconds / slices, concurrency))
    if use_wrk:  # wrk reports percentiles per run: the median over the turns
        return {
            name: {
                "n": sum(part["n"] for part in parts),
                "errors": sum(part["errors"] for part in parts),
                "p50": statistics.median(part["p50"] for part in parts),
                "p99": statistics.median(part["p99"] for part in parts),
                "rps": sum(part["n"] for part in parts) / sum(part["elapsed"] for part in parts),
                "clients": concurrency,
            }
            for name, parts in got.items()
        }
    return {
        name: summary_of(
            [ms for part in parts for ms in part["latencies"]],
            sum(part["errors"] for part in parts),
            sum(part["elapsed"] for part in parts),
            concurrency,
        )
        for name, parts in got.items()
    }


def http_phase(
    url: str, env: dict[str, str], token: str, args, label: str, root: str | None = None
) -> tuple[dict[str, dict], dict]:
    """/health, one indicator and a 5-widget dashboard on one server (of the checkout at root, else this one); all
    from the 100k-facts org."""
    auth = {"Authorization": f"Bearer {token}"}
    year = f"from={YEAR[0]}&to={YEAR[1]}"
    indicator = f"/indicators/valor-mes-a-mes?{year}"
    server = start_server(url, env=env, workers=args.workers, root=root or ROOT)
    try:
        base = server.base_url
        with httpx.Client(base_url=base, timeout=30) as client:
            widgets = [{"title": key, "indicator": key} for key in INDICATORS[:5]]
            created = client.post("/dashboards", headers=auth, json={"name": f"bench {label}", "widgets": widgets})
            created.raise_for_status()
            dashboard = f"/dashboards/{created.json()['id']}/data?{year}"
            for path in (indicator, dashboard):
                r = client.get(path, headers=auth)
                if r.status_code != 200:
                    raise SystemExit(f"unexpected answer {r.status_code}: {r.text[:300]}")
        drive(base, lambda i: ("/health", None), 3, args.concurrency)  # warm-up
        drive(base, lambda i: (indicator, auth), 3, args.concurrency)
        endpoints = {
            "GET /health": lambda i: ("/health", None),
            "GET /indicators/valor-mes-a-mes": lambda i: (indicator, auth),
            "GET /dashboards/{id}/data (5 widgets)": lambda i: (dashboard, auth),
        }
        results = drive_interleaved(base, endpoints, args.seconds, args.concurrency, args.slices, args.wrk)
        for name, r in results.items():
            log(f"  [{label}] {name}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms")
        rss = server_rss_mb(server, "VmHWM")
    finally:
        stop_server(server)
    return results, rss


def http_table(runs: dict[str, dict[str, dict]]) -> list[str]:
    lines = [
        "| cache | endpoint | requests | clients | p50 (ms) | p99 (ms) | req/s | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, results in runs.items():
        for name, r in results.items():
            lines.append(
                f"| {label} | {name} | {r['n']:,} | {r['clients']} | {r['p50']:.1f} | {r['p99']:.1f} | "
                f"{r['rps']:,.0f} | {r['errors']} |"
            )
    lines += [
        "",
        "| cache | indicator req/s / health req/s (>= 0.5) | indicator p99 (< 50 ms) | "
        "dashboard p50 / indicator p50 (<= 2x) |",
        "|---|---:|---:|---:|",
    ]
    for label, results in runs.items():
        h, i = results["GET /health"], results["GET /indicators/valor-mes-a-mes"]
        d = results["GET /dashboards/{id}/data (5 widgets)"]
        lines.append(f"| {label} | {i['rps'] / h['rps']:.2f} | {i['p99']:.1f} ms | {d['p50'] / i['p50']:.2f}x |")
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
        av = conn.execute(text("SHOW autovacuum")).scalar()
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 2**20:.1f} GiB RAM, load average {load:.1f} at the end (shared "
        f"machine); PostgreSQL {version} (shared_buffers {sb}, autovacuum {av}); client, API and database on one host"
    )


def redis_up(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small-orgs", type=int, default=100, help="orgs with 10,000 facts a year")
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_rollups")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--seconds", type=float, default=15, help="time per endpoint and server in the HTTP part")
    parser.add_argument("--slices", type=int, default=5, help="turns the endpoints take in rotation within those")
    parser.add_argument(
        "--wrk", action="store_true", help="load from wrk instead of Python clients (p50/p99: medians over the turns)"
    )
    parser.add_argument("--no-cache-off", action="store_true", help="skip the phase with the result cache off")
    parser.add_argument("--repetitions", type=int, default=20, help="EXPLAIN ANALYZE runs per indicator and org")
    parser.add_argument("--sample-orgs", type=int, default=5, help="small orgs whose database time is measured")
    parser.add_argument("--reload", action="store_true", help="reload the data set even when its counts match")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-db", action="store_true", help="only the HTTP part")
    parser.add_argument("--skip-facts", action="store_true", help="no baseline over `facts` (seconds per 5M query)")
    parser.add_argument(
        "--baseline-root", help="another checkout (the code before a change) whose server runs the same HTTP phase"
    )
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL")
    return args


def main() -> None:
    args = parse_args()
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
    orgs = data_set(args.small_orgs)
    engine, reused = prepare_database(args.database_url, orgs, args.reload)
    load_s = 0.0 if reused else load_dataset(engine, orgs)
    vacuum_s = vacuum(engine)
    log(f"{'reused' if reused else f'loaded in {load_s:.0f} s'}; VACUUM (ANALYZE) {vacuum_s:.1f} s")
    with engine.connect() as conn:
        owners = {
            slug: (org, user)
            for slug, org, user in conn.execute(
                text(
                    "SELECT o.slug, o.id, m.user_id FROM organizations o JOIN memberships m ON m.organization_id = o.id"
                )
            )
        }
        sizes = conn.execute(
            text(
                "SELECT pg_size_pretty(pg_total_relation_size('facts')), "
                "pg_size_pretty(pg_total_relation_size('daily_rollups')), "
                "pg_size_pretty(pg_total_relation_size('monthly_rollups')), "
                "(SELECT count(*) FROM daily_rollups), (SELECT count(*) FROM monthly_rollups), "
                "pg_size_pretty(pg_total_relation_size('monthly_category_rollups')), "
                "(SELECT count(*) FROM monthly_category_rollups), "
                "pg_size_pretty(pg_total_relation_size('monthly_uf_rollups')), "
                "(SELECT count(*) FROM monthly_uf_rollups)"
            )
        ).one()
    small = sorted(slug for slug in owners if slug.startswith("bench-small-"))
    step = max(1, len(small) // max(1, args.sample_orgs))
    samples = {
        "10,000": [owners[s] for s in small[::step][: args.sample_orgs]],
        "100,000": [owners["bench-medium"]],
        "5,000,000": [owners["bench-large"]],
    }
    db_lines: list[str] = []
    plans: list = []
    if not args.skip_db:
        log(f"database time: {args.repetitions} repetitions per org")
        db_lines, plans = db_time(engine, samples, args.repetitions, with_facts=not args.skip_facts)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "explain.txt").open("w" if plans else "a") as fh:
        fh.write(
            f"-- EXPLAIN (ANALYZE, BUFFERS), the 5,000,000-facts org, {YEAR[0]}..{YEAR[1]}, after VACUUM (ANALYZE)\n"
        )
        for key, statements in plans:
            for sql, plan in statements:
                fh.write(f"\n-- {key}\n{sql};\n\n{plan}\n")

    runs: dict[str, dict[str, dict]] = {}
    rss: dict = {}
    if not args.skip_http:
        org, user = owners["bench-medium"]
        token = create_access_token(user, org)
        runs["in process (default)"], rss = http_phase(args.database_url, env, token, args, "in process")
        if not args.no_cache_off:
            runs["off (RESULT_CACHE_MAX_MB=0)"], _ = http_phase(
                args.database_url, {**env, "RESULT_CACHE_MAX_MB": "0"}, token, args, "off"
            )
        if args.baseline_root:
            runs[f"before ({Path(args.baseline_root).name})"], _ = http_phase(
                args.database_url, env, token, args, "before", root=args.baseline_root
            )
        if redis_up(args.redis_url):
            prefix = f"painel-bench-{secrets.token_hex(4)}:"
            redis_env = {**env, "REDIS_URL": args.redis_url, "RESULT_CACHE_PREFIX": prefix}
            runs["Redis"], _ = http_phase(args.database_url, redis_env, token, args, "redis")
            import redis

            client = redis.Redis.from_url(args.redis_url)
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)
        else:
            log(f"Redis at {args.redis_url} does not answer: its phase is skipped")
    machine_line = machine(engine)
    engine.dispose()

    summary = [
        "## Indicators over the rollups (`bench/indicators.py`)",
        "",
        f"Machine: {machine_line}.",
        "",
        (
            f"Data set: {args.small_orgs} orgs with 10,000 facts in 2024 and in 2025, one with 100,000 in each, one "
            f"with 1,000,000 in 2024 and 5,000,000 in 2025 ({sum(a + b for _, a, b in orgs):,} facts; `facts` "
            f"{sizes[0]}, `daily_rollups` {sizes[3]:,} rows / {sizes[1]}, `monthly_rollups` {sizes[4]:,} rows / "
            f"{sizes[2]}, `monthly_category_rollups` {sizes[6]:,} rows / {sizes[5]}, `monthly_uf_rollups` {sizes[8]:,} "
            f"rows / {sizes[7]}); VACUUM (ANALYZE) after the load."
        ),
        "",
        (
            f"Database time for one org-year ({YEAR[0]}..{YEAR[1]}; kpis also reads 2024): EXPLAIN ANALYZE "
            f"`Execution Time` summed over the statements the service issues, as `painel_app` under row-level "
            f"security, {args.repetitions} runs per org, against the previous implementation's SQL over `facts`:"
        ),
        "",
        *db_lines,
        "",
    ]
    if runs:
        summary += [
            f"HTTP, `python -m app.serve --workers {args.workers}`, {args.concurrency} "
            f"{'wrk connections (2 threads)' if args.wrk else 'Python clients'}, {args.seconds:g} s per "
            f"row in {args.slices} turns taken in rotation with the other endpoints of the same server, the "
            "100,000-facts org's token, `valor-mes-a-mes` for 2025, no `If-None-Match`:",
            "",
            *http_table(runs),
            "",
            f"API server peak RSS (VmHWM, cache in process): {', '.join(f'{v:.0f} MB' for v in rss.values())}.",
        ]
    summary.append(f"Whole run: {time.perf_counter() - run_started:.0f} s.")
    print("\n" + "=" * 100 + "\n" + "\n".join(summary), flush=True)


if __name__ == "__main__":
    main()
