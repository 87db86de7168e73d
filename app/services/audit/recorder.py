"""Recording: Session events turn what a transaction writes to the audited models into audit events.

The flush shows what it inserts, updates and deletes (ids known, attribute history still pre-flush); bulk
INSERT/UPDATE/DELETE statements sent through Session.execute are seen in do_orm_execute, where the rows
they touch are read around them. The changes to one entity within one transaction make one event; the
events are inserted just before the commit (all or nothing with the write, append-only) and dropped on
rollback, or back to where a rolled-back savepoint began.
"""

from __future__ import annotations

import copy
import enum
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, event, insert, inspect, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import ORMExecuteState, Session

from app.core import context as request_context
from app.core.security import decrypt_secret
from app.models import AuditEvent
from app.models.base import utcnow
from app.services.audit.rules import CHANGED, CHILDREN, MODEL_OF_TABLE, REMOVED, RULES, SET, Child, Rule, Secret

logger = logging.getLogger("painel.audit")

ACTOR_INFO_KEY = "audit_actor"
_PENDING_KEY = "audit_pending"  # (entity_type, entity_id[, "deleted"]) -> _Event, for the open transaction
_SAVEPOINTS_KEY = "audit_savepoints"  # nested transaction -> copy of the pending events when it began


class ActorType(str, enum.Enum):
    USER = "user"
    API_KEY = "api_key"  # an org API key (actor_api_key_id says which)
    SCHEDULER = "scheduler"
    SYSTEM = "system"  # scripts, seeding: no signed-in caller and no scheduler


@dataclass(frozen=True)
class Actor:
    type: ActorType
    user_id: int | None = None
    api_key_id: int | None = None


def set_actor(
    session: Session, actor_type: ActorType | str, user_id: int | None = None, *, api_key_id: int | None = None
) -> None:
    """Name who the session's writes are made by (requests: the caller; jobs: the scheduler)."""
    session.info[ACTOR_INFO_KEY] = Actor(ActorType(actor_type), user_id, api_key_id)


class AuditBypassError(RuntimeError):
    """A statement would change an audited model in a way the audit trail cannot see (a programming error)."""


# --- Pending events of the open transaction -----------------------------------------------------------------

_ABSENT = object()


@dataclass
class _Event:
    org_id: int
    entity_type: str
    entity_id: int | None
    verb: str  # created / updated / deleted
    actor: Actor
    request_id: str | None
    action_of: Callable[[str, dict[str, Any]], str] | None
    fields: dict[str, list[Any]] = field(default_factory=dict)  # name -> [before, after] (or _ABSENT)
    secrets: dict[str, list[bool]] = field(default_factory=dict)  # name -> [was set, is set]
    tallies: dict[str, Counter] = field(default_factory=dict)  # child collection -> added/updated/removed

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (before, after) in self.fields.items():
            if self.verb == "updated" and before == after:
                continue
            out[name] = {k: v for k, v in (("before", before), ("after", after)) if v is not _ABSENT}
        for name, (was, now) in self.secrets.items():
            marker = CHANGED if was and now else SET if now else REMOVED if was else None
            if marker:
                out[name] = marker
        for name, tally in self.tallies.items():
            if +tally:
                out[name] = dict(sorted((+tally).items()))
        return out

    def action(self) -> str:
        if self.action_of is not None:
            return self.action_of(self.verb, self.changes())
        return f"{self.entity_type}.{self.verb}"


def _pending(session: Session) -> dict[tuple[Any, ...], _Event]:
    return session.info.setdefault(_PENDING_KEY, {})


def _actor(session: Session) -> Actor:
    actor = session.info.get(ACTOR_INFO_KEY)
    if actor is not None:
        return actor
    ctx = request_context.current()
    if ctx is not None and ctx.user_id is not None:
        return Actor(ActorType.USER, ctx.user_id)
    return Actor(ActorType.SYSTEM)


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _event_for(session: Session, rule: Rule, values: dict[str, Any], verb: str) -> _Event | None:
    """The entity's pending event in this transaction (an update merges into it), or a new one."""
    org_id = rule.org_of(session, values)
    if org_id is None:
        logger.warning("audit: %s change without an organization is not recorded", rule.entity_type)
        return None
    entity_id = values.get(rule.id_attr)
    pending = _pending(session)
    if (rule.entity_type, entity_id, "deleted") in pending:
        return None  # deleted in this transaction: its deletion is the last word
    # A deletion is its own event, after any creation or update of the same transaction.
    key: tuple[Any, ...] = (
        (rule.entity_type, entity_id, "deleted") if verb == "deleted" else (rule.entity_type, entity_id)
    )
    if key not in pending:
        pending[key] = _Event(
            org_id, rule.entity_type, entity_id, verb, _actor(session), request_context.request_id(), rule.action_of
        )
    return pending[key]


def _rendered(rule: Rule, attr: str, value: Any) -> Any:
    render = rule.render.get(attr)
    return _jsonable(render(value) if render else value)


def _secret_value(secret: Secret, value: Any) -> Any:
    if value is _ABSENT or not value or not secret.encrypted:
        return value
    try:
        return decrypt_secret(value)
    except ValueError:
        return value  # undecryptable: compared as ciphertext (a change is then reported as one)


