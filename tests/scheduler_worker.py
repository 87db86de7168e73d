"""Entry point for scheduler processes started by tests (imports nothing from the test harness, so a child
process uses the parent's database from the environment)."""

from __future__ import annotations

import time


def tick_at(start_at: float) -> None:
    """Import everything first, then tick at the same instant as the sibling processes."""
    from app.core.db import get_engine
    from app.cron.scheduler import tick

    get_engine().connect().close()
    time.sleep(max(0.0, start_at - time.time()))
    tick()
