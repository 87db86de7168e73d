"""What the request metrics and the access log line cost per request, measured where they run: the request
context middleware around a trivial ASGI endpoint, with and without the access middleware (app.core.access),
interleaved rounds, median and best round per request (on a shared machine the best round is the steadier
figure). A whole request through the app costs far more and varies by hundreds of
microseconds on a shared machine, which would hide a difference of this size.

    .venv/bin/python bench/observability.py [--requests 20000] [--rounds 7] [--multiprocess]

Variants: `bare` (request context only), `metrics` (counter + histogram, the log line filtered out by its level),
`metrics+json log` (the production line: JSON-formatted, redacted, written to /dev/null).
--multiprocess measures prometheus_client's file-backed values (what `python -m app.serve` uses).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _environment(multiprocess: bool) -> None:
    """Settings of a throwaway app (nothing written to var/), and the metrics mode, before anything imports them."""
    from cryptography.fernet import Fernet

    scratch = Path(tempfile.mkdtemp(prefix="painel-bench-obs-"))
    os.environ.update(
        {
            "APP_ENV": "test",
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.db'}",
            "JWT_SECRET": secrets.token_urlsafe(48),
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "SCHEDULER_ENABLED": "false",
        }
    )
    if multiprocess:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(scratch)


class _Route:
    path_format = "/dashboards/{dashboard_id}"


async def _endpoint(scope, receive, send) -> None:
    """What routing leaves behind (the matched route in the scope), then a small 200 answer."""
    scope["route"] = _Route
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"status":"ok"}'})


def _stacks():
    from app.core.access import AccessLog
    from app.core.context import RequestContextMiddleware
    from app.core.logging import ContextFilter, JsonLogFormatter

    access = logging.getLogger("painel.access")
    handler = logging.FileHandler(os.devnull)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(ContextFilter())
    access.addHandler(handler)
    access.propagate = False
    observed = RequestContextMiddleware(AccessLog(_endpoint))
    return {
        "bare": (RequestContextMiddleware(_endpoint), logging.WARNING),
        "metrics": (observed, logging.WARNING),
        "metrics+json log": (observed, logging.INFO),
    }


async def _round(app, requests: int) -> float:
    """Seconds per request for `requests` GET /dashboards/7 calls through the stack."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/dashboards/7",
        "raw_path": b"/dashboards/7",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"user-agent", b"bench")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / requests


async def _main(requests: int, rounds: int) -> dict[str, list[float]]:
    stacks = _stacks()
    access = logging.getLogger("painel.access")
    results: dict[str, list[float]] = {name: [] for name in stacks}
    for round_number in range(rounds + 1):  # the first round warms up and is dropped
        for name, (app, level) in stacks.items():
            access.setLevel(level)
            elapsed = await _round(app, requests)
            if round_number:
                results[name].append(elapsed)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--multiprocess", action="store_true")
    args = parser.parse_args()
    _environment(args.multiprocess)
    results = asyncio.run(_main(args.requests, args.rounds))
    base, base_best = statistics.median(results["bare"]), min(results["bare"])
    mode = "multiprocess (file-backed) values" if args.multiprocess else "in-process values"
    print(f"{args.rounds} rounds x {args.requests} requests, {mode}; µs per request")
    print(f"{'variant':<20}{'median':>10}{'added':>10}{'best':>10}{'added':>10}")
    for name, values in results.items():
        median, best = statistics.median(values), min(values)
        print(
            f"{name:<20}{median * 1e6:>10.1f}{(median - base) * 1e6:>10.1f}"
            f"{best * 1e6:>10.1f}{(best - base_best) * 1e6:>10.1f}"
        )


if __name__ == "__main__":
    main()
