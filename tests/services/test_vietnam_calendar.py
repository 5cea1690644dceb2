"""Days are Vietnam's (survey/services/local_time.py), whatever the server's clock says, and
quarters are pandas periods (survey/services/periods.py). The clock is frozen where
``local_time`` reads it."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from survey.services.errors import UnknownServicePoint
from survey.services.local_time import today_in_vietnam
from survey.services.periods import parse_period, quarter_keys, quarter_of, quarters_apart
from survey.services.questionnaires import open_service_point
from tests import factories
from tests.factories import SmallProvince

# 23:30 in London is 06:30 the next morning in Hà Nội.
HALF_PAST_ELEVEN_UTC = dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)


def _freeze(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    monkeypatch.setattr("survey.services.local_time.utc_now", lambda: moment)


# --- Vietnam's day -----------------------------------------------------------------------------


def test_half_past_eleven_utc_is_the_next_morning_in_vietnam(monkeypatch: pytest.MonkeyPatch):
    _freeze(monkeypatch, HALF_PAST_ELEVEN_UTC)
    assert today_in_vietnam() == dt.date(2026, 4, 1)
    assert quarter_of(today_in_vietnam()).key == "2026-Q2"


def test_a_commune_retired_today_is_closed_from_midnight_in_vietnam(
    session: Session, seeded: SmallProvince, monkeypatch: pytest.MonkeyPatch
):
    # 23:30 UTC on the server's date, so that the server's own date.today() is still the day
    # before the commune's last day ends in Vietnam.
    now = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(23, 30), tzinfo=dt.UTC)
    vietnam_day = (now + dt.timedelta(hours=7)).date()
    commune = seeded.retired_commune
    successor = commune.successor
    assert successor is not None
    commune.valid_to = vietnam_day  # the first day without the commune
    ward_desk = factories.point(session, successor, "Bộ phận một cửa phường")
    session.commit()

    _freeze(monkeypatch, now - dt.timedelta(hours=7, minutes=1))  # 23:59 the evening before
    point, _questionnaire = open_service_point(session, seeded.retired_desk.public_code)
    assert point.id == seeded.retired_desk.id

    _freeze(monkeypatch, now)  # 06:30 in Vietnam: the commune is gone, its QR leads to the ward
    point, _questionnaire = open_service_point(session, seeded.retired_desk.public_code)
    assert point.id == ward_desk.id

    session.delete(ward_desk)
    session.commit()
    with pytest.raises(UnknownServicePoint):
        open_service_point(session, seeded.retired_desk.public_code)


def test_the_alert_digest_covers_the_quarter_that_ended_in_vietnam(
    runner: FlaskCliRunner, seeded: SmallProvince, monkeypatch: pytest.MonkeyPatch
):
    # At 06:30 on 1 April in Vietnam the first quarter is complete, while the server's UTC
    # date is still 31 March.
    _freeze(monkeypatch, HALF_PAST_ELEVEN_UTC)
    result = runner.invoke(args=["send-alerts", "--dry-run", "--send-empty"])
    assert result.exit_code == 0, result.output
    assert "Satisfaction alerts Q1 2026" in result.output


# --- quarters are pandas periods -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "first", "last", "previous"),
    [
        ("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31), "2024-Q4"),
        ("2024-Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31), "2023-Q4"),
        ("2025-Q3", dt.date(2025, 7, 1), dt.date(2025, 9, 30), "2025-Q2"),
        ("2024-H1", dt.date(2024, 1, 1), dt.date(2024, 6, 30), "2023-H2"),
        ("2025-H2", dt.date(2025, 7, 1), dt.date(2025, 12, 31), "2025-H1"),
        ("9999-Q4", dt.date(9999, 10, 1), dt.date(9999, 12, 31), "9999-Q3"),
    ],
)
def test_quarters_and_halves(key: str, first: dt.date, last: dt.date, previous: str):
    period = parse_period(key)
    assert (period.first, period.last, period.key) == (first, last, key)
    assert period.previous().key == previous
    if period.kind == "quarter":
        assert quarter_of(first) == quarter_of(last) == period


def test_quarter_keys_and_distances_are_counted_on_vietnams_calendar():
    moments = [
        dt.datetime(2025, 3, 31, 16, 59, tzinfo=dt.UTC),  # 23:59 on 31 March in Vietnam
        dt.datetime(2025, 3, 31, 17, 0, tzinfo=dt.UTC),  # midnight: 1 April
        dt.datetime(2025, 12, 31, 17, 0, tzinfo=dt.UTC),  # 1 January 2026
    ]
    assert quarter_keys(moments) == ["2025-Q1", "2025-Q2", "2026-Q1"]
    assert quarter_keys([]) == []
    assert quarters_apart(dt.date(2024, 12, 31), dt.date(2025, 7, 1)) == 3
    assert quarters_apart(dt.date(2025, 1, 1), dt.date(2025, 3, 31)) == 0
