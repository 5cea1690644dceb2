"""Accounts: usernames, the password policy, roles with scopes, the sign-in back-off, password
change and reset, session revocation and expiry, the audit log."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.accounts import (
    LastProvinceAdministrator,
    SessionTimes,
    SignInBackOff,
    SignInDelayed,
    authenticate,
    change_password,
    change_role,
    create_user,
    lift_sign_in_delays,
    reset_password,
    session_has_expired,
    set_active,
    sign_out,
)
from survey.services.errors import InvalidInput
from survey.storage import queries
from survey.storage.models import AuditEvent, User
from tests.factories import SmallProvince

PASSWORD = "correct horse battery"
HOME, ATTACKER = "198.51.100.7", "203.0.113.66"
MONDAY = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)


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
        user = create_user(
            session, "user1", PASSWORD, role, sector=sector, scope_agency_id=agency_id
        )
        assert (user.role, user.sector, user.scope_agency_id) == (role, sector, agency_id)
    else:
        with pytest.raises(InvalidInput):
            create_user(session, "user1", PASSWORD, role, sector=sector, scope_agency_id=agency_id)


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "x" * 201,
        "chief-of-staff",
        "Password123!",
        "elevenchars",
        "password1234",
        "iloveyou2024",
        "matkhau12345",
        "anhyeuem1234",
        "aaaaaaaaaaaa",
        "abcabcabcabcabc",
        "123456789012",
        "abcdefghijkl",
        "qwertyuiopasdf",
        "Chief-Of-Staff-And-More",  # contains the username
    ],
)
def test_weak_passwords_are_refused_in_both_languages(session: Session, password: str):
    with pytest.raises(InvalidInput) as refused:
        create_user(session, "chief-of-staff", password)
    assert refused.value.message_vi and refused.value.message_en
    assert refused.value.message_vi != refused.value.message_en


@pytest.mark.parametrize(
    "password", ["correct horse battery", "zebra drinks morning coffee", "Hà Giang 1975 mây trắng"]
)
def test_long_unusual_passwords_are_accepted(session: Session, password: str):
    assert create_user(session, "chief", password).password_hash.startswith("$argon2id$")


def test_usernames_are_one_account_regardless_of_case(session: Session):
    user = create_user(session, "  Hoa.Nguyen ", PASSWORD)
    assert user.username == "hoa.nguyen"
    with pytest.raises(InvalidInput, match="already exists"):
        create_user(session, "HOA.NGUYEN", PASSWORD)
    assert authenticate(session, "Hoa.Nguyen", PASSWORD, address=HOME) is not None


@pytest.mark.parametrize(
    "username", ["<b>x</b>", "hoa nguyen", "ab", "x" * 41, "hòa", "a/b", "a\x00b", "", "   "]
)
def test_usernames_outside_the_safe_characters_are_refused(session: Session, username: str):
    with pytest.raises(InvalidInput, match="3 to 40 characters"):
        create_user(session, username, PASSWORD)


def test_the_database_refuses_a_username_in_upper_case(session: Session):
    user = create_user(session, "hoa", PASSWORD)
    with pytest.raises(DBAPIError):
        session.execute(
            text("UPDATE app_user SET username = 'Hoa' WHERE id = :id"), {"id": user.id}
        )
    session.rollback()


def _guess(session: Session, times: int, when: dt.datetime, address: str = ATTACKER) -> list[str]:
    outcomes = []
    for n in range(times):
        try:
            found = authenticate(session, "chief", f"guess {n}", address=address, now=when)
        except SignInDelayed:
            outcomes.append("delayed")
        else:
            outcomes.append("refused" if found is None else "signed in")
    return outcomes


def test_failures_slow_only_the_address_they_come_from(session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    assert _guess(session, 5, MONDAY) == ["refused"] * 5
    assert _guess(session, 15, MONDAY) == ["delayed"] * 15  # not counted, not even checked
    with pytest.raises(SignInDelayed):
        authenticate(session, "chief", PASSWORD, address=ATTACKER, now=MONDAY)
    assert authenticate(session, "chief", PASSWORD, address=HOME, now=MONDAY) is not None


def test_the_delay_doubles_with_each_failure_after_the_fifth(session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    when = MONDAY
    _guess(session, 5, when)
    for minutes in (1, 2, 4, 8):
        with pytest.raises(SignInDelayed) as delayed:
            authenticate(session, "chief", "guess", address=ATTACKER, now=when)
        assert delayed.value.retry_after == minutes * 60
        assert "phút" in delayed.value.message_vi and "minute" in delayed.value.message_en
        when += dt.timedelta(minutes=minutes, seconds=1)
        assert _guess(session, 1, when - dt.timedelta(seconds=2)) == ["delayed"]
        assert _guess(session, 1, when) == ["refused"]
    # A day without failures: the count starts over.
    assert _guess(session, 5, when + dt.timedelta(days=1, hours=1)) == ["refused"] * 5


def test_a_success_from_the_address_clears_its_count(session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    assert _guess(session, 4, MONDAY, HOME) == ["refused"] * 4
    assert authenticate(session, "chief", PASSWORD, address=HOME, now=MONDAY) is not None
    session.commit()  # each sign-in is a request of its own
    assert _guess(session, 4, MONDAY, HOME) == ["refused"] * 4


def test_an_ipv6_network_counts_as_one_address(session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    for n in range(5):  # a new address of the same /64 for each guess
        address = f"2001:db8:1:2::{n + 1:x}"
        assert authenticate(session, "chief", "guess", address=address, now=MONDAY) is None
    with pytest.raises(SignInDelayed):
        authenticate(session, "chief", PASSWORD, address="2001:db8:1:2:ffff::9", now=MONDAY)
    assert authenticate(session, "chief", PASSWORD, address="2001:db8:1:3::1", now=MONDAY)


def test_a_distributed_guess_is_slowed_but_known_addresses_go_on(session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    rules = SignInBackOff(account_ceiling=10, account_spacing=dt.timedelta(seconds=10))
    assert authenticate(session, "chief", PASSWORD, address=HOME, now=MONDAY, back_off=rules)
    session.commit()  # each sign-in is a request of its own
    for n in range(10):  # ten addresses, one guess each: no address reaches its own limit
        authenticate(session, "chief", "guess", address=f"192.0.2.{n}", now=MONDAY, back_off=rules)
    with pytest.raises(SignInDelayed) as delayed:
        authenticate(session, "chief", "guess", address="192.0.2.200", now=MONDAY, back_off=rules)
    assert delayed.value.retry_after == 10
    later = MONDAY + dt.timedelta(seconds=11)
    assert (
        authenticate(session, "chief", "guess", address="192.0.2.201", now=later, back_off=rules)
        is None
    )
    with pytest.raises(SignInDelayed):  # one try per 10 s from new addresses
        authenticate(session, "chief", "guess", address="192.0.2.202", now=later, back_off=rules)
    # The official's usual address is not slowed.
    assert authenticate(session, "chief", PASSWORD, address=HOME, now=later, back_off=rules)


def test_unknown_usernames_are_slowed_like_real_ones(session: Session):
    outcomes = []
    for n in range(7):
        try:
            authenticate(session, "ghost", f"guess {n}", address=ATTACKER, now=MONDAY)
            outcomes.append("refused")
        except SignInDelayed:
            outcomes.append("delayed")
    assert outcomes == ["refused"] * 5 + ["delayed"] * 2


def test_an_administrator_lifts_the_delays(session: Session):
    chief = create_user(session, "chief", PASSWORD)
    session.commit()
    admin = create_user(session, "deputy", PASSWORD)
    session.commit()
    _guess(session, 6, MONDAY)
    lift_sign_in_delays(session, admin, chief.id)
    assert authenticate(session, "chief", PASSWORD, address=ATTACKER, now=MONDAY) is not None
    [event] = _events(session, "user.unlocked")
    assert event.actor_name == "deputy" and event.subject == "user:chief"


def test_unknown_and_inactive_users_get_the_same_answer(session: Session):
    user = create_user(session, "chief", PASSWORD)
    session.commit()
    assert authenticate(session, "nobody", PASSWORD) is None
    user.active = False
    session.commit()
    assert authenticate(session, "chief", PASSWORD) is None


def test_password_change_checks_the_old_one_and_is_audited(session: Session):
    user = create_user(session, "chief", PASSWORD)
    session.commit()
    before = user.password_changed_at
    with pytest.raises(InvalidInput):
        change_password(session, user.id, "not the password", "another long secret")
    with pytest.raises(InvalidInput):
        change_password(session, user.id, PASSWORD, PASSWORD)
    with pytest.raises(InvalidInput):
        change_password(session, user.id, PASSWORD, "short")
    change_password(session, user.id, PASSWORD, "another long secret")
    session.commit()
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
    session.commit()
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
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM audit_event"))
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event.id})
    session.rollback()
    assert session.get(AuditEvent, event.id).subject == "user:chief"  # type: ignore[union-attr]


def test_audit_log_cannot_be_truncated_on_postgresql(session: Session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite has none)")
    create_user(session, "chief", PASSWORD)
    session.commit()
    for statement in ("TRUNCATE audit_event", "TRUNCATE app_user, audit_event CASCADE"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert len(_events(session, "user.created")) == 1


def test_audit_records_actor_and_keeps_rows_unchanged_as_actions_go_on(session: Session):
    chief = create_user(session, "chief", PASSWORD)
    session.commit()
    snapshot = [
        (e.id, e.occurred_at, e.actor_name, e.action, e.subject, e.details)
        for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]
    create_user(session, "deputy", PASSWORD, actor=chief)
    session.commit()
    change_password(session, chief.id, PASSWORD, "another long secret")
    session.commit()
    for _ in range(2):
        authenticate(session, "deputy", "wrong password", address=ATTACKER)
    authenticate(session, "deputy", PASSWORD, address=HOME)
    session.expire_all()
    rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.id, e.occurred_at, e.actor_name, e.action, e.subject, e.details) for e in rows][
        : len(snapshot)
    ] == snapshot
    assert [e.action for e in rows] == [
        "user.created",
        "user.created",
        "password.changed",
        "sign_in.failed",
        "sign_in.failed",
        "sign_in.succeeded",
    ]
    assert rows[1].actor_id == chief.id and rows[1].actor_name == "chief"
    assert rows[3].actor_name == "anonymous" and rows[3].actor_id is None
    assert rows[3].details == {
        "address": ATTACKER,
        "reason": "wrong_password",
        "failures": 1,
    }
    assert rows[5].actor_name == "deputy" and rows[5].details == {"address": HOME}
    page = audit.page_of_events(session, page=1)
    assert page.total == 6 and page.events[0].action == "sign_in.succeeded"
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


def _epoch(session: Session, user_id: int) -> int:
    session.expire_all()
    user = queries.user_by_id(session, user_id)
    assert user is not None
    return user.session_epoch


def test_sign_out_password_change_and_disabling_revoke_every_session(session: Session):
    chief = create_user(session, "chief", PASSWORD)
    clerk = create_user(session, "clerk", PASSWORD)
    epochs = [_epoch(session, clerk.id)]
    sign_out(session, clerk.id)
    epochs.append(_epoch(session, clerk.id))
    change_password(session, clerk.id, PASSWORD, "another long secret")
    epochs.append(_epoch(session, clerk.id))
    set_active(session, chief, clerk.id, active=False)
    epochs.append(_epoch(session, clerk.id))
    set_active(session, chief, clerk.id, active=True)  # enabling gives back no old session
    epochs.append(_epoch(session, clerk.id))
    assert epochs == [0, 1, 2, 3, 3]
    assert [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))][2:] == [
        "user.signed_out",
        "password.changed",
        "user.disabled",
        "user.enabled",
    ]


def test_a_reset_password_must_be_changed_and_is_not_in_the_audit_log(session: Session):
    chief = create_user(session, "chief", PASSWORD)
    clerk = create_user(session, "clerk", PASSWORD)
    temporary = reset_password(session, chief, clerk.id)
    assert len(temporary) >= 12
    session.expire_all()
    user = authenticate(session, "clerk", temporary, address=HOME)
    assert user is not None and user.must_change_password and user.session_epoch == 1
    change_password(session, clerk.id, temporary, "my very own passphrase")
    session.expire_all()
    assert not queries.user_by_id(session, clerk.id).must_change_password  # type: ignore[union-attr]
    [event] = _events(session, "password.reset")
    assert temporary not in str(event.details) and event.actor_name == "chief"
    with pytest.raises(InvalidInput):
        reset_password(session, chief, clerk.id, "password1234")


def test_the_last_active_province_administrator_stays(session: Session, seeded: SmallProvince):
    chief = create_user(session, "chief", PASSWORD)
    session.commit()
    with pytest.raises(LastProvinceAdministrator):
        set_active(session, chief, chief.id, active=False)
    session.rollback()
    with pytest.raises(LastProvinceAdministrator):
        change_role(session, chief, chief.id, "viewer", sector="health")
    session.rollback()
    deputy = create_user(session, "deputy", PASSWORD)
    session.commit()
    set_active(session, chief, deputy.id, active=False)
    with pytest.raises(LastProvinceAdministrator):  # the deputy is disabled: no other one
        change_role(session, chief, chief.id, "sector_admin", sector="health")
    session.rollback()
    set_active(session, chief, deputy.id, active=True)
    changed = change_role(session, chief, chief.id, "sector_admin", sector="health")
    assert changed.role == "sector_admin"
    [event] = _events(session, "user.role_changed")
    assert event.details["after"] == {
        "role": "sector_admin",
        "sector": "health",
        "scope_agency_id": None,
    }
