"""Reporting periods: a quarter, a half-year, a year or a custom range of days (Vietnam time).

Calendar arithmetic (which quarter holds a day, the quarter before, a quarter's first and last
day) is pandas' ``Period`` (``freq="Q"``), written once here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from survey.formatting import day
from survey.services.errors import InvalidInput
from survey.services.local_time import VIETNAM_TIME

_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
# Reports and exports cover these years; the period before the first one must exist too.
FIRST_YEAR, LAST_YEAR = 1990, 2100


@dataclass(frozen=True)
class Period:
    """Days ``first``..``last`` inclusive; ``key`` is how it is written in URLs."""

    kind: str  # year | half | quarter | custom
    first: dt.date
    last: dt.date
    key: str

    def label(self, language: str) -> str:
        year = self.first.year
        if self.kind == "year":
            return f"Năm {year}" if language == "vi" else str(year)
        if self.kind == "half":
            half = 1 if self.first.month == 1 else 2
            return (
                f"6 tháng {'đầu' if half == 1 else 'cuối'} năm {year}"
                if language == "vi"
                else f"{'First' if half == 1 else 'Second'} half of {year}"
            )
        if self.kind == "quarter":
            quarter = pd.Period(self.first, freq="Q").quarter
            return f"Quý {quarter}/{year}" if language == "vi" else f"Q{quarter} {year}"
        return f"{day(self.first, language)} – {day(self.last, language)}"

    def previous(self) -> Period:
        """The period of the same kind just before (a custom range: the same length before)."""
        if self.kind == "year":
            return parse_period(str(self.first.year - 1))
        if self.kind == "half":
            half = 1 if self.first.month == 1 else 2
            return parse_period(
                f"{self.first.year - 1}-H2" if half == 1 else f"{self.first.year}-H1"
            )
        if self.kind == "quarter":
            return parse_period(_quarter_key(pd.Period(self.first, freq="Q") - 1))
        length = self.last - self.first
        last = self.first - dt.timedelta(days=1)
        return custom_period(last - length, last)


def year_before(period: Period) -> Period:
    """The same period one year earlier (2025-Q3 → 2024-Q3; a custom range shifted by a year, 29
    February read as the 28th): what a year-on-year change compares with."""
    if period.kind in ("year", "half", "quarter"):
        return parse_period(
            period.key.replace(str(period.first.year), str(period.first.year - 1), 1)
        )

    def shift(day: dt.date) -> dt.date:
        return day.replace(year=day.year - 1, day=min(day.day, 28 if day.month == 2 else 31))

    return custom_period(shift(period.first), shift(period.last))


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def quarter_of(day: dt.date) -> Period:
    """The calendar quarter that holds ``day``."""
    return _quarter(pd.Period(day, freq="Q"))


def quarters_apart(first: dt.date, last: dt.date) -> int:
    """How many quarters after ``first``'s quarter ``last``'s comes (0: the same quarter)."""
    return int((pd.Period(last, freq="Q") - pd.Period(first, freq="Q")).n)


def quarter_keys(moments: Sequence[dt.datetime]) -> list[str]:
    """The quarter (``2025-Q3``) of each aware moment on Vietnam's calendar, in one vectorised
    pass (a ``pd.Period`` per moment would cost a second per 10⁵ comments)."""
    if not moments:
        return []
    days = pd.DatetimeIndex(moments).tz_convert(VIETNAM_TIME).tz_localize(None)
    quarters = days.to_period("Q")
    years = quarters.qyear.astype(str).str.zfill(4)
    return list(years + "-Q" + quarters.quarter.astype(str))


def _quarter(quarter: pd.Period) -> Period:
    first, last = _days(quarter)
    return Period("quarter", first, last, _quarter_key(quarter))


def _quarter_key(quarter: pd.Period) -> str:
    return f"{quarter.qyear:04d}-Q{quarter.quarter}"


def _days(period: pd.Period) -> tuple[dt.date, dt.date]:
    """First and last day of a pandas period. Through daily periods rather than ``start_time``
    and ``end_time``, whose Timestamps end in 2262: a reader may ask for 9999-Q4 (and is then
    refused with the years that are covered)."""
    first, last = period.asfreq("D", "start"), period.asfreq("D", "end")
    return dt.date(first.year, first.month, first.day), dt.date(last.year, last.month, last.day)


def custom_period(first: dt.date, last: dt.date) -> Period:
    if last < first:
        raise InvalidInput(
            "Ngày kết thúc trước ngày bắt đầu.", "The end date is before the start date."
        )
    return Period("custom", first, last, f"{first.isoformat()}..{last.isoformat()}")


def ensure_supported(period: Period) -> Period:
    """The period a reader asked for, refused outside ``FIRST_YEAR``..``LAST_YEAR`` (9999 or
    0001-01-01: no data, and no day after or period before them to compute with)."""
    if period.first.year < FIRST_YEAR or period.last.year > LAST_YEAR:
        raise InvalidInput(
            f"Chỉ có báo cáo cho các năm {FIRST_YEAR}–{LAST_YEAR}.",
            f"Reports cover the years {FIRST_YEAR}–{LAST_YEAR} only.",
        )
    return period


def parse_period(text: str) -> Period:
    """``2025``, ``2025-H1``, ``2025-Q3`` or ``2025-01-01..2025-03-31``."""
    text = (text or "").strip()
    try:
        period = _parse(text)
    except ValueError:  # year 0, 2025-02-30
        period = None
    if period is None:
        raise InvalidInput(
            f"Kỳ báo cáo không hợp lệ: “{text}”. Ví dụ: 2025, 2025-H1, 2025-Q3, "
            "2025-01-01..2025-03-31.",
            f"Not a reporting period: “{text}”. Examples: 2025, 2025-H1, 2025-Q3, "
            "2025-01-01..2025-03-31.",
        )
    return period


def _parse(text: str) -> Period | None:
    if match := _YEAR.match(text):
        year = int(match.group(1))
        return Period("year", dt.date(year, 1, 1), dt.date(year, 12, 31), text)
    if match := _HALF.match(text):
        year, half = int(match.group(1)), int(match.group(2))
        opening = pd.Period(year=_year(year), quarter=2 * half - 1, freq="Q")  # Q1 or Q3
        return Period("half", _days(opening)[0], _days(opening + 1)[1], text)
    if match := _QUARTER.match(text):
        year, quarter = int(match.group(1)), int(match.group(2))
        return _quarter(pd.Period(year=_year(year), quarter=quarter, freq="Q"))
    if match := _RANGE.match(text):
        first, last = (dt.date.fromisoformat(match.group(i)) for i in (1, 2))
        return custom_period(first, last)
    return None


def _year(year: int) -> int:
    """A year a date can have (pandas would take year 0; ``dt.date`` does not)."""
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise ValueError(f"year {year} is out of range")
    return year
