"""Signed embed tokens: show dashboards inside a customer's own app without a Painel sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.routers.deps import AdminTenant, EditorTenant, SessionDep
from app.routers.problems import problem_responses
from app.schemas.embed import EmbedTokenRead, EmbedTokenRequest
from app.services import embed as embed_service

router = APIRouter(prefix="/embed", tags=["embed"])


@router.post("/tokens", response_model=EmbedTokenRead, responses=problem_responses(404))
def create_embed_token(
    body: EmbedTokenRequest, tenant: EditorTenant, session: SessionDep, response: Response
) -> EmbedTokenRead:
    """A short-lived token that reads only these dashboards (GET /dashboards/{id} and /data), with `filters` locked:
    a query cannot widen them. It stops working when it expires, on revoke-all, or when its creator loses Editor
    access."""
    response.headers["Cache-Control"] = "no-store"  # the answer carries a credential
    return embed_service.create_embed_token(session, tenant, body)


@router.post("/tokens/revoke-all", status_code=status.HTTP_204_NO_CONTENT)
def revoke_all_embed_tokens(tenant: AdminTenant, session: SessionDep) -> None:
    """Invalidate every embed token of the organization at once (their signing key changes)."""
    embed_service.revoke_all_embed_tokens(session, tenant)
