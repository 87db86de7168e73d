"""All models, imported so Base.metadata knows every table (Alembic relies on it)."""

from app.models.base import Base
from app.models.organization import ROLE_ORDER, Membership, Organization, Role, User

__all__ = ["ROLE_ORDER", "Base", "Membership", "Organization", "Role", "User"]
