"""CPU time per request, in the API server and in its Postgres backends: what limits requests/s when the machine is
saturated, and, unlike latencies, hardly moved by other work on a shared machine.

    .venv/bin/python bench/request_cpu.py [--baseline-root <old checkout>] [--seconds 4] [--rounds 3]

Starts `python -m app.serve` (one worker) of this checkout and, with --baseline-root, of another one, against
bench/indicators.py's database; drives `/health` and the cached `valor-mes-a-mes` of the 100,000-facts org with
16 keep-alive clients, servers and endpoints in rotation; reads the CPU time (user + system, /proc) of the server's
processes and of the Postgres backends connected to the database before and after each turn. Prints the median
per round of CPU ms per request and requests/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import bench_env, child_pids, start_server, stop_server  # noqa: E402 after the sys.path line
from bench.indicators import drive  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_rollups")
    parser.add_argument("--baseline-root")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    env = bench_env(args.database_url)
    os.environ.update(env)
    from app.core.security import create_access_token

    engine = create_engine(args.database_url, pool_size=1)
    with engine.connect() as conn:
        org, user = conn.execute(
            text(
                "SELECT o.id, m.user_id FROM organizations o JOIN memberships m ON m.organization_id = o.id "
                "WHERE o.slug = 'bench-medium'"
            )
        ).one()
    auth = {"Authorization": f"Bearer {create_access_token(user, org)}"}
    indicator = "/indicators/valor-mes-a-mes?from=2025-01-01&to=2025-12-31"
    roots = {"this checkout": ROOT} | ({"baseline": Path(args.baseline_root)} if args.baseline_root else {})
    servers = {name: start_server(args.database_url, env=env, root=root) for name, root in roots.items()}
    endpoints = {
        "GET /health": lambda i: ("/health", None),
        "GET valor-mes-a-mes (cached)": lambda i: (indicator, auth),
    }
    found: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    backends = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )
    try:
        for server in servers.values():
            drive(server.base_url, lambda i: (indicator, auth), 1, 4)  # warm-up: pool, cache
        for _ in range(max(1, min(args.rounds, 20))):
            for name, server in servers.items():
                pids = [server.proc.pid, *child_pids(server.proc.pid)]
                for label, make_request in endpoints.items():
                    with engine.connect() as conn:
                        pg = list(conn.execute(backends).scalars())
                    app_before = sum(cpu_seconds(p) for p in pids)
                    pg_before = sum(cpu_seconds(p) for p in pg)
                    result = drive(server.base_url, make_request, args.seconds, args.clients)
                    n = max(1, result["n"])
                    app_ms = (sum(cpu_seconds(p) for p in pids) - app_before) * 1000 / n
                    pg_ms = (sum(cpu_seconds(p) for p in pg) - pg_before) * 1000 / n
                    found.setdefault((name, label), []).append((app_ms, pg_ms, result["rps"]))
    finally:
        for server in servers.values():
            stop_server(server)
        engine.dispose()
    print(f"one worker, {args.clients} clients, {args.seconds:g} s per turn, {args.rounds} rounds; medians per round")
    print("| server | endpoint | API server CPU ms/request | Postgres CPU ms/request | req/s |")
    print("|---|---|---:|---:|---:|")
    for (name, label), rows in found.items():
        app_ms, pg_ms, rps = (statistics.median(column) for column in zip(*rows, strict=True))
        print(f"| {name} | {label} | {app_ms:.2f} | {pg_ms:.3f} | {rps:.0f} |")


if __name__ == "__main__":
    main()
