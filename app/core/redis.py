"""The one Redis client of the process (REDIS_URL), for whatever several processes must share: rate limits
today, result caches next. None when REDIS_URL is unset: callers then keep their per-process behaviour."""

from __future__ import annotations

from functools import lru_cache

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.core.config import get_settings

# A request must not hang on a Redis that is down: short timeouts, one retry, no backoff.
SOCKET_TIMEOUT_SECONDS = 0.5


@lru_cache
def get_redis() -> redis.Redis | None:
    """The shared client (a connection pool, safe across threads), or None without REDIS_URL."""
    url = get_settings().REDIS_URL
    if not url:
        return None
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), retries=1),
        health_check_interval=30,
    )


def redis_key(*parts: str) -> str:
    """A key under REDIS_KEY_PREFIX, so several deployments (or test runs) can share one Redis."""
    return get_settings().REDIS_KEY_PREFIX + ":".join(parts)
