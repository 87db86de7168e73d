"""Credentials are resolved in worker threads, at most CALLER_THREADS of a process at once; the rest wait."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from app.core.config import get_settings
from app.services import auth as auth_service

REQUESTS = 6


def _most_at_once(app, org, monkeypatch, limit: int) -> int:
    """The most credential lookups running at once while REQUESTS requests arrive together."""
    monkeypatch.setattr(get_settings(), "CALLER_THREADS", limit)
    monkeypatch.setattr(get_settings(), "ASYNC_CALLER", False)  # the thread path (Postgres would skip it)
    original = auth_service.resolve_tenant
    lock, running, most = threading.Lock(), [0], [0]

    def slow_resolve(session, claims):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return original(session, claims)

    monkeypatch.setattr(auth_service, "resolve_tenant", slow_resolve)
    headers = org.headers("Viewer")
    with TestClient(app) as client, ThreadPoolExecutor(REQUESTS) as pool:  # the lifespan makes the limiter
        answers = list(pool.map(lambda _: client.get("/auth/me", headers=headers), range(REQUESTS)))
    assert [r.status_code for r in answers] == [200] * REQUESTS
    assert {r.json()["organization"]["id"] for r in answers} == {org.id}
    return most[0]


def test_at_most_caller_threads_resolve_at_once(app, org_a, monkeypatch):
    assert _most_at_once(app, org_a, monkeypatch, 2) == 2


def test_a_larger_limit_lets_more_through(app, org_a, monkeypatch):
    assert _most_at_once(app, org_a, monkeypatch, REQUESTS) > 2
