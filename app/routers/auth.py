"""Sign-in, token and current-user routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, status

from app.routers.deps import CurrentTenant, SessionDep
from app.schemas.auth import DevLoginIn, MeOut, PasswordIn, SwitchOrgIn, TokenOut
from app.services import auth as auth_service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/dev-login", response_model=TokenOut)
def dev_login(body: DevLoginIn, session: SessionDep) -> TokenOut:
    """Development sign-in by email into an org (created with you as Owner if new)."""
    return TokenOut(access_token=auth_service.dev_login(session, body.email, body.org_slug))


@router.post("/token", response_model=TokenOut)
def token(
    session: SessionDep,
    username: Annotated[str, Form(description="Email")],
    password: Annotated[str, Form()],
    org_slug: Annotated[str | None, Form()] = None,
) -> TokenOut:
    """OAuth2 password flow (Swagger UI's Authorize button): username is the email."""
    return TokenOut(access_token=auth_service.password_login(session, username, password, org_slug))


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def set_password(body: PasswordIn, tenant: CurrentTenant, session: SessionDep) -> None:
    """Set (or change, with current_password) your password."""
    auth_service.set_password(session, tenant, body.password, body.current_password)


@router.post("/switch-org", response_model=TokenOut)
def switch_org(body: SwitchOrgIn, tenant: CurrentTenant, session: SessionDep) -> TokenOut:
    """A new token for another organization you belong to."""
    return TokenOut(access_token=auth_service.switch_org(session, tenant, body.org_slug))


@router.get("/me", response_model=MeOut)
def me(tenant: CurrentTenant, session: SessionDep) -> dict:
    """You, the current organization and role, and all your memberships."""
    return auth_service.me(session, tenant)
