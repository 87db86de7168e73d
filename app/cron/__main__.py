"""Run the scheduler as its own process (`python -m app.cron`), for deployments that set SCHEDULER_ENABLED=false
on the API workers."""

from __future__ import annotations

import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler

from app.core.config import ConfigError, get_settings
from app.cron.scheduler import configure, tick


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        get_settings()
    except ConfigError as exc:
        raise SystemExit(f"painel: {exc}") from None
    scheduler = configure(BlockingScheduler(timezone="UTC"))
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=True))
    tick()  # do not wait a whole interval after a (re)start
    scheduler.start()


if __name__ == "__main__":
    main()
