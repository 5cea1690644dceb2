"""Numbers and dates read the way a Vietnamese or an English reader writes them (Babel's CLDR)."""

from __future__ import annotations

import datetime as dt

import pytest

from survey import formatting


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", ("12.346", "12.345,7", "83,5%", "79,1–86,2%")),
        ("en", ("12,346", "12,345.7", "83.5%", "79.1–86.2%")),
    ],
)
def test_numbers_and_shares_use_the_readers_separators(
    language: str, expected: tuple[str, ...]
) -> None:
    assert formatting.number(12345.67, language) == expected[0]
    assert formatting.number(12345.67, language, 1) == expected[1]
    assert formatting.percent(0.83456, language) == expected[2]
    assert formatting.percent_range(0.7912, 0.8619, language) == expected[3]


def test_missing_values_are_a_dash_not_nan() -> None:
    assert formatting.percent(None, "vi") == formatting.MISSING
    assert formatting.number(float("nan"), "en") == formatting.MISSING
    assert formatting.day(None, "vi") == formatting.MISSING


def test_differences_carry_a_true_sign_and_their_unit() -> None:
    assert formatting.points(0.0234, "vi") == "+2,3 điểm %"
    assert formatting.points(-0.01, "en") == "−1.0 pp"
    assert formatting.points(0.00004, "en") == "0.0 pp"


def test_dates_are_day_month_year_in_vietnamese_and_in_vietnam_time() -> None:
    assert formatting.day(dt.date(2025, 3, 4), "vi") == "04/03/2025"
    assert formatting.day(dt.date(2025, 3, 4), "en") == "4 Mar 2025"
    # 23:30 UTC on 31 December is already New Year's morning in Vietnam.
    late = dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert formatting.moment(late, "vi") == "01/01/2026 06:30"
    assert formatting.moment(late.replace(tzinfo=None), "en") == "1 Jan 2026, 06:30"
    assert formatting.day(late, "vi") == "01/01/2026"
