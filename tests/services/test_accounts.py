"""Accounts: roles with scopes, lockout, password change, session expiry, the audit log."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.accounts import (
    SessionTimes,
    authenticate,
    change_password,
    create_user,
    is_locked,
    session_has_expired,
)
from survey.services.errors import InvalidInput
from survey.storage import queries
from survey.storage.models import AuditEvent, User
from tests.factories import SmallProvince

PASSWORD = "correct horse battery"


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_passwords_are_stored_as_argon2_hashes_and_creation_is_audited(session: Session):
    user = create_user(session, "chief", PASSWORD)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    [event] = _events(session, "user.created")
    assert event.subject == "user:chief" and event.actor_name == "system"
    assert event.details == {"role": "province_admin", "sector": None, "scope_agency_id": None}


@pytest.mark.parametrize(
    ("role", "sector", "agency", "accepted"),
    [
        ("province_admin", None, False, True),
        ("province_admin", "health", False, False),
        ("sector_admin", "health", False, True),
        ("sector_admin", None, False, False),
        ("sector_admin", None, True, False),
        ("agency_manager", None, True, True),
        ("agency_manager", "health", False, False),
        ("viewer", "health", False, True),
        ("viewer", None, True, True),
        ("viewer", None, False, False),
        ("viewer", "health", True, False),
        ("mayor", None, False, False),
    ],
)
def test_each_role_needs_its_kind_of_scope(
    session: Session, seeded: SmallProvince, role, sector, agency, accepted
):
    agency_id = seeded.department.id if agency else None
    if accepted:
        user = create_user(session, "u1", PASSWORD, role, sector=sector, scope_agency_id=agency_id)
        assert (user.role, user.sector, user.scope_agency_id) == (role, sector, agency_id)
    else:
        with pytest.raises(InvalidInput):
            create_user(session, "u1", PASSWORD, role, sector=sector, scope_agency_id=agency_id)


@pytest.mark.parametrize("password", ["short", "x" * 201, "chief-of-staff"])
def test_weak_passwords_are_refused(session: Session, password: str):
    with pytest.raises(InvalidInput):
        create_user(session, "chief-of-staff", password)


def test_fifth_wrong_password_locks_the_account_even_for_the_right_one(session: Session):
    create_user(session, "chief", PASSWORD)
    now = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    for _ in range(4):
        assert authenticate(session, "chief", "wrong password", now=now) is None
    assert authenticate(session, "chief", PASSWORD, now=now) is not None  # resets the count
    for _ in range(5):
        assert authenticate(session, "chief", "wrong password", now=now) is None
    user = queries.user_by_username(session, "chief")
    assert user is not None and is_locked(user, now)
    assert authenticate(session, "chief", PASSWORD, now=now + dt.timedelta(minutes=14)) is None
    assert authenticate(session, "chief", PASSWORD, now=now + dt.timedelta(minutes=16)) is not None
    [event] = _events(session, "account.locked")
    assert event.subject == "user:chief" and event.details["failures"] == 5


def test_unknown_and_inactive_users_get_the_same_answer(session: Session):
    user = create_user(session, "chief", PASSWORD)
    assert authenticate(session, "nobody", PASSWORD) is None
    user.active = False
    session.commit()
    assert authenticate(session, "chief", PASSWORD) is None


def test_password_change_checks_the_old_one_and_is_audited(session: Session):
    user = create_user(session, "chief", PASSWORD)
    before = user.password_changed_at
    with pytest.raises(InvalidInput):
        change_password(session, user.id, "not the password", "another long secret")
    with pytest.raises(InvalidInput):
        change_password(session, user.id, PASSWORD, PASSWORD)
    with pytest.raises(InvalidInput):
        change_password(session, user.id, PASSWORD, "short")
    change_password(session, user.id, PASSWORD, "another long secret")
    assert authenticate(session, "chief", PASSWORD) is None
    assert authenticate(session, "chief", "another long secret") is not None
    assert user.password_changed_at is not None and before is not None
    assert user.password_changed_at > before
    [event] = _events(session, "password.changed")
    assert event.actor_name == "chief"


def test_sessions_expire_when_idle_too_long_too_old_or_after_a_password_change():
    idle, absolute = dt.timedelta(minutes=30), dt.timedelta(hours=12)
    start = 1_800_000_000.0
    fresh = SessionTimes(signed_in_at=start, last_seen_at=start + 3600)
    assert not session_has_expired(fresh, start + 3600 + 60, idle=idle, absolute=absolute)
    assert session_has_expired(fresh, start + 3600 + 31 * 60, idle=idle, absolute=absolute)
    busy = SessionTimes(signed_in_at=start, last_seen_at=start + 12 * 3600)
    assert session_has_expired(busy, start + 12 * 3600 + 1, idle=idle, absolute=absolute)
    assert session_has_expired(None, start, idle=idle, absolute=absolute)
    changed = dt.datetime.fromtimestamp(start + 10, dt.UTC)
    assert session_has_expired(
        fresh, start + 3600 + 60, idle=idle, absolute=absolute, password_changed_at=changed
    )


def test_audit_service_offers_no_way_to_change_or_delete_events():
    public = {name for name in dir(audit) if not name.startswith("_")}
    verbs = ("update", "delete", "remove", "edit", "change", "purge", "clear")
    assert not [name for name in public if name.lower().startswith(verbs)]
    source = inspect.getsource(queries)
    assert "update(AuditEvent" not in source and "delete(AuditEvent" not in source


def test_audit_rows_cannot_be_changed_through_the_orm_or_the_database(session: Session):
    create_user(session, "chief", PASSWORD)
    [event] = _events(session, "user.created")
    event.subject = "user:someone-else"
    with pytest.raises(audit.AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    session.delete(session.get(AuditEvent, event.id))
    with pytest.raises(audit.AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE audit_event SET subject = 'forged'"))
    session.rollback()
    assert session.get(AuditEvent, event.id).subject == "user:chief"  # type: ignore[union-attr]


def test_audit_records_actor_and_keeps_rows_unchanged_as_actions_go_on(session: Session):
    chief = create_user(session, "chief", PASSWORD)
    snapshot = [
        (e.id, e.occurred_at, e.actor_name, e.action, e.subject, e.details)
        for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]
    create_user(session, "deputy", PASSWORD, actor=chief)
    change_password(session, chief.id, PASSWORD, "another long secret")
    for _ in range(5):
        authenticate(session, "deputy", "wrong password")
    session.expire_all()
    rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.id, e.occurred_at, e.actor_name, e.action, e.subject, e.details) for e in rows][
        : len(snapshot)
    ] == snapshot
    assert [e.action for e in rows] == [
        "user.created",
        "user.created",
        "password.changed",
        "account.locked",
    ]
    assert rows[1].actor_id == chief.id and rows[1].actor_name == "chief"
    page = audit.page_of_events(session, page=1)
    assert page.total == 4 and page.events[0].action == "account.locked"
    assert audit.page_of_events(session, action="user.created").total == 2


def test_details_are_stored_as_plain_json(session: Session):
    event = audit.record(
        session, None, "target.changed", "target:1", {"when": dt.date(2026, 1, 1), "low": 0.8}
    )
    session.commit()
    session.expire_all()
    assert session.get(AuditEvent, event.id).details == {"when": "2026-01-01", "low": 0.8}  # type: ignore[union-attr]


def test_users_keep_their_scope_agency(session: Session, seeded: SmallProvince):
    create_user(
        session, "manager", PASSWORD, "agency_manager", scope_agency_id=seeded.department.id
    )
    [user] = [u for u in queries.all_users(session) if u.username == "manager"]
    assert isinstance(user, User) and user.scope_agency is not None
    assert user.scope_agency.code == "P-TP"
