"""Organization members and the current organization."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.routers.deps import AdminUserTenant, Id, OwnerTenant, Paging, SessionDep, ViewerTenant
from app.schemas.common import Page
from app.schemas.members import MemberCreate, MemberRead, MemberUpdate, OrganizationRead, OrganizationUpdate
from app.services import members as member_service
from app.services import organizations as organization_service

router = APIRouter(tags=["members"])


@router.get("/members", response_model=Page[MemberRead])
def list_members(tenant: ViewerTenant, session: SessionDep, page: Paging) -> Page[MemberRead]:
    """The organization's members, by email."""
    return member_service.list_members(session, tenant, page)


@router.post("/members", response_model=MemberRead, status_code=status.HTTP_201_CREATED)
def create_member(body: MemberCreate, tenant: AdminUserTenant, session: SessionDep) -> MemberRead:
    """Add a member (only an Owner grants Owner or Admin)."""
    return member_service.create_member(session, tenant, body)


@router.patch("/members/{user_id}", response_model=MemberRead)
def update_member(user_id: Id, body: MemberUpdate, tenant: AdminUserTenant, session: SessionDep) -> MemberRead:
    """Change a member's role (only an Owner changes Owner or Admin roles; one Owner always stays)."""
    return member_service.update_member(session, tenant, user_id, body)


@router.delete("/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_member(user_id: Id, tenant: AdminUserTenant, session: SessionDep) -> None:
    """Remove a member (never the last Owner)."""
    member_service.delete_member(session, tenant, user_id)


@router.get("/organizations/current", response_model=OrganizationRead, tags=["organizations"])
def get_organization(tenant: ViewerTenant, session: SessionDep) -> OrganizationRead:
    return organization_service.get_organization(session, tenant)


@router.patch("/organizations/current", response_model=OrganizationRead, tags=["organizations"])
def update_organization(body: OrganizationUpdate, tenant: OwnerTenant, session: SessionDep) -> OrganizationRead:
    return organization_service.update_organization(session, tenant, body)
