"""In-process sliding-window rate limits (per API process; see README)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from app.core.errors import TooManyRequests

# key -> (requests, per seconds, what is limited)
LIMITS = {
    "datasource-test": (10, 60.0, "connection tests"),
    "password-login": (10, 300.0, "sign-in attempts for this email"),
}
_hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
_lock = threading.Lock()


def check(key: str, subject: object) -> None:
    """Count one request for a subject (an org id, an email); 429 when it is over the key's limit."""
    limit, window, what = LIMITS[key]
    now = time.monotonic()
    with _lock:
        hits = _hits[(key, str(subject))]
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            retry = int(window - (now - hits[0])) + 1
            raise TooManyRequests(
                f"At most {limit} {what} per {int(window)} s; retry in {retry} s", headers={"Retry-After": str(retry)}
            )
        hits.append(now)


def reset() -> None:
    with _lock:
        _hits.clear()
