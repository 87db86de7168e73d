"""Rate limits: exactly N per sliding window, in Redis when REDIS_URL is set, in memory otherwise or when Redis is
unreachable; a new limit is one RateLimit and one call."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest
import redis

from app.core.config import get_settings
from app.core.errors import TooManyRequests
from app.core.redis import get_redis
from app.services import rate_limits
from tests.conftest import require_service

REDIS_URL = "redis://127.0.0.1:6379/15"


def outcomes(rule: rate_limits.RateLimit, subject: str, count: int) -> list[str | int]:
    """'ok' per allowed hit, the Retry-After seconds per refused one."""
    out: list[str | int] = []
    for _ in range(count):
        refused: TooManyRequests | None = None
        try:
            rate_limits.check(rule, subject)
        except TooManyRequests as exc:
            refused = exc
        out.append("ok" if refused is None else int((refused.headers or {})["Retry-After"]))
    return out


@pytest.fixture
def shared_store(monkeypatch):
    """REDIS_URL set, with a key prefix of this test's own (deleted afterwards)."""
    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        probe.ping()
    except redis.RedisError as exc:
        require_service("Redis", f"{REDIS_URL}: {exc}")
    prefix = f"painel-test-{uuid.uuid4().hex[:8]}:"
    settings = get_settings()
    monkeypatch.setattr(settings, "REDIS_URL", REDIS_URL)
    monkeypatch.setattr(settings, "REDIS_KEY_PREFIX", prefix)
    get_redis.cache_clear()
    try:
        yield probe, prefix
    finally:
        get_redis.cache_clear()
        for key in probe.scan_iter(match=f"{prefix}*"):
            probe.delete(key)
        probe.close()


def test_redis_allows_exactly_the_limit_then_429_with_retry_after(shared_store):
    probe, prefix = shared_store
    rule = rate_limits.RateLimit("test-exact", 4, 30.0, "tries")
    first = outcomes(rule, "someone@example.com", 6)
    assert first[:4] == ["ok"] * 4
    assert all(isinstance(wait, int) and 29 <= wait <= 30 for wait in first[4:])
    assert outcomes(rule, "other@example.com", 1) == ["ok"]  # per subject
    rate_limits.reset()  # the count is not in this process's memory
    (after_reset,) = outcomes(rule, "someone@example.com", 1)
    assert isinstance(after_reset, int)
    key = f"{prefix}ratelimit:test-exact:{hashlib.sha256(b'someone@example.com').hexdigest()[:32]}"
    assert len(probe.keys(f"{prefix}ratelimit:test-exact:*")) == 2 and 0 < probe.pttl(key) <= 30_000
    assert probe.zcard(key) == 4  # refused attempts are not recorded


def test_redis_window_slides(shared_store):
    rule = rate_limits.RateLimit("test-slide", 2, 1.0, "tries")
    assert outcomes(rule, "s", 3) == ["ok", "ok", 1]
    time.sleep(1.05)
    assert outcomes(rule, "s", 3) == ["ok", "ok", 1]


def test_an_unreachable_redis_falls_back_to_this_process(monkeypatch, caplog):
    settings = get_settings()
    monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    get_redis.cache_clear()
    try:
        rule = rate_limits.RateLimit("test-fallback", 3, 60.0, "tries")
        started = time.monotonic()
        assert outcomes(rule, "x", 4)[:3] == ["ok"] * 3
        assert time.monotonic() - started < 5  # short timeouts: a dead Redis does not stall requests
        assert "rate limit store unreachable" in caplog.text
    finally:
        get_redis.cache_clear()


def test_without_redis_each_process_counts_in_memory():
    assert get_settings().REDIS_URL is None and get_redis() is None
    rule = rate_limits.RateLimit("test-memory", 2, 60.0, "tries")
    assert outcomes(rule, "m", 3)[:2] == ["ok", "ok"] and isinstance(outcomes(rule, "m", 1)[0], int)
    rate_limits.reset()
    assert outcomes(rule, "m", 1) == ["ok"]


def test_the_named_limits_keep_their_keys():
    assert rate_limits.LIMITS["password-login"] == rate_limits.PASSWORD_LOGIN
    assert (rate_limits.PASSWORD_LOGIN.limit, rate_limits.PASSWORD_LOGIN.window_seconds) == (10, 300.0)
    assert (rate_limits.DATASOURCE_TEST.limit, rate_limits.DATASOURCE_TEST.window_seconds) == (10, 60.0)
