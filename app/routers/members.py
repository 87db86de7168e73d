"""Organization members and the current organization."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.routers.deps import AdminTenant, Id, OwnerTenant, SessionDep, ViewerTenant
from app.schemas.auth import OrgRead
from app.schemas.members import MemberCreate, MemberRead, MemberUpdate, OrganizationUpdate
from app.services import members as member_service
from app.services import organizations as organization_service

router = APIRouter(tags=["members"])


@router.get("/members", response_model=list[MemberRead])
def list_members(tenant: ViewerTenant, session: SessionDep) -> list[dict]:
    return member_service.list_members(session, tenant)


@router.post("/members", response_model=MemberRead, status_code=status.HTTP_201_CREATED)
def add_member(body: MemberCreate, tenant: AdminTenant, session: SessionDep) -> dict:
    """Add a member (only an Owner grants Owner or Admin)."""
    return member_service.add_member(session, tenant, body.email, body.role)


@router.patch("/members/{user_id}", response_model=MemberRead)
def change_role(user_id: Id, body: MemberUpdate, tenant: AdminTenant, session: SessionDep) -> dict:
    return member_service.change_role(session, tenant, user_id, body.role)


@router.delete("/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(user_id: Id, tenant: AdminTenant, session: SessionDep) -> None:
    member_service.remove_member(session, tenant, user_id)


@router.get("/organizations/current", response_model=OrgRead, tags=["organizations"])
def get_organization(tenant: ViewerTenant, session: SessionDep):
    return organization_service.get_current(session, tenant)


@router.patch("/organizations/current", response_model=OrgRead, tags=["organizations"])
def update_organization(body: OrganizationUpdate, tenant: OwnerTenant, session: SessionDep):
    return organization_service.update_current(session, tenant, body.name)
