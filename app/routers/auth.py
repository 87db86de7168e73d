"""Sign-in, token and current-user routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, status

from app.routers.deps import SessionDep, UserTenant
from app.routers.problems import problem_responses
from app.schemas.auth import DevLoginRequest, MeRead, PasswordUpdate, SwitchOrgRequest, TokenRead
from app.services import auth as auth_service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/dev-login", response_model=TokenRead, responses=problem_responses(403, 404))
def dev_login(body: DevLoginRequest, session: SessionDep) -> TokenRead:
    """Development sign-in by email into an org (created with you as Owner if new)."""
    return TokenRead(access_token=auth_service.dev_login(session, body.email, body.org_slug))


@router.post("/token", response_model=TokenRead, responses=problem_responses(401, 403, 429))
def token(
    session: SessionDep,
    username: Annotated[str, Form(description="Email")],
    password: Annotated[str, Form()],
    org_slug: Annotated[str | None, Form()] = None,
) -> TokenRead:
    """OAuth2 password flow (Swagger UI's Authorize button): username is the email; `org_slug` picks the org (your
    first one when omitted; Swagger's form cannot send it: use POST /auth/switch-org, then the BearerToken scheme)."""
    return TokenRead(access_token=auth_service.password_login(session, username, password, org_slug))


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def update_password(body: PasswordUpdate, tenant: UserTenant, session: SessionDep) -> None:
    """Set (or change, with current_password) your password."""
    auth_service.update_password(session, tenant, body.password, body.current_password)


@router.post("/switch-org", response_model=TokenRead)
def switch_org(body: SwitchOrgRequest, tenant: UserTenant, session: SessionDep) -> TokenRead:
    """A new token for another organization you belong to."""
    return TokenRead(access_token=auth_service.switch_org(session, tenant, body.org_slug))


@router.get("/me", response_model=MeRead)
def get_me(tenant: UserTenant, session: SessionDep) -> MeRead:
    """You, the current organization and role, and all your memberships."""
    return auth_service.get_me(session, tenant)
