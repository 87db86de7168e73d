"""What the audit trail records: the audited models, the fields recorded with before/after, the secret fields
recorded only as set/changed/removed, and how each entity is named and attributed to an organization."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.core.db import ORG_INFO_KEY
from app.models import (
    ApiKey,
    CustomIndicator,
    Dashboard,
    DataSource,
    GoogleCredential,
    IngestionBatch,
    Membership,
    Organization,
    User,
    Widget,
)
from app.services import connections

SET, CHANGED, REMOVED = "set", "changed", "removed"


@dataclass(frozen=True)
class Secret:
    """A secret column: only whether it was set, changed or removed is recorded, never a value."""

    name: str
    encrypted: bool = True  # Fernet: equal secrets have different ciphertexts, so compare the plaintexts


def _own_org(_session: Session, values: dict[str, Any]) -> int | None:
    return values.get("organization_id")


def _org_itself(_session: Session, values: dict[str, Any]) -> int | None:
    return values.get("id")


def _session_org(session: Session, _values: dict[str, Any]) -> int | None:
    # A user belongs to no organization: the change is recorded in the org the session works for.
    return session.info.get(ORG_INFO_KEY)


def _public_config(config: Any) -> Any:
    # The stored URL carries no password (it is in secret_encrypted); masking it anyway costs nothing.
    if isinstance(config, dict) and isinstance(config.get("sqlalchemy_url"), str):
        return {**config, "sqlalchemy_url": connections.mask_url(config["sqlalchemy_url"])}
    return config


def _user_action(verb: str, secrets: dict[str, Any]) -> str:
    return "user.password_changed" if "password" in secrets else f"user.{verb}"


def _batch_action(verb: str, changes: dict[str, Any]) -> str:
    return "batch.restored" if verb == "updated" and "restored_at" in changes else f"batch.{verb}"


def _organization_action(verb: str, changes: dict[str, Any]) -> str:
    return "organization.embed_tokens_revoked" if "embed_signing_key" in changes else f"organization.{verb}"


@dataclass(frozen=True)
class Rule:
    entity_type: str
    fields: dict[str, str]  # attribute -> name in `changes`, recorded with before/after
    secrets: dict[str, Secret] = field(default_factory=dict)
    id_attr: str = "id"  # the id the API knows the entity by
    verbs: frozenset[str] = frozenset({"created", "updated", "deleted"})
    org_of: Callable[[Session, dict[str, Any]], int | None] = _own_org
    render: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    # Fields a bulk UPDATE may change without an event: the event of the write that caused it says it.
    bulk_side_effects: frozenset[str] = frozenset()
    action_of: Callable[[str, dict[str, Any]], str] | None = None

    def attrs(self, model: type) -> list[str]:
        """Every attribute needed to record an event: the entity's ids and the recorded fields."""
        wanted = ["id", "organization_id", self.id_attr, *self.fields, *self.secrets]
        known: list[str] = list(inspect(model).columns.keys())
        return [a for a in dict.fromkeys(wanted) if a in known]


@dataclass(frozen=True)
class Child:
    """Rows that are part of a parent entity (a dashboard's widgets): counted in the parent's event."""

    parent: type
    parent_attr: str
    collection: str

    def attrs(self, model: type) -> list[str]:
        return ["id", "organization_id", self.parent_attr]


RULES: dict[type, Rule] = {
    Organization: Rule(
        "organization",
        {
            "name": "name",
            "slug": "slug",
            "timezone": "timezone",
            "fiscal_year_start_month": "fiscal_year_start_month",
        },
        # The salt of the key that signs embed tokens: only "set"/"changed" is recorded (revoke-all).
        secrets={"embed_token_salt": Secret("embed_signing_key", encrypted=False)},
        verbs=frozenset({"created", "updated"}),
        org_of=_org_itself,
        action_of=_organization_action,
    ),
    User: Rule(
        "user",
        {"email": "email"},
        secrets={"hashed_password": Secret("password", encrypted=False)},
        verbs=frozenset({"updated"}),  # users are created by sign-ins and member.created; never deleted
        org_of=_session_org,
        action_of=_user_action,
    ),
    Membership: Rule("member", {"user_id": "user_id", "role": "role"}, id_attr="user_id"),
    DataSource: Rule(
        "datasource",
        {
            "name": "name",
            "type": "type",
            "config_json": "config",
            "is_recurring": "is_recurring",
            "interval_minutes": "interval_minutes",
        },
        secrets={"secret_encrypted": Secret("secret")},
        render={"config_json": _public_config},
    ),
    GoogleCredential: Rule(
        "google_credential",
        {"kind": "kind", "client_email": "client_email"},
        secrets={"secret_encrypted": Secret("credentials")},
    ),
    IngestionBatch: Rule(
        "batch",
        {
            "data_source_id": "data_source_id",
            "status": "status",
            "file_name": "file_name",
            "content_sha256": "content_sha256",
            "rows_received": "rows_received",
            "rows_loaded": "rows_loaded",
            "rows_rejected": "rows_rejected",
            "mode": "mode",
            "error": "error",
            "restored_at": "restored_at",
        },
        # Superseded by a new or restored batch, whose own event says so.
        bulk_side_effects=frozenset({"status"}),
        action_of=_batch_action,
    ),
    Dashboard: Rule("dashboard", {"name": "name", "description": "description"}),
    # The key's digest is never recorded; last_used_at changes are not events (no "updated" verb).
    ApiKey: Rule(
        "api_key",
        {"name": "name", "role": "role", "prefix": "prefix", "expires_at": "expires_at"},
        verbs=frozenset({"created", "deleted"}),
    ),
    CustomIndicator: Rule(
        "custom_indicator", {"name": "name", "description": "description", "sql": "sql", "parameters": "parameters"}
    ),
}
CHILDREN: dict[type, Child] = {Widget: Child(Dashboard, "dashboard_id", "widgets")}
MODEL_OF_TABLE: dict[Any, type] = {inspect(model).local_table: model for model in (*RULES, *CHILDREN)}
