"""Sliding-window rate limits, shared by every worker and replica through Redis when REDIS_URL is set, else kept
in each process's memory (then N workers allow up to N times the limit; see README).

A new limit is a `RateLimit` below and one call: `rate_limits.check(MY_LIMIT, subject)` raises 429 with
Retry-After once the subject (an email, an org id) has used its allowance within the window.

Redis keeps a sorted set of hit times per (limit, subject) and decides in one Lua script, atomically and on the
Redis clock: drop the hits older than the window, refuse (with the time until the oldest one leaves) when the
limit is reached, else record the hit. Exactly `limit` hits are allowed in any window, across all processes; a
refused attempt is not counted. When Redis cannot be reached, the process falls back to its own memory (logged)
rather than refusing every sign-in.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from functools import lru_cache

import redis
from redis.commands.core import Script

from app.core.errors import TooManyRequests
from app.core.redis import get_redis, redis_key

logger = logging.getLogger("painel.rate_limits")


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int  # requests allowed ...
    window_seconds: float  # ... in any window of this length
    what: str  # named in the 429's detail: "At most 10 {what} per 300 s"


PASSWORD_LOGIN = RateLimit("password-login", 10, 300.0, "sign-in attempts for this email")
DATASOURCE_TEST = RateLimit("datasource-test", 10, 60.0, "connection tests")
LIMITS = {rule.name: rule for rule in (PASSWORD_LOGIN, DATASOURCE_TEST)}


def check(rule: RateLimit | str, subject: object) -> None:
    """Count one request for a subject (an org id, an email); 429 with Retry-After when it is over the limit."""
    if isinstance(rule, str):
        rule = LIMITS[rule]
    retry_after = _hit(rule, str(subject))
    if retry_after is not None:
        raise TooManyRequests(
            f"At most {rule.limit} {rule.what} per {int(rule.window_seconds)} s; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


def _hit(rule: RateLimit, subject: str) -> int | None:
    """Seconds to wait when the hit is refused, else None (the hit is recorded)."""
    client = get_redis()
    if client is not None:
        try:
            return _redis_hit(client, rule, subject)
        except redis.RedisError as exc:
            logger.warning("rate limit store unreachable, counting in this process: %s", type(exc).__name__)
    return _memory_hit(rule, subject)


# --- Redis: one atomic script per hit ----------------------------------------------------------------------------

_SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return -1
"""  # microseconds on Redis's clock; returns -1 (allowed) or the wait until a slot frees


@lru_cache(maxsize=4)
def _script(client: redis.Redis) -> Script:
    return client.register_script(_SLIDING_WINDOW)  # EVALSHA, loaded again by itself after a Redis restart


def _redis_hit(client: redis.Redis, rule: RateLimit, subject: str) -> int | None:
    # The subject is hashed: no email in Redis, and a bounded key whatever the input.
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    key = redis_key("ratelimit", rule.name, digest)
    window_us = int(rule.window_seconds * 1_000_000)
    wait_us = int(_script(client)(keys=[key], args=[rule.limit, window_us, secrets.token_hex(8)]))
    return None if wait_us < 0 else max(1, math.ceil(wait_us / 1_000_000))


# --- Memory: this process only -----------------------------------------------------------------------------------

_hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
_lock = threading.Lock()


def _memory_hit(rule: RateLimit, subject: str) -> int | None:
    now = time.monotonic()
    with _lock:
        hits = _hits[(rule.name, subject)]
        while hits and hits[0] <= now - rule.window_seconds:
            hits.popleft()
        if len(hits) >= rule.limit:
            return int(rule.window_seconds - (now - hits[0])) + 1
        hits.append(now)
        return None


def reset() -> None:
    """Forget this process's counts (tests)."""
    with _lock:
        _hits.clear()
