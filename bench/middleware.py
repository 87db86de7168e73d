"""What each middleware layer costs per request: GET /health through the real app in process (ASGI calls, no
server, no socket), with the whole stack and with one layer left out at a time, interleaved rounds; median and best
round per request. The difference to the whole stack is that layer's cost.

    .venv/bin/python bench/middleware.py [--requests 3000] [--rounds 7]

Layers (outermost first): the request context (request id), the access record (metrics and the JSON log line,
written to /dev/null), CORS (only when CORS_ORIGINS is set; measured added), then FastAPI's own stack: Starlette's
error middleware, the body size limit (app.core.limits), the exception middleware and the exit stack.
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


def _environment() -> None:
    from cryptography.fernet import Fernet

    scratch = Path(tempfile.mkdtemp(prefix="painel-bench-mw-"))
    os.environ.update(
        {
            "APP_ENV": "test",
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.db'}",
            "JWT_SECRET": secrets.token_urlsafe(48),
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "SCHEDULER_ENABLED": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(scratch),  # what `python -m app.serve` uses
        }
    )


def _stacks() -> dict:
    from fastapi import FastAPI
    from starlette.middleware.cors import CORSMiddleware

    from app.core.access import AccessLog
    from app.core.context import RequestContextMiddleware
    from app.core.limits import BodySizeLimit
    from app.core.logging import ContextFilter, JsonLogFormatter
    from app.main import CORS_METHODS, CORS_REQUEST_HEADERS, create_app

    access = logging.getLogger("painel.access")
    for handler in list(access.handlers):
        access.removeHandler(handler)
    handler = logging.FileHandler(os.devnull)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(ContextFilter())
    access.addHandler(handler)
    access.propagate = False
    access.setLevel(logging.INFO)

    def inner(without_limit: bool = False):
        app = create_app()
        if without_limit:
            app.user_middleware = [m for m in app.user_middleware if m.cls is not BodySizeLimit]
        return FastAPI.build_middleware_stack(app)

    def cors(app):
        return CORSMiddleware(
            app,
            allow_origins=["https://painel.example"],
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
        )

    return {
        "whole stack (production)": RequestContextMiddleware(AccessLog(inner())),
        "- request context": AccessLog(inner()),
        "- access record (metrics, log)": RequestContextMiddleware(inner()),
        "- body size limit": RequestContextMiddleware(AccessLog(inner(without_limit=True))),
        "+ CORS (CORS_ORIGINS set)": RequestContextMiddleware(AccessLog(cors(inner()))),
        "FastAPI's stack only": inner(without_limit=True),
    }


async def _round(app, requests: int) -> float:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/health",
        "raw_path": b"/health",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"user-agent", b"bench"), (b"origin", b"https://painel.example")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: list[int] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    elapsed = (time.perf_counter() - started) / requests
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses {set(statuses)}")
    return elapsed


async def _main(requests: int, rounds: int) -> dict[str, list[float]]:
    stacks = _stacks()
    results: dict[str, list[float]] = {name: [] for name in stacks}
    for round_number in range(rounds + 1):  # the first round warms up and is dropped
        for name, app in stacks.items():
            elapsed = await _round(app, requests)
            if round_number:
                results[name].append(elapsed)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    _environment()
    results = asyncio.run(_main(min(args.requests, 100_000), min(args.rounds, 50)))
    whole = "whole stack (production)"
    base, base_best = statistics.median(results[whole]), min(results[whole])
    print(f"GET /health in process, {args.rounds} rounds x {args.requests} requests; µs per request")
    print("| variant | median (µs) | vs whole stack | best (µs) | vs whole stack |\n|---|---:|---:|---:|---:|")
    for name, values in results.items():
        median, best = statistics.median(values), min(values)
        print(
            f"| {name} | {median * 1e6:.1f} | {(median - base) * 1e6:+.1f} | {best * 1e6:.1f} | "
            f"{(best - base_best) * 1e6:+.1f} |"
        )


if __name__ == "__main__":
    main()
