"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.schemas.health import LivenessRead, ReadinessRead
from app.services import health as health_service

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=LivenessRead)
def liveness() -> LivenessRead:
    """The process is up."""
    return LivenessRead()


@router.get("/ready", response_model=ReadinessRead, responses={503: {"model": ReadinessRead}})
def readiness() -> JSONResponse:
    """The database is reachable and migrated to head (503 otherwise)."""
    result = health_service.get_readiness()
    return JSONResponse(result.model_dump(), status_code=200 if result.ready else 503)