def _record_created(session: Session, rule: Rule, values: dict[str, Any]) -> None:
    if "created" not in rule.verbs or (ev := _event_for(session, rule, values, "created")) is None:
        return
    for attr, name in rule.fields.items():
        ev.fields[name] = [_ABSENT, _rendered(rule, attr, values.get(attr))]
    for attr, secret in rule.secrets.items():
        if values.get(attr):
            ev.secrets[secret.name] = [False, True]


def _record_updated(session: Session, rule: Rule, values: dict[str, Any], diffs: dict[str, tuple[Any, Any]]) -> None:
    """diffs: attribute -> (before or _ABSENT when unknown, after), for the attributes that were written."""
    plain = {a: d for a, d in diffs.items() if a in rule.fields}
    plain = {a: d for a, d in plain.items() if _rendered(rule, a, d[0]) != _rendered(rule, a, d[1])}
    secret = {
        a: d
        for a, d in diffs.items()
        if a in rule.secrets and _secret_value(rule.secrets[a], d[0]) != _secret_value(rule.secrets[a], d[1])
    }
    if not (plain or secret) or "updated" not in rule.verbs:
        return
    ev = _event_for(session, rule, values, "updated")
    if ev is None:
        return
    for attr, (before, after) in plain.items():
        name = rule.fields[attr]
        first = ev.fields.get(name, [_rendered(rule, attr, before) if before is not _ABSENT else _ABSENT, None])
        ev.fields[name] = [first[0], _rendered(rule, attr, after)]
    for attr, (before, after) in secret.items():
        name = rule.secrets[attr].name
        default_was = ev.verb != "created" and (before is _ABSENT or bool(before))
        was = bool(ev.secrets.get(name, [default_was, None])[0])
        ev.secrets[name] = [was, bool(after)]


def _record_deleted(session: Session, rule: Rule, values: dict[str, Any]) -> None:
    if "deleted" not in rule.verbs or (ev := _event_for(session, rule, values, "deleted")) is None:
        return
    for attr, name in rule.fields.items():
        ev.fields[name] = [_rendered(rule, attr, values.get(attr)), _ABSENT]


def _record_child(session: Session, child: Child, values: dict[str, Any], what: str) -> None:
    """A row of a parent's collection was added, updated or removed: counted in the parent's event."""
    parent = {"id": values.get(child.parent_attr), "organization_id": values.get("organization_id")}
    ev = _event_for(session, RULES[child.parent], parent, "updated")
    if ev is not None:
        ev.tallies.setdefault(child.collection, Counter())[what] += 1


# --- ORM flushes --------------------------------------------------------------------------------------------


def _state_values(obj: Any, attrs: Iterable[str]) -> dict[str, Any]:
    state = inspect(obj)
    return {a: state.dict[a] if a in state.dict else getattr(obj, a, None) for a in attrs}


def _diffs(obj: Any, attrs: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    state = inspect(obj)
    out = {}
    for attr in attrs:
        history = state.attrs[attr].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else _ABSENT
            out[attr] = (before, history.added[0] if history.added else None)
    return out


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context) -> None:
    """Record what this flush inserted, updated and deleted (ids are known, history is still pre-flush)."""
    for obj in session.new:
        if (rule := RULES.get(type(obj))) is not None:
            _record_created(session, rule, _state_values(obj, rule.attrs(type(obj))))
        elif (child := CHILDREN.get(type(obj))) is not None:
            _record_child(session, child, _state_values(obj, child.attrs(type(obj))), "added")
    for obj in session.dirty:
        if (rule := RULES.get(type(obj))) is not None:
            diffs = _diffs(obj, [*rule.fields, *rule.secrets])
            if diffs:
                _record_updated(session, rule, _state_values(obj, rule.attrs(type(obj))), diffs)
        elif (child := CHILDREN.get(type(obj))) is not None and session.is_modified(obj):
            _record_child(session, child, _state_values(obj, child.attrs(type(obj))), "updated")
    for obj in session.deleted:
        if (rule := RULES.get(type(obj))) is not None:
            _record_deleted(session, rule, _state_values(obj, rule.attrs(type(obj))))
        elif (child := CHILDREN.get(type(obj))) is not None:
            _record_child(session, child, _state_values(obj, child.attrs(type(obj))), "removed")


# --- Statements the flush never sees: INSERT/UPDATE/DELETE sent through Session.execute ---------------------


def _set_keys(state: ORMExecuteState) -> set[str] | None:
    """The columns an UPDATE sets, or None when they cannot be told."""
    values = getattr(state.statement, "_values", None)
    if values:
        return {getattr(k, "key", k) for k in values}
    if isinstance(state.parameters, dict) and state.parameters:
        return set(state.parameters)
    return None


