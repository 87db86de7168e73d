"""Real `python -m app.serve` processes: metrics summed over 2 workers, JSON log lines from the server and the app,
and rate limits shared through Redis (exactly N allowed across workers and servers, then 429 with Retry-After)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from app.services import rate_limits
from tests import live_server
from tests.conftest import require_service

REDIS_URL = "redis://127.0.0.1:6379/15"
LIMIT = rate_limits.PASSWORD_LOGIN.limit
MAX_TRIES = 200  # bounded: requests sent until both workers have answered some


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the local Redis, deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_service("Redis", f"{REDIS_URL}: {exc}")
    prefix = f"painel-test-{uuid.uuid4().hex[:8]}:"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def json_lines(server: live_server.LiveServer) -> list[dict]:
    return [json.loads(line) for line in server.log_lines() if line.startswith("{")]


def pid_of(server: live_server.LiveServer, request_id: str) -> int | None:
    for line in json_lines(server):
        if line["logger"] == "painel.access" and line["request_id"] == request_id:
            return line["pid"]
    return None


def fresh_get(url: str, **kwargs) -> httpx.Response:
    """One request on a connection of its own, so the kernel may hand it to either worker."""
    return httpx.get(url, headers={"Connection": "close", **kwargs.pop("headers", {})}, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory) -> Iterator[tuple[live_server.LiveServer, str]]:
    """One server with 2 workers, JSON logs, uvicorn's access log on, rate limits in Redis."""
    metrics_dir = tmp_path_factory.mktemp("metrics")
    (metrics_dir / "counter_999999.db").write_bytes(b"samples of a previous run")
    with redis_prefix() as prefix:
        env = {
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
        server = live_server.start(
            workers=2,
            env=env,
            args=("--log-level", "info", "--access-log"),
            log_path=tmp_path_factory.mktemp("logs") / "server.log",
        )
        try:
            live_server.wait_for_log(server, "Application startup complete", count=2)
            assert not (metrics_dir / "counter_999999.db").exists()  # emptied before the workers started
            yield server, prefix
        finally:
            live_server.stop(server)


def test_metrics_sum_every_workers_requests(two_workers):
    server, _ = two_workers
    made, pids = 0, set()
    while (len(pids) < 2 or made < 10) and made < MAX_TRIES:
        request_id = f"metrics-{made}"
        r = fresh_get(f"{server.base_url}/dashboards/{made + 1}", headers={"X-Request-ID": request_id})
        assert r.status_code == 401
        made += 1
        pids.add(pid_of(server, request_id))
    assert len(pids - {None}) == 2, f"only {pids} answered {made} requests"
    scrape = fresh_get(f"{server.base_url}/metrics").text
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
    }
    route = ("route", "/dashboards/{dashboard_id}")
    assert found[("painel_http_requests_total", (("method", "GET"), route, ("status", "401")))] == made
    assert found[("painel_http_request_duration_seconds_count", (("method", "GET"), route))] == made


def test_server_and_app_lines_are_json_with_the_request_context(two_workers):
    server, _ = two_workers
    r = fresh_get(f"{server.base_url}/dashboards/77?token=should-not-leak", headers={"X-Request-ID": "json-line-1"})
    assert r.status_code == 401
    live_server.wait_for_log(server, '"json-line-1"', count=2)  # the app's line and uvicorn's
    lines = json_lines(server)
    assert all(not line.startswith("{") or json.loads(line) for line in server.log_lines())
    (app_line,) = [x for x in lines if x["logger"] == "painel.access" and x["request_id"] == "json-line-1"]
    (server_line,) = [x for x in lines if x["logger"] == "uvicorn.access" and x["request_id"] == "json-line-1"]
    assert (app_line["route"], app_line["method"], app_line["status"], app_line["path"]) == (
        "/dashboards/{dashboard_id}",
        "GET",
        401,
        "/dashboards/77",
    )
    assert app_line["pid"] == server_line["pid"] and server_line["status"] == 401
    assert "should-not-leak" not in json.dumps(server_line)  # the query's token is redacted
    assert {"time", "level", "message", "org_id", "user_id", "duration_ms"} <= set(app_line)
    started = [x for x in lines if x["logger"] == "uvicorn.error" and "Started server process" in x["message"]]
    assert len({x["pid"] for x in started}) == 2


def _sign_in_attempts(base_urls: list[str], email: str, count: int) -> list[tuple[int, str | None, str]]:
    """(status, Retry-After, request id) of `count` wrong-password sign-ins, round robin over base_urls."""
    out = []
    for i in range(count):
        request_id = f"signin-{uuid.uuid4().hex[:12]}"
        r = httpx.post(
            f"{base_urls[i % len(base_urls)]}/auth/token",
            data={"username": email, "password": "not-the-password"},
            headers={"Connection": "close", "X-Request-ID": request_id},
            timeout=30,
        )
        out.append((r.status_code, r.headers.get("Retry-After"), request_id))
    return out


def test_the_sign_in_limit_holds_across_two_workers(two_workers):
    server, prefix = two_workers
    for attempt in range(5):  # until the kernel has spread one email's attempts over both workers
        results = _sign_in_attempts([server.base_url], f"spread-{attempt}@example.com", LIMIT + 2)
        assert [status for status, _, _ in results] == [401] * LIMIT + [429] * 2
        retry_after = [int(value) for _, value, _ in results[LIMIT:] if value is not None]
        assert len(retry_after) == 2 and all(
            1 <= value <= rate_limits.PASSWORD_LOGIN.window_seconds for value in retry_after
        )
        pids = {pid_of(server, request_id) for _, _, request_id in results}
        if len(pids - {None}) == 2:
            break
    else:
        pytest.fail("5 rounds of sign-ins were all answered by one worker")
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{prefix}ratelimit:password-login:*")
    assert len(keys) == attempt + 1  # one key per email, hashed: no address in Redis
    assert not [key for key in keys if b"example.com" in key]


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "per-process"])
def test_two_servers_share_the_limit_only_through_redis(shared, tmp_path):
    with redis_prefix() as prefix:
        env = {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix} if shared else {"REDIS_URL": ""}
        with live_server.running(2, env=env) as servers:
            results = _sign_in_attempts([s.base_url for s in servers], "two-servers@example.com", 2 * LIMIT + 2)
    statuses = [status for status, _, _ in results]
    if shared:  # alternating A, B, A, B ...: the 11th attempt overall is refused, on whichever server
        assert statuses == [401] * LIMIT + [429] * (LIMIT + 2)
    else:  # without Redis each process counts its own: 10 per server (the documented per-process behaviour)
        assert statuses == [401] * (2 * LIMIT) + [429] * 2
    assert all(value is not None for status, value, _ in results if status == 429)
