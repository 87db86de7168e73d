"""Production entry point: `python -m app.serve --workers 4 --host 0.0.0.0 --port 8000` (any uvicorn option).

- Metrics: PROMETHEUS_MULTIPROC_DIR is set (a fresh temporary directory unless given) and emptied before any worker
  starts, so every worker writes its samples there and /metrics sums them whichever worker answers the scrape.
- Logs: uvicorn (the supervisor and every worker) logs through app.core.logging (LOG_FORMAT, LOG_LEVEL); the
  app's own `painel.access` line is the access log (route template, status, duration, request id), so uvicorn's
  is off unless `--access-log` is given (it is then in the same format).
- TCP_NODELAY: with --workers N, uvicorn binds the listening socket itself and leaves its protocol unset, so
  asyncio never enables TCP_NODELAY on accepted connections and every keep-alive response waits ~40 ms for the
  client's delayed ACK (uvicorn issue #3149, Linux). This entry point marks the socket as TCP before the workers
  inherit it.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn.config

uvicorn_cli: Any = importlib.import_module("uvicorn.main")  # the module: `uvicorn.main` is also the click command

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # app.core.metrics.MULTIPROC_ENV; read before prometheus is imported

_bind_socket = uvicorn.config.Config.bind_socket


def _bind_tcp_socket(self: uvicorn.config.Config) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp
    return sock


def prepare_metrics_dir() -> Path | None:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory; returns it when this process created it."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # samples of a previous run would be summed with this one's
            stale.unlink()
        return None
    created = Path(tempfile.mkdtemp(prefix="painel-metrics-"))
    os.environ[MULTIPROC_ENV] = str(created)
    return created


def uvicorn_arguments(args: list[str]) -> list[str]:
    """uvicorn's command line: the app, the caller's options, and no uvicorn access log unless asked for."""
    if not {"--access-log", "--no-access-log"} & set(args):
        args = [*args, "--no-access-log"]
    return ["uvicorn", "app.main:app", *args]


def main() -> None:
    created = prepare_metrics_dir()
    from app.core.config import ConfigError, get_settings
    from app.core.logging import logging_config

    try:
        settings = get_settings()
    except ConfigError as exc:
        raise SystemExit(f"painel: {exc}") from None
    # uvicorn applies this (unless --log-config is given) in the supervisor and in every worker it starts.
    uvicorn_cli.LOGGING_CONFIG = logging_config(settings.log_format, settings.LOG_LEVEL)
    uvicorn.config.Config.bind_socket = _bind_tcp_socket  # type: ignore[method-assign]  # the fix above
    sys.argv = uvicorn_arguments(sys.argv[1:])
    try:
        uvicorn_cli.main()
    finally:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)


if __name__ == "__main__":
    main()
