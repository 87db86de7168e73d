"""Business logic. Importing any service registers the audit trail on every Session (see audit)."""

from app.services import audit as _audit  # noqa: F401  registers the Session events, once
