"""Reporting periods: a quarter, a half-year, a year or a custom range of days (Vietnam time)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from survey.formatting import day
from survey.services.errors import InvalidInput

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
            quarter = (self.first.month - 1) // 3 + 1
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
            quarter = (self.first.month - 1) // 3 + 1
            year, quarter = (
                (self.first.year - 1, 4) if quarter == 1 else (self.first.year, quarter - 1)
            )
            return parse_period(f"{year}-Q{quarter}")
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
        return Period(
            "half",
            dt.date(year, 1 if half == 1 else 7, 1),
            _month_end(year, 6 if half == 1 else 12),
            text,
        )
    if match := _QUARTER.match(text):
        year, quarter = int(match.group(1)), int(match.group(2))
        return Period(
            "quarter", dt.date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter), text
        )
    if match := _RANGE.match(text):
        first, last = (dt.date.fromisoformat(match.group(i)) for i in (1, 2))
        return custom_period(first, last)
    return None
