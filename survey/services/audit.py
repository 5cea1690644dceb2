"""The append-only audit log of administrative actions.

``record`` is the only way in, and this module offers no way to change or remove an event:

* the ORM refuses to flush a changed or deleted ``AuditEvent`` (``AuditLogIsAppendOnly``);
* the database refuses ``UPDATE`` (migration 0003), ``DELETE`` and, on PostgreSQL, ``TRUNCATE``
  (migration 0004) on ``audit_event``, with triggers.

Actions in use (``noun.verb``): ``user.created``, ``user.disabled``, ``user.enabled``,
``user.unlocked``, ``user.role_changed``, ``user.signed_out``, ``password.changed``,
``password.reset``, ``sign_in.succeeded``, ``sign_in.failed`` (by ``anonymous``: the username
typed, the address and the reason, never the password), ``comments.purged``; colleagues add e.g.
``target.changed``, ``service_point.retired``, ``kiosk.registered``, ``kiosk.revoked``,
``response.excluded``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from survey.storage import queries
from survey.storage.models import AuditEvent

__all__ = [
    "ANONYMOUS",
    "SYSTEM_ACTOR",
    "AuditLogIsAppendOnly",
    "AuditPage",
    "page_of_events",
    "record",
]

SYSTEM_ACTOR = "system"
PAGE_SIZE = 50


class Actor(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class _Anonymous:
    id: None = None
    username: str = "anonymous"


ANONYMOUS = _Anonymous()  # the actor of what someone not signed in did (a failed sign-in)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the log in the caller's transaction (the caller commits with its change).

    ``actor`` is the signed-in user (a ``User`` or Flask-Login's user: anything with ``id`` and
    ``username``), ``ANONYMOUS`` for someone not signed in, or None for the command line and the
    system itself. ``subject`` names what was
    acted on, e.g. ``"kiosk:12"`` or ``"user:hoa.nguyen"``. ``details`` must be JSON-like; dates
    and other values are stored as their text.
    """
    if not action or len(action) > 60:
        raise ValueError("action must be a short name such as 'kiosk.revoked'")
    plain = json.loads(json.dumps(details or {}, default=str, ensure_ascii=False))
    return queries.add_audit_event(
        session,
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor.username if actor is not None else SYSTEM_ACTOR)[:80],
        action=action,
        subject=subject[:300],
        details=plain,
    )


@dataclass(frozen=True)
class AuditPage:
    events: Sequence[AuditEvent]
    page: int
    pages: int
    total: int
    action: str | None
    actions: Sequence[str]


def page_of_events(session: Session, page: int = 1, action: str | None = None) -> AuditPage:
    """Newest first, ``PAGE_SIZE`` per page, optionally only one action."""
    action = action or None
    total = queries.count_audit_events(session, action)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    events = queries.audit_events(session, PAGE_SIZE, (page - 1) * PAGE_SIZE, action)
    return AuditPage(events, page, pages, total, action, queries.audit_actions(session))


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_audit_events(session: Session, _context: Any, _instances: Any) -> None:
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEvent) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise AuditLogIsAppendOnly("audit events are append-only")


def record_by_user_id(
    session: Session,
    user_id: int | None,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """``record`` for services that know the acting user by id only."""
    actor = queries.user_by_id(session, user_id) if user_id is not None else None
    return record(session, actor, action, subject, details)
