"""The audit trail: every write to an audited model lands in audit_events, in the same transaction.

Services do not call it, so they cannot forget it: Session events, registered once when app.services is
imported, record the writes to the models listed in rules.RULES (recorder). The actor is read from
session.info (set_actor: get_tenant for requests, the run path for jobs), the request id from
app.core.context. log answers GET /audit.
"""

from app.services.audit.log import AuditFilter, list_events
from app.services.audit.recorder import Actor, ActorType, AuditBypassError, set_actor

__all__ = ["Actor", "ActorType", "AuditBypassError", "AuditFilter", "list_events", "set_actor"]
