"""Anomaly flags and the administrator's logged decisions; the export honours exclusions."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.errors import InvalidInput, NotFound
from survey.services.exports import responses_table
from survey.services.integrity import (
    IntegritySettings,
    check_response,
    flagged_responses,
    record_decision,
    scan_for_anomalies,
)
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from survey.storage.models import AuditEvent, Response, ResponseDecision, ResponseFlag
from tests import factories
from tests.factories import SmallProvince

START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
SETTINGS = IntegritySettings(burst_size=4, burst_minutes=10, rate_floor=10, rate_factor=3)


def _qr(
    session: Session, seeded: SmallProvince, minutes: float, value: int = 4, overall=None
) -> int:
    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    answers: dict[str, int | None] = {item.code: value for item in questionnaire.items}
    if overall is not None:
        answers["overall"] = overall
    return submit_response(
        session,
        point=point,
        questionnaire=questionnaire,
        answers=answers,
        idempotency_key=uuid.uuid4().hex,
        channel="qr",
        submitted_at=START + dt.timedelta(minutes=minutes),
    ).response_id


def _kinds(session: Session) -> list[tuple[int, str]]:
    session.expire_all()
    return sorted((f.response_id, f.kind) for f in session.scalars(select(ResponseFlag)))


def test_burst_of_identical_answers_flags_every_response_of_the_burst(
    session: Session, seeded: SmallProvince
):
    same = [_qr(session, seeded, minute) for minute in (0, 1, 2)]
    varied = _qr(session, seeded, 3, overall=2)
    assert check_response(session, same[-1], SETTINGS) == 0  # three are not a burst
    same.append(_qr(session, seeded, 4))
    assert check_response(session, same[-1], SETTINGS) == 4
    assert _kinds(session) == sorted((key, "identical_burst") for key in same)
    assert varied not in {key for key, _kind in _kinds(session)}
    assert check_response(session, same[-1], SETTINGS) == 0  # flags are not repeated
    # Outside the window the same answers are ordinary.
    later = _qr(session, seeded, 60)
    assert check_response(session, later, SETTINGS) == 0


def test_rate_beyond_the_points_volume_is_flagged(session: Session, seeded: SmallProvince):
    # 176 citizens a month ≈ 1 an hour; limit = max(10, ceil(3 × 1)) = 10 in an hour.
    factories.volume(session, seeded.desk, dt.date(2026, 3, 1), 176)
    session.commit()
    keys = [_qr(session, seeded, minute * 5, value=1 + minute % 5) for minute in range(11)]
    assert check_response(session, keys[9], SETTINGS) == 0  # 10 in the hour: plausible
    assert check_response(session, keys[10], SETTINGS) == 1
    assert _kinds(session) == [(keys[10], "implausible_rate")]


def test_scan_checks_a_period_of_any_channel(session: Session, seeded: SmallProvince):
    for minute in range(4):
        _qr(session, seeded, minute)
    result = scan_for_anomalies(session, START, START + dt.timedelta(hours=1), SETTINGS)
    assert result.checked == 4 and result.flags_added == 4
    again = scan_for_anomalies(session, START, START + dt.timedelta(hours=1), SETTINGS)
    assert again.flags_added == 0


def test_flagged_responses_are_counted_until_an_explicit_logged_decision(
    session: Session, seeded: SmallProvince
):
    officer = create_user(session, "officer", "correct horse battery")
    session.commit()
    keys = [_qr(session, seeded, minute) for minute in range(4)]
    honest = _qr(session, seeded, 5, overall=1)
    scan_for_anomalies(session, START, START + dt.timedelta(hours=1), SETTINGS)
    table = responses_table(session)
    assert len(table) == 5  # flagged responses still count

    listed = flagged_responses(session)
    assert [row.response_id for row in listed] and {row.response_id for row in listed} == set(keys)
    assert all(row.open and not row.excluded for row in listed)
    assert listed[0].flags[0].kind == "identical_burst"

    with pytest.raises(InvalidInput):
        record_decision(session, response_id=keys[0], exclude=True, reason=" ", user_id=officer.id)
    with pytest.raises(NotFound):
        record_decision(
            session, response_id=honest, exclude=True, reason="Not flagged", user_id=officer.id
        )
    for key in keys[:3]:
        record_decision(
            session, response_id=key, exclude=True, reason="Clerk pressing", user_id=officer.id
        )
    record_decision(
        session, response_id=keys[3], exclude=False, reason="A real citizen", user_id=officer.id
    )

    table = responses_table(session)
    assert sorted(table["response_id"]) == sorted([keys[3], honest])
    assert len(responses_table(session, include_excluded=True)) == 5
    assert flagged_responses(session, "open") == []
    decided = flagged_responses(session, "decided")
    assert len(decided) == 4
    log = {row.response_id: row.decisions[-1] for row in decided}
    assert log[keys[0]].excluded and log[keys[0]].decided_by == "officer"
    assert log[keys[0]].reason == "Clerk pressing"
    assert not log[keys[3]].excluded
    # Every decision is also in the administrators' audit log.
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    decisions = [
        (e.action, e.subject, e.actor_name) for e in events if e.action.startswith("response.")
    ]
    assert decisions == [
        *[("response.excluded", f"response:{key}", "officer") for key in keys[:3]],
        ("response.included", f"response:{keys[3]}", "officer"),
    ]

    # Changing one's mind is a new logged decision; the old one stays.
    record_decision(
        session, response_id=keys[0], exclude=False, reason="Checked the CCTV", user_id=officer.id
    )
    session.expire_all()
    assert not session.get(Response, keys[0]).excluded  # type: ignore[union-attr]
    decisions = session.scalars(
        select(ResponseDecision).where(ResponseDecision.response_id == keys[0])
    ).all()
    assert [d.excluded for d in decisions] == [True, False]


# --- Separation of duties: who may exclude (or count again) a flagged response -----------------


def _flagged(session: Session, seeded: SmallProvince) -> int:
    keys = [_qr(session, seeded, minute) for minute in range(4)]
    assert check_response(session, keys[-1], SETTINGS) == 4
    return keys[0]


@pytest.mark.parametrize(
    ("role", "scope", "allowed"),
    [
        ("province_admin", {}, True),
        ("sector_admin", {"sector": "administrative"}, True),
        ("sector_admin", {"sector": "health"}, False),
        ("agency_manager", {"scope_agency_id": "department"}, False),
        ("agency_manager", {"scope_agency_id": "province"}, False),
        ("viewer", {"sector": "administrative"}, False),
    ],
)
def test_only_someone_above_the_agency_decides_on_its_flagged_responses(
    session: Session, seeded: SmallProvince, role: str, scope: dict, allowed: bool
):
    from survey.services.integrity import DecisionNotAllowed

    if "scope_agency_id" in scope:
        scope = {"scope_agency_id": getattr(seeded, scope["scope_agency_id"]).id}
    user = create_user(session, f"{role}-user", "correct horse battery", role, **scope)
    session.commit()
    response_id = _flagged(session, seeded)
    for exclude in (True, False):
        decision = {"response_id": response_id, "exclude": exclude, "reason": "Checked"}
        if allowed:
            record_decision(session, **decision, user_id=user.id)
        else:
            with pytest.raises(DecisionNotAllowed) as refused:
                record_decision(session, **decision, user_id=user.id)
            assert "quản trị viên" in refused.value.message_vi
            assert "administrator" in refused.value.message_en
    session.expire_all()
    decisions = session.scalars(select(ResponseDecision)).all()
    assert len(decisions) == (2 if allowed else 0)
    assert session.get(Response, response_id).excluded is False  # type: ignore[union-attr]
