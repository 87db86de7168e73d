"""GET /metrics: Prometheus text format (METRICS_TOKEN as a Bearer token; without one, open outside production)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.core import metrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def get_metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
    """Every worker's request, ingestion, job, scheduler and pool metrics."""
    return Response(metrics.scrape(authorization), media_type=CONTENT_TYPE_LATEST)
