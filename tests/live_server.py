"""Real API processes for tests that need several workers or true concurrency: uvicorn on a free loopback port,
against the suite's database (DATABASE_URL and the other settings come from the test environment)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LiveServer:
    proc: subprocess.Popen
    base_url: str
    log_path: Path | None = None  # the server's stderr (its log lines), when asked for

    def log_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines() if self.log_path else []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    args: tuple[str, ...] = (),
    log_path: Path | None = None,
) -> LiveServer:
    """Start `python -m app.serve` and return once /health answers; log_path receives its stderr."""
    port = _free_port()
    cmd = [sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    cmd += list(args)
    stderr = log_path.open("w") if log_path else None
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stderr=stderr)
    if stderr is not None:
        stderr.close()  # the child keeps its own descriptor
    server = LiveServer(proc, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API server exited with code {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                return server
        time.sleep(0.1)
    stop(server)
    raise RuntimeError(f"the API server did not answer /health within {timeout:.0f} s")


def wait_for_log(server: LiveServer, text: str, count: int = 1, timeout: float = 60) -> None:
    """Wait until `count` log lines contain `text` (e.g. every worker's "Application startup complete")."""
    deadline = time.monotonic() + timeout
    while sum(text in line for line in server.log_lines()) < count:
        if time.monotonic() > deadline or server.proc.poll() is not None:
            raise RuntimeError(f"the server did not log {text!r} {count} times within {timeout:.0f} s")
        time.sleep(0.1)


def stop(server: LiveServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=5)


@contextlib.contextmanager
def running(count: int = 1, **kwargs) -> Iterator[list[LiveServer]]:
    """`count` independent server processes on the same database, stopped at the end."""
    servers: list[LiveServer] = []
    try:
        for _ in range(count):
            servers.append(start(**kwargs))
        yield servers
    finally:
        for server in servers:
            stop(server)
