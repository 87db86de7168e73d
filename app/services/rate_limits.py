"""In-process sliding-window rate limits per org (enough for one API process; see README)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from app.core.errors import TooManyRequests

LIMITS = {"datasource-test": (10, 60.0)}  # key -> (requests, per seconds)
_hits: dict[tuple[str, int], deque[float]] = defaultdict(deque)
_lock = threading.Lock()


def check(key: str, org_id: int) -> None:
    """Count one request; 429 when the org is over the limit for this key."""
    limit, window = LIMITS[key]
    now = time.monotonic()
    with _lock:
        hits = _hits[(key, org_id)]
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            retry = int(window - (now - hits[0])) + 1
            raise TooManyRequests(f"At most {limit} connection tests per {int(window)} s; retry in {retry} s",
                                  headers={"Retry-After": str(retry)})
        hits.append(now)


def reset() -> None:
    with _lock:
        _hits.clear()