def _rows(session: Session, model: type, attrs: list[str], where) -> list[dict[str, Any]]:
    columns: Any = inspect(model).columns
    stmt = select(*(columns[a] for a in attrs))
    if where is not None:
        stmt = stmt.where(where)
    return [dict(zip(attrs, row, strict=True)) for row in session.execute(stmt)]


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> Any:
    """Record the effect of a bulk statement on an audited model, by reading the rows around it."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    model: type | None
    if state.bind_mapper is not None:
        model = state.bind_mapper.class_
    else:  # a statement on the Table itself
        model = MODEL_OF_TABLE.get(getattr(state.statement, "table", None))
    rule, child = RULES.get(model) if model else None, CHILDREN.get(model) if model else None
    if model is None or (rule is None and child is None):
        return None
    what = "an INSERT" if state.is_insert else "an UPDATE" if state.is_update else "a DELETE"
    if isinstance(state.parameters, list) and len(state.parameters) > 1:
        raise AuditBypassError(f"{what} of many {model.__name__} rows at once is not audited; use the ORM")
    if state.is_insert:
        return _audited_insert(state, model, rule, child)
    where = getattr(state.statement, "whereclause", None)
    if child is not None:
        for row in _rows(state.session, model, child.attrs(model), where):
            _record_child(state.session, child, row, "removed" if state.is_delete else "updated")
        return None
    if rule is None:  # pragma: no cover - one of rule or child is set above
        return None
    if state.is_delete:
        return _audited_delete(state, model, rule, where)
    return _audited_update(state, model, rule, where)


def _audited_insert(state: ORMExecuteState, model: type, rule: Rule | None, child: Child | None) -> Any:
    result: Any = state.invoke_statement()  # a DML cursor result
    if result.rowcount == 0:
        return result  # ON CONFLICT DO NOTHING: nothing was written
    try:
        new_key = result.inserted_primary_key._mapping if result.rowcount == 1 else None
    except InvalidRequestError:
        new_key = None
    if new_key is None or new_key.get("id") is None:
        raise AuditBypassError(f"an INSERT of {model.__name__} without a single new id is not audited")
    # The whole key: a tenant table's is (organization_id, id), which keeps the read on the org's shard.
    columns: Any = inspect(model).columns
    by_id = and_(*(columns[name] == value for name, value in new_key.items()))
    if rule is not None:
        (row,) = _rows(state.session, model, rule.attrs(model), by_id)
        _record_created(state.session, rule, row)
    elif child is not None:
        (row,) = _rows(state.session, model, child.attrs(model), by_id)
        _record_child(state.session, child, row, "added")
    return result


def _audited_delete(state: ORMExecuteState, model: type, rule: Rule, where: Any) -> Any:
    rows = _rows(state.session, model, rule.attrs(model), where)
    result = state.invoke_statement()
    for row in rows:
        _record_deleted(state.session, rule, row)
    return result


def _audited_update(state: ORMExecuteState, model: type, rule: Rule, where: Any) -> Any:
    touched = _set_keys(state)
    recorded = set(rule.fields) | set(rule.secrets)
    touched = recorded if touched is None else touched & recorded
    if not touched or touched <= rule.bulk_side_effects:
        return None
    attrs = rule.attrs(model)
    before = {row["id"]: row for row in _rows(state.session, model, attrs, where)}
    result = state.invoke_statement()
    if before:
        for row in _rows(state.session, model, attrs, inspect(model).columns["id"].in_(list(before))):
            old = before[row["id"]]
            _record_updated(state.session, rule, row, {a: (old[a], row[a]) for a in touched})
    return result


# --- Transaction boundaries: write at the commit, forget on rollback ----------------------------------------


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    """Insert the transaction's events just before it commits, after its last flush."""
    if session.in_nested_transaction():
        return  # a savepoint: the events wait for the real commit
    session.flush()
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    now = utcnow()
    rows = []
    for ev in pending.values():
        changes = ev.changes()
        if ev.verb == "updated" and not changes:
            continue  # changed back within the transaction
        rows.append(
            {
                "organization_id": ev.org_id,
                "created_at": now,
                "actor_user_id": ev.actor.user_id,
                "actor_type": ev.actor.type.value,
                "actor_api_key_id": ev.actor.api_key_id,
                "action": ev.action(),
                "entity_type": ev.entity_type,
                "entity_id": ev.entity_id,
                "changes": changes,
                "request_id": ev.request_id,
            }
        )
    if rows:
        session.connection().execute(insert(AuditEvent), rows)


@event.listens_for(Session, "after_transaction_create")
def _savepoint_begins(session: Session, transaction) -> None:
    if transaction.nested:
        session.info.setdefault(_SAVEPOINTS_KEY, {})[transaction] = copy.deepcopy(session.info.get(_PENDING_KEY, {}))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction) -> None:
    """A rolled-back savepoint takes back the events recorded inside it; a rolled-back transaction all of them."""
    snapshot = session.info.get(_SAVEPOINTS_KEY, {}).pop(previous_transaction, None)
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)
    elif snapshot is not None:
        session.info[_PENDING_KEY] = snapshot


@event.listens_for(Session, "after_transaction_end")
def _transaction_ends(session: Session, transaction) -> None:
    # Savepoint snapshots live until the outer transaction ends (a rollback reads them after this event).
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
        session.info.pop(_SAVEPOINTS_KEY, None)
