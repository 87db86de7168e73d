"""Run the scheduler as its own process (`python -m app.cron`), for deployments that set SCHEDULER_ENABLED=false
on the API workers. Several such processes are safe: each source run holds a per-source advisory lock.
`python -m app.cron retention` runs the retention job once (RETENTION_DAYS, or --days) and exits."""

from __future__ import annotations

import argparse
import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler

from app.core import metrics
from app.core.config import ConfigError, get_settings
from app.core.logging import configure_logging
from app.cron.scheduler import configure, tick
from app.services.jobs import retention as retention_service

logger = logging.getLogger("painel.scheduler")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.cron", description="Refresh recurring data sources on a schedule (SCHEDULER_TICK_SECONDS)."
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["retention"],
        help="retention: remove the staged rows of batches past RETENTION_DAYS (in every org) once, and exit",
    )
    parser.add_argument(
        "--days", type=int, default=None, help="with retention: this many days instead of RETENTION_DAYS"
    )
    parser.add_argument("--once", action="store_true", help="run one tick (every due source) and exit")
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve this process's /metrics on this port (same METRICS_TOKEN rule as the API); off by default",
    )
    parser.add_argument("--metrics-host", default="0.0.0.0", help="address for --metrics-port (default 0.0.0.0)")  # noqa: S104 a container's port
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        get_settings()
    except ConfigError as exc:
        raise SystemExit(f"painel: {exc}") from None
    configure_logging(force=True)
    if args.command == "retention":
        result = retention_service.purge_expired(days=args.days)
        logger.info("retention: %s", result)
        return
    if args.once:
        logger.info("tick: %s", tick())
        return
    if args.metrics_port is not None:
        metrics.start_metrics_server(args.metrics_host, args.metrics_port)
        logger.info("metrics on http://%s:%d/metrics", args.metrics_host, args.metrics_port)
    scheduler = configure(BlockingScheduler(timezone="UTC"))
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=True))
    tick()  # do not wait a whole interval after a (re)start
    scheduler.start()


if __name__ == "__main__":
    main()
