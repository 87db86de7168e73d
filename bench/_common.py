"""Shared bench helpers: run the real API with uvicorn on a free 127.0.0.1 port, wait for /health, stop it,
and read its resident memory from /proc."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(
    database_url: str,
    *,
    env: dict[str, str] | None = None,
    workers: int = 1,
    timeout: float = 60,
    root: Path | str = ROOT,
) -> Server:
    """`python -m app.serve` of the checkout at root (this one by default) against database_url, returned once
    GET /health answers 200."""
    port = free_port()
    full_env = {**os.environ, **(env or {}), "DATABASE_URL": database_url}
    cmd = [
        sys.executable,
        "-m",
        "app.serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    server = Server(subprocess.Popen(cmd, cwd=root, env=full_env), port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"the API server exited with code {server.proc.returncode}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"the API server did not answer /health within {timeout:.0f} s")


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (uvicorn's workers), from /proc."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of one process in MB (field VmRSS, or VmHWM for the peak); 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def server_rss_mb(server: Server, field: str = "VmRSS") -> dict[int, float]:
    """RSS per process of the server: the master and each worker."""
    pids = [server.proc.pid, *child_pids(server.proc.pid)]
    return {pid: rss_mb(pid, field) for pid in pids}


def stop_server(server: Server, timeout: float = 20) -> None:
    """Graceful stop (SIGINT), then SIGKILL of the master and its workers, by pid."""
    if server.proc.poll() is not None:
        return
    workers = child_pids(server.proc.pid)
    server.proc.send_signal(signal.SIGINT)
    try:
        server.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.proc.kill()
        server.proc.wait(5)


def ensure_database(url: str, marker: str, *, recreate: bool = False) -> bool:
    """Create the Postgres database of `url` when it is missing, commented with `marker` (the bench that owns it).
    recreate drops it first, but only a database that carries the marker: never one a bench did not create.
    Answers whether it was created."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if exists and recreate:
                comment = conn.execute(
                    text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"),
                    {"n": name},
                ).scalar()
                if comment != marker:
                    raise SystemExit(f"database {name} exists and is not this bench's: pick another --database-url")
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = False
            if exists:
                return False
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'"))
            return True
    finally:
        admin.dispose()


def bench_env(database_url: str) -> dict[str, str]:
    """Settings of a bench's API server: development mode, no scheduler or demo seed, fresh secrets."""
    import secrets

    from cryptography.fernet import Fernet

    return {
        "DATABASE_URL": database_url,
        "APP_ENV": "development",
        "SCHEDULER_ENABLED": "false",
        "SEED_DEMO": "false",
        "JWT_SECRET": secrets.token_urlsafe(36),
        "SECRETS_KEY": Fernet.generate_key().decode(),
    }


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, seconds: int, connections: int, threads: int, headers: dict[str, str]) -> dict[str, float]:
    """One wrk run: requests/s, p50 and p99 latency (ms), and non-2xx answers + socket errors."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(non2xx.group(1)) if non2xx else 0
    failed += sum(int(g) for g in errors.groups()) if errors else 0
    return {"rps": rps, "p50": p50, "p99": p99, "errors": failed}
