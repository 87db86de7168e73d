"""Profile an indicator request on the real server (py-spy, every thread): where the time of a request goes.

    .venv/bin/python bench/profile_indicator.py [--root .] [--seconds 15] [--clients 4] [--path ...]

Starts `python -m app.serve` (one worker) from --root (another checkout, e.g. the code before a change, compares)
against bench/indicators.py's database, drives GET --path for the `bench-medium` org (100,000 facts in 2025) from
--clients keep-alive clients while py-spy samples the server, and prints the requests served and the functions that
take the most of the sampled time (inclusive; idle threads left out). Extra environment (RESULT_CACHE_MAX_MB=0, ...)
passes to the server.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import bench_env, free_port  # noqa: E402 after the sys.path line
from bench.indicators import drive  # noqa: E402


def start(root: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen([*cmd, "--no-access-log"], cwd=root, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


IDLE = (
    "Condition.wait (threading.py",
    "select (selectors.py",
    "EpollSelector.select (selectors.py",
    "Queue.get (queue.py",
)
SKIP = (
    "threading.py",
    "runpy",
    "_asyncio.py",
    "serve.py",
    "core.py",
    "main.py",
    "server.py",
    "runners.py",
    "base_events.py",
    "_compat.py",
    "events.py",
)


# What a request spends its time on: (label, frames whose presence in a sample puts it in the bucket).
BUCKETS = [
    ("credential and membership (get_caller, all of it)", ("get_caller (app/routers/deps.py",)),
    ("  pool checkout and pre-ping", ("_do_ping_w_event", "do_ping (sqlalchemy", "_checked_out (app/core/db.py")),
    ("  tenant settings at transaction start (set_config)", ("_begin_tenant_transaction",)),
    ("  JWT verification", ("decode_access_token",)),
    ("indicator service (range, filters, cache key, cache or compute)", ("serve_indicator", "catalog.py")),
    ("  SQL of the indicator (rollups / facts)", ("totals (app/services/indicators/sums.py", "builtin.py")),
    ("JSON encoding", ("jsonable_encoder", "to_json (app", "JSONResponse.render", "serialize_response")),
    ("commit at the end of the request", ("Session.commit",)),
    ("every statement's round trip (do_execute)", ("DefaultDialect.do_execute", "_execute (app/core/db.py")),
    ("FastAPI dependency solving", ("solve_dependencies",)),
]


def buckets(raw: Path) -> list[str]:
    """The busy samples that pass through each bucket's frames (buckets overlap: indented ones are parts)."""
    counts = dict.fromkeys((label for label, _ in BUCKETS), 0)
    busy = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if any(stack.split(";")[-1].startswith(mark) for mark in IDLE) or "Queue.get (queue.py" in stack:
            continue
        busy += int(count)
        for label, marks in BUCKETS:
            if any(mark in stack for mark in marks):
                counts[label] += int(count)
    return [f"{n / max(1, busy) * 100:5.1f}%  {label}" for label, n in counts.items()]


def summarize(raw: Path, top: int) -> list[str]:
    """Inclusive share of the busy samples per function (threads waiting for work left out), from py-spy's
    collapsed stacks; the frames every sample shares (thread and event loop plumbing) are not listed."""
    inclusive: collections.Counter[str] = collections.Counter()
    busy = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(frames[-1].startswith(mark) for mark in IDLE) or "Queue.get (queue.py" in stack:
            idle += int(count)
            continue
        busy += int(count)
        names = {frame.split(":")[0] for frame in frames}
        for name in names:
            inclusive[name.replace(str(ROOT) + "/", "").split("site-packages/")[-1]] += int(count)
    listed = [(name, n) for name, n in inclusive.most_common() if not name.endswith(SKIP)][:top]
    head = [f"busy samples: {busy} ({busy / max(1, busy + idle) * 100:.0f}% of all threads' samples)"]
    return head + [f"{n / busy * 100:5.1f}%  {name})" for name, n in listed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_rollups")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--path", default="/indicators/valor-mes-a-mes?from=2025-01-01&to=2025-12-31")
    args = parser.parse_args()
    env = bench_env(args.database_url)
    os.environ.update(env)
    from app.core.security import create_access_token

    engine = create_engine(args.database_url)
    with engine.connect() as conn:
        org, user = conn.execute(
            text(
                "SELECT o.id, m.user_id FROM organizations o JOIN memberships m ON m.organization_id = o.id "
                "WHERE o.slug = 'bench-medium'"
            )
        ).one()
    engine.dispose()
    headers = {"Authorization": f"Bearer {create_access_token(user, org)}"}
    proc, base = start(args.root, env)
    try:
        drive(base, lambda i: (args.path, headers), 2, args.clients)  # warm-up
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "stacks.txt"
            spy = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(proc.pid), "--rate", "250"]
            sampler = subprocess.Popen(
                [*spy, "--duration", str(int(args.seconds)), "--format", "raw", "--output", str(raw)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = drive(base, lambda i: (args.path, headers), args.seconds, args.clients)
            sampler.wait(args.seconds + 30)
            lines = [*buckets(raw), "", *summarize(raw, args.top)]
    finally:
        proc.terminate()
        proc.wait(20)
    print(
        f"{args.root}: {result['n']} requests in {args.seconds:g} s ({result['rps']:.0f} req/s, p50 "
        f"{result['p50']:.1f} ms, {result['errors']} errors), {args.clients} clients, one worker"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
