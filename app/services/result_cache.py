"""The result cache of indicator and dashboard-data answers: serialized JSON bodies under keys that name everything an
answer depends on (the org and its data version and settings, the caller's access scope, the request).

Nothing is ever invalidated: a new batch bumps the org's data version, so later requests look for other keys and the
stale entries age out (LRU in process, a TTL in Redis). In process by default (a bounded LRU per worker,
RESULT_CACHE_MAX_MB); in Redis when REDIS_URL is set (shared by every worker). A Redis failure is a miss, never an
error: the answer is computed as if there were no cache."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from app.core.config import get_settings
from app.services import freshness
from app.services.freshness import OrgState
from app.services.tenancy import Tenant

logger = logging.getLogger("painel.cache")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, what: str) -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)


class ResultCache(Protocol):
    stats: CacheStats
    in_process: bool  # get() and peek() do no I/O: safe to call from the event loop

    def get(self, key: str) -> bytes | None: ...

    def peek(self, key: str) -> bytes | None:
        """get() without counting a miss (a caller that will ask get() again when it misses)."""
        ...

    def set(self, key: str, value: bytes) -> None: ...

    def clear(self) -> None: ...


class MemoryCache:
    """A thread-safe LRU bounded by the total size of its values (one entry at most an eighth of it)."""

    in_process = True

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // 8
        self.size = 0
        self.stats = CacheStats()
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
        self.stats.count("hits" if value is not None else "misses")
        return value

    def peek(self, key: str) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
        if value is not None:
            self.stats.count("hits")
        return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_entry_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self.size -= len(old) if old is not None else 0
            self._entries[key] = value
            self.size += len(value)
            while self.size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.size -= len(evicted)
        self.stats.count("stores")

    def clear(self) -> None:
        """Forget every entry and the counts."""
        with self._lock:
            self._entries.clear()
            self.size = 0
        self.stats = CacheStats()


class RedisCache:
    """Entries in Redis under a key prefix, each with a TTL; shared by every worker and replica."""

    in_process = False

    def __init__(self, url: str, prefix: str, ttl_seconds: int, max_entry_bytes: int) -> None:
        import redis

        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.max_entry_bytes = max_entry_bytes
        self.stats = CacheStats()
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def get(self, key: str) -> bytes | None:
        try:
            value: Any = self.client.get(self.prefix + key)
        except self._errors as exc:
            self._failed("get", exc)
            return None
        self.stats.count("hits" if value is not None else "misses")
        return value

    def peek(self, key: str) -> bytes | None:
        return None  # a network round trip: never from the event loop (in_process is False)

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_entry_bytes:
            return
        try:
            self.client.set(self.prefix + key, value, ex=self.ttl_seconds)
        except self._errors as exc:
            self._failed("set", exc)
            return
        self.stats.count("stores")

    def clear(self) -> None:
        """Delete every entry under the prefix (tests and operators; never needed for correctness)."""
        for key in self.client.scan_iter(match=self.prefix + "*", count=500):
            self.client.delete(key)
        self.stats = CacheStats()

    def _failed(self, operation: str, exc: Exception) -> None:
        self.stats.count("errors")
        logger.warning("result cache %s failed, answering without the cache: %s", operation, exc)


class NoCache:
    """RESULT_CACHE_MAX_MB=0: every lookup misses."""

    in_process = True

    def __init__(self) -> None:
        self.stats = CacheStats()

    def get(self, key: str) -> bytes | None:
        self.stats.count("misses")
        return None

    def peek(self, key: str) -> bytes | None:
        return None

    def set(self, key: str, value: bytes) -> None:
        return None

    def clear(self) -> None:
        self.stats = CacheStats()


@lru_cache
def get_cache() -> ResultCache:
    """The process's cache, chosen once from the settings."""
    settings = get_settings()
    max_bytes = settings.RESULT_CACHE_MAX_MB * 1024 * 1024
    if max_bytes == 0:
        return NoCache()
    if settings.REDIS_URL:
        return RedisCache(
            settings.REDIS_URL, settings.RESULT_CACHE_PREFIX, settings.RESULT_CACHE_TTL_SECONDS, max_bytes
        )
    return MemoryCache(max_bytes)


@dataclass(frozen=True)
class CacheKey:
    """One answer's identity: the cache key and, with the representation asked for, its ETag."""

    key: str
    parts: tuple[Any, ...]

    def etag(self, *representation: Any) -> str:
        return freshness.etag(self.key, *representation)


def key_for(state: OrgState, tenant: Tenant, kind: str, *parts: Any) -> CacheKey:
    """The key of an answer of this kind for this request: the org, its data version and settings, and the caller's
    access scope (an embed token's entries are never another scope's) come first."""
    everything = (*state.key_parts(), tenant.access_scope, kind, *parts)
    return CacheKey(f"{state.org_id}:{kind}:{freshness.digest(*everything)}", everything)
