"""Kiosk registration, pairing, revocation, device tokens and kiosk submissions."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.services.errors import InvalidAnswers, InvalidInput, UnknownServicePoint
from survey.services.integrity import IntegritySettings
from survey.services.kiosks import (
    AnsweredAtAnotherPoint,
    InvalidPairingCode,
    KioskNotAuthorised,
    KioskSettings,
    authenticate_kiosk,
    digest,
    kiosk_setup,
    new_pairing_code,
    pair_kiosk,
    register_kiosk,
    revoke_kiosk,
    submission_time,
    submit_from_kiosk,
)
from survey.services.questionnaires import open_service_point
from survey.storage.models import AuditEvent, Kiosk, Response, ResponseFlag
from tests.factories import SmallProvince

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SETTINGS = IntegritySettings()


def _paired(session: Session, seeded: SmallProvince) -> tuple[Kiosk, str]:
    pairing = register_kiosk(
        session, service_point_id=seeded.desk.id, label="Quầy 1", user_id=None, now=NOW
    )
    token = pair_kiosk(session, pairing.code, now=NOW).token
    return authenticate_kiosk(session, token), token


def _answers(session: Session, seeded: SmallProvince, value: int) -> dict[str, int | None]:
    _point, questionnaire = open_service_point(session, seeded.desk.public_code)
    return {item.code: value for item in questionnaire.items}


def _submit(
    session: Session, seeded: SmallProvince, kiosk: Kiosk, seconds: float, value=4, key=None
):
    return submit_from_kiosk(
        session,
        kiosk,
        client_id=key or str(uuid.uuid4()),
        answers=_answers(session, seeded, value),
        comment=None,
        language="vi",
        device_time=NOW + dt.timedelta(seconds=seconds),
        questionnaire_id=None,
        settings=SETTINGS,
        now=NOW + dt.timedelta(minutes=30),
    )


def test_only_hashes_are_stored_and_the_code_works_once(session: Session, seeded: SmallProvince):
    pairing = register_kiosk(
        session, service_point_id=seeded.desk.id, label=" Quầy 1 ", user_id=None, now=NOW
    )
    assert pairing.expires_at == NOW + dt.timedelta(hours=24)
    kiosk = session.get(Kiosk, pairing.kiosk_id)
    assert kiosk is not None and kiosk.label == "Quầy 1"
    plain = pairing.code.replace("-", "")
    assert kiosk.pairing_code_hash == digest(plain) and plain not in kiosk.pairing_code_hash
    token = pair_kiosk(session, pairing.code.lower().replace("-", " "), now=NOW).token
    assert kiosk.token_hash == digest(token) and kiosk.pairing_code_hash is None
    with pytest.raises(InvalidPairingCode):
        pair_kiosk(session, pairing.code, now=NOW)
    assert authenticate_kiosk(session, token).id == kiosk.id


def test_expired_or_unknown_codes_are_refused(session: Session, seeded: SmallProvince):
    pairing = register_kiosk(
        session, service_point_id=seeded.desk.id, label="Quầy", user_id=None, now=NOW
    )
    with pytest.raises(InvalidPairingCode):
        pair_kiosk(session, pairing.code, now=NOW + dt.timedelta(hours=25))
    for code in ("", "AAAAA-AAAAA", "x" * 500):
        with pytest.raises(InvalidPairingCode):
            pair_kiosk(session, code, now=NOW)


def test_registration_refuses_closed_points_and_empty_names(
    session: Session, seeded: SmallProvince
):
    with pytest.raises(UnknownServicePoint):
        register_kiosk(session, service_point_id=seeded.closed_desk.id, label="X", user_id=None)
    with pytest.raises(UnknownServicePoint):
        register_kiosk(session, service_point_id=seeded.retired_desk.id, label="X", user_id=None)
    with pytest.raises(InvalidInput):
        register_kiosk(session, service_point_id=seeded.desk.id, label="  ", user_id=None)


def test_revoking_stops_the_token_and_pending_codes(session: Session, seeded: SmallProvince):
    kiosk, token = _paired(session, seeded)
    pending = new_pairing_code(session, kiosk.id, now=NOW)
    revoke_kiosk(session, kiosk.id, None, now=NOW)
    with pytest.raises(KioskNotAuthorised):
        authenticate_kiosk(session, token)
    with pytest.raises(InvalidPairingCode):
        pair_kiosk(session, pending.code, now=NOW)
    for bad in (None, "", "nope"):
        with pytest.raises(KioskNotAuthorised):
            authenticate_kiosk(session, bad)
    # Registration, pairing, a new code and revocation are in the audit log (no user: the
    # command line / system; the tablet itself pairs).
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.subject) for e in events] == [
        ("kiosk.registered", f"kiosk:{kiosk.id}"),
        ("kiosk.paired", f"kiosk:{kiosk.id}"),
        ("kiosk.pairing_code_issued", f"kiosk:{kiosk.id}"),
        ("kiosk.revoked", f"kiosk:{kiosk.id}"),
    ]


def test_new_pairing_code_replaces_the_old_token(session: Session, seeded: SmallProvince):
    kiosk, token = _paired(session, seeded)
    again = new_pairing_code(session, kiosk.id, now=NOW)
    assert authenticate_kiosk(session, token).id == kiosk.id  # works until the new pairing
    new_token = pair_kiosk(session, again.code, now=NOW).token
    with pytest.raises(KioskNotAuthorised):
        authenticate_kiosk(session, token)
    assert authenticate_kiosk(session, new_token).id == kiosk.id


def test_setup_gives_the_points_questionnaire(session: Session, seeded: SmallProvince):
    kiosk, _token = _paired(session, seeded)
    setup = kiosk_setup(session, kiosk)
    assert setup.point.id == seeded.desk.id
    assert setup.questionnaire.sector == "administrative"


def test_submission_is_idempotent_and_keeps_the_device_time(
    session: Session, seeded: SmallProvince
):
    kiosk, _token = _paired(session, seeded)
    key = str(uuid.uuid4())
    first = _submit(session, seeded, kiosk, 0, key=key)
    again = _submit(session, seeded, kiosk, 0, key=key)
    assert first.created and not again.created and first.response_id == again.response_id
    assert session.scalar(select(func.count(Response.id))) == 1
    response = session.get(Response, first.response_id)
    assert response is not None
    assert response.channel == "kiosk" and response.kiosk_id == kiosk.id
    assert response.submitted_at == NOW and response.device_time == NOW


def test_too_fast_submission_is_kept_and_flagged_by_device_time(
    session: Session, seeded: SmallProvince
):
    kiosk, _token = _paired(session, seeded)
    # Replayed out of order, as a queue may be: the later device time is the one flagged.
    late = _submit(session, seeded, kiosk, 3, value=5)
    early = _submit(session, seeded, kiosk, 0, value=4)
    spaced = _submit(session, seeded, kiosk, 20, value=3)
    assert session.scalar(select(func.count(Response.id))) == 3
    flags = session.scalars(select(ResponseFlag)).all()
    assert [(flag.response_id, flag.kind) for flag in flags] == [(late.response_id, "too_fast")]
    assert early.created and spaced.created


def test_answers_are_validated_by_submit_response(session: Session, seeded: SmallProvince):
    kiosk, _token = _paired(session, seeded)
    with pytest.raises(InvalidAnswers):
        submit_from_kiosk(
            session,
            kiosk,
            client_id=str(uuid.uuid4()),
            answers={"overall": 4},
            comment=None,
            language="vi",
            device_time=None,
            questionnaire_id=None,
            settings=SETTINGS,
        )


def test_questionnaire_of_another_sector_is_refused(session: Session, seeded: SmallProvince):
    kiosk, _token = _paired(session, seeded)
    _point, health = open_service_point(session, seeded.counter.public_code)
    with pytest.raises(InvalidAnswers):
        submit_from_kiosk(
            session,
            kiosk,
            client_id=str(uuid.uuid4()),
            answers={item.code: 4 for item in health.items},
            comment=None,
            language="vi",
            device_time=None,
            questionnaire_id=health.id,
            settings=SETTINGS,
        )


def test_implausible_device_clocks_fall_back_to_the_server_time():
    assert submission_time(NOW - dt.timedelta(hours=3), NOW) == NOW - dt.timedelta(hours=3)
    assert submission_time(NOW + dt.timedelta(hours=1), NOW) == NOW
    assert submission_time(NOW - dt.timedelta(days=400), NOW) == NOW
    assert submission_time(None, NOW) == NOW


def test_settings_keep_at_least_twenty_seconds_to_respond():
    settings = KioskSettings.from_config(
        {"KIOSK_COUNTDOWN_SECONDS": 5, "KIOSK_MIN_INTERVAL_SECONDS": 7, "KIOSK_THANKS_SECONDS": 2}
    )
    assert settings.countdown_seconds == 20
    assert settings.thanks_seconds == 7  # the thank-you screen outlasts the minimum interval
    assert settings.timeout_policy == "discard"
    with pytest.raises(ValueError):
        KioskSettings.from_config({"KIOSK_TIMEOUT_POLICY": "keep_everything"})


def test_answer_queued_under_an_earlier_pairing_counts_only_for_the_same_point(
    session: Session, seeded: SmallProvince
):
    old, _token = _paired(session, seeded)
    revoke_kiosk(session, old.id, None, now=NOW)
    new, _token = _paired(session, seeded)
    elsewhere = register_kiosk(
        session, service_point_id=seeded.counter.id, label="Quầy khám", user_id=None, now=NOW
    )

    def send(kiosk_id: int):
        return submit_from_kiosk(
            session,
            new,
            client_id=str(uuid.uuid4()),
            answers=_answers(session, seeded, 4),
            comment=None,
            language="vi",
            device_time=NOW,
            questionnaire_id=None,
            settings=SETTINGS,
            now=NOW,
            answered_on_kiosk_id=kiosk_id,
        )

    assert send(old.id).created
    with pytest.raises(AnsweredAtAnotherPoint):
        send(elsewhere.kiosk_id)
    with pytest.raises(AnsweredAtAnotherPoint):
        send(999_999)


# --- Back-dating: device times outside what the kiosk can have queued -----------------------------


def _flags(session: Session) -> list[tuple[int, str, str]]:
    return sorted(
        (flag.response_id, flag.kind, flag.detail) for flag in session.scalars(select(ResponseFlag))
    )


@pytest.mark.parametrize(
    "device_time",
    [
        NOW - dt.timedelta(days=40),  # older than KIOSK_MAX_OFFLINE_DAYS (7)
        NOW - dt.timedelta(hours=2),  # before the kiosk was paired (NOW)
        NOW + dt.timedelta(days=1, hours=2),  # in the future beyond the clock skew
    ],
)
def test_implausible_device_times_count_at_arrival_and_are_flagged(
    session: Session, seeded: SmallProvince, device_time: dt.datetime
):
    kiosk, _token = _paired(session, seeded)
    arrival = NOW + dt.timedelta(days=1)
    result = submit_from_kiosk(
        session,
        kiosk,
        client_id=str(uuid.uuid4()),
        answers=_answers(session, seeded, 4),
        comment=None,
        language="vi",
        device_time=device_time,
        questionnaire_id=None,
        settings=SETTINGS,
        now=arrival,
    )
    response = session.get(Response, result.response_id)
    assert response is not None
    assert response.submitted_at == arrival and response.device_time == arrival
    hours = f"{(device_time - arrival) / dt.timedelta(hours=1):.1f}"  # e.g. -984.0
    assert _flags(session) == [(result.response_id, "implausible_time", f"hours={hours}")]


def test_an_offline_queue_within_the_window_keeps_its_times_unflagged(
    session: Session, seeded: SmallProvince
):
    kiosk, _token = _paired(session, seeded)
    later = dt.timedelta(days=6, hours=23)  # six days and more offline, then sent
    results = [
        submit_from_kiosk(
            session,
            kiosk,
            client_id=str(uuid.uuid4()),
            answers=_answers(session, seeded, 1 + index % 5),
            comment=None,
            language="vi",
            device_time=NOW + dt.timedelta(minutes=index),
            questionnaire_id=None,
            settings=SETTINGS,
            now=NOW + later + dt.timedelta(seconds=index / 10),
        )
        for index in range(3)
    ]
    for index, result in enumerate(results):
        response = session.get(Response, result.response_id)
        assert response is not None
        assert response.submitted_at == NOW + dt.timedelta(minutes=index)
    assert _flags(session) == []


def test_answers_queued_before_a_re_pairing_keep_their_times(
    session: Session, seeded: SmallProvince
):
    kiosk, _token = _paired(session, seeded)
    again = new_pairing_code(session, kiosk.id, now=NOW + dt.timedelta(days=2))
    pair_kiosk(session, again.code, now=NOW + dt.timedelta(days=2))
    answered = NOW + dt.timedelta(days=1)  # queued a day before the tablet was paired again
    result = submit_from_kiosk(
        session,
        kiosk,
        client_id=str(uuid.uuid4()),
        answers=_answers(session, seeded, 4),
        comment=None,
        language="vi",
        device_time=answered,
        questionnaire_id=None,
        settings=SETTINGS,
        now=NOW + dt.timedelta(days=2, minutes=1),
    )
    response = session.get(Response, result.response_id)
    assert response is not None and response.submitted_at == answered
    assert _flags(session) == []


def test_answers_sent_without_a_device_time_are_judged_by_their_arrival(
    session: Session, seeded: SmallProvince
):
    kiosk, _token = _paired(session, seeded)
    arrival = NOW + dt.timedelta(hours=1)
    ids = []
    for tenth in range(3):
        ids.append(
            submit_from_kiosk(
                session,
                kiosk,
                client_id=str(uuid.uuid4()),
                answers=_answers(session, seeded, 2 + tenth),
                comment=None,
                language="vi",
                device_time=None,
                questionnaire_id=None,
                settings=SETTINGS,
                now=arrival + dt.timedelta(seconds=tenth / 10),
            ).response_id
        )
    assert [(response_id, kind) for response_id, kind, _detail in _flags(session)] == [
        (ids[1], "too_fast"),
        (ids[2], "too_fast"),
    ]


def test_pairings_and_new_pairing_codes_are_audited_with_who_and_what(
    session: Session, seeded: SmallProvince
):
    from survey.services.accounts import create_user

    officer = create_user(session, "officer", "correct horse battery")
    session.commit()
    kiosk, first_token = _paired(session, seeded)
    again = new_pairing_code(session, kiosk.id, now=NOW, user_id=officer.id)
    pair_kiosk(session, again.code, now=NOW + dt.timedelta(minutes=5))
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.startswith("kiosk.")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor_name) for e in events] == [
        ("kiosk.registered", "system"),
        ("kiosk.paired", "system"),
        ("kiosk.pairing_code_issued", "officer"),
        ("kiosk.paired", "system"),
    ]
    issued, repaired = events[2], events[3]
    assert issued.details["label"] == "Quầy 1"
    assert issued.details["expires_at"].startswith("2026-03-03")
    assert repaired.details == {
        "label": "Quầy 1",
        "service_point": seeded.desk.public_code,
        "replaced_token": True,
    }
    assert events[1].details["replaced_token"] is False
    for event in events:  # no secret in the log
        assert again.code.replace("-", "") not in str(event.details)
        assert first_token not in str(event.details)
