"""Prometheus metrics: what the process counts, and the /metrics exposition.

With several workers (`python -m app.serve --workers N`), PROMETHEUS_MULTIPROC_DIR is set before any worker
starts: each process writes its samples to files there and a scrape, whichever worker answers it, sums them all
(prometheus_client's multiprocess mode). Without it (tests, `uvicorn app.main:app`) the process's own registry
answers. Label values are bounded: route templates (never raw paths), known methods, status codes.
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Callable, Iterable
from functools import wraps
from time import perf_counter
from typing import Any, ParamSpec, Protocol, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

from app.core.config import get_settings
from app.core.errors import AppError, NotFound, Unauthorized

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "<unmatched>"  # any path no route matched: one label value, not one per path
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "painel_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "painel_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ROWS_LOADED = Counter("painel_ingest_rows_loaded", "Rows loaded into facts by the ingestion pipeline.")
ROWS_REJECTED = Counter("painel_ingest_rows_rejected", "Rows rejected by the ingestion pipeline.")
_LONG_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
BATCH_SECONDS = Histogram(
    "painel_ingest_batch_duration_seconds",
    "Duration of ingestion batches by outcome (loaded, dry_run, failed).",
    ["status"],
    buckets=_LONG_BUCKETS,
)
JOB_RUN_SECONDS = Histogram(
    "painel_job_run_duration_seconds",
    "Duration of data source runs by final status (success, failed, skipped).",
    ["status"],
    buckets=_LONG_BUCKETS,
)
SCHEDULER_TICKS = Counter("painel_scheduler_ticks", "Scheduler ticks run (each looks for due sources).")
RETENTION_ROWS = Counter(
    "painel_retention_rows_removed",
    "Staging and rejected rows removed by retention (RETENTION_DAYS), by table.",
    ["table"],
)
DB_POOL_IN_USE = Gauge(
    "painel_db_pool_connections_in_use",
    "Application database connections checked out of the SQLAlchemy pool (summed over live workers).",
    multiprocess_mode="livesum",
)

# (route, method, status) -> its counter and histogram children: labels() once per combination, not per request.
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    if method not in KNOWN_METHODS:
        method = "OTHER"  # an arbitrary method token must not create a new series
    key = (route, method, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(route, method, str(status)), REQUEST_SECONDS.labels(route, method))
        _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


class BatchOutcome(Protocol):
    """What a batch report says about a load (app.schemas.ingest.BatchReportRead)."""

    status: str
    dry_run: bool
    rows_loaded: int
    rows_rejected: int


P = ParamSpec("P")
B = TypeVar("B", bound=BatchOutcome)


def observe_batch(load: Callable[P, B]) -> Callable[P, B]:
    """Decorate the pipeline's load: its duration by outcome, and the rows it loaded and rejected (dry runs
    store nothing, so they count no rows)."""

    @wraps(load)
    def observed(*args: P.args, **kwargs: P.kwargs) -> B:
        started = perf_counter()
        try:
            report = load(*args, **kwargs)
        except BaseException:
            BATCH_SECONDS.labels("failed").observe(perf_counter() - started)
            raise
        BATCH_SECONDS.labels(report.status).observe(perf_counter() - started)
        if not report.dry_run:
            ROWS_LOADED.inc(report.rows_loaded)
            ROWS_REJECTED.inc(report.rows_rejected)
        return report

    return observed


def observe_job_run(status: str, seconds: float) -> None:
    """Record the duration of one data source run by its final status."""
    JOB_RUN_SECONDS.labels(status).observe(seconds)


def count_tick() -> None:
    SCHEDULER_TICKS.inc()


def count_retention(staging_rows: int, rejected_rows: int) -> None:
    """Record the rows one retention run removed."""
    RETENTION_ROWS.labels("staging_rows").inc(staging_rows)
    RETENTION_ROWS.labels("rejected_rows").inc(rejected_rows)


def watch_pool(engine: Engine) -> None:
    """Keep DB_POOL_IN_USE equal to the connections checked out of the engine's pool."""
    event.listen(engine, "checkout", lambda *_: DB_POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: DB_POOL_IN_USE.dec())


def process_exiting() -> None:
    """Drop this worker's live gauges from the shared directory (its counters and histograms stay summed)."""
    if is_multiprocess():
        multiprocess.mark_process_dead(os.getpid())


# --- Exposition ------------------------------------------------------------------------------------------------


def check_scrape_access(authorization: str | None) -> None:
    """With METRICS_TOKEN, a scrape needs `Authorization: Bearer <token>` (401 otherwise); without it, /metrics
    is open outside production and does not exist (404) in production."""
    settings = get_settings()
    token = settings.METRICS_TOKEN
    if token is None:
        if settings.is_production:
            raise NotFound("Not Found")
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthorized("Send 'Authorization: Bearer <METRICS_TOKEN>' to read the metrics", code="metrics_token")


def render() -> bytes:
    """The Prometheus text exposition: every worker's samples in multiprocess mode, else this process's."""
    if is_multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def scrape(authorization: str | None) -> bytes:
    """GET /metrics: check the caller, then render."""
    check_scrape_access(authorization)
    return render()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_metrics_server(host: str, port: int) -> WSGIServer:
    """Serve GET /metrics (same access rule) from a daemon thread: for processes without the API, such as
    `python -m app.cron --metrics-port`."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            if environ.get("PATH_INFO") != "/metrics":
                raise NotFound("Not Found")
            body = scrape(environ.get("HTTP_AUTHORIZATION"))
        except AppError as exc:
            start_response(f"{exc.status_code} {exc.title}", [("Content-Type", "text/plain; charset=utf-8")])
            return [exc.detail.encode()]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [body]

    server = make_server(host, port, application, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="painel-metrics", daemon=True).start()
    return server
