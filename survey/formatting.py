"""How numbers, percentages, intervals and dates read, in Vietnamese and in English — one place.

Every page, chart, PDF, Word document and export formats through these functions (Babel's CLDR
data), so the web and the printed report never disagree: Vietnamese readers get a decimal comma
and a dot between thousands ("12.345", "83,4%", "04/03/2025"), English readers "12,345", "83.4%"
and "4 Mar 2025". The language is always an argument — nothing here reads the request — so
services, background jobs and the command line format the same way as the views.
"""

from __future__ import annotations

import datetime as dt
import math

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.numbers import format_percent as _babel_percent

from survey.services.local_time import VIETNAM_TIME

MISSING = "—"
_LOCALES = {"vi": "vi_VN", "en": "en_GB"}


def locale_of(language: str) -> str:
    """The Babel locale for one of the platform's languages (Vietnamese for anything unknown)."""
    return _LOCALES.get(language, _LOCALES["vi"])


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def _absent(value: float | None) -> bool:
    return value is None or math.isnan(value)


def number(value: float | None, language: str, decimals: int = 0) -> str:
    """12345.6 → "12.346" (vi) / "12,346" (en) with ``decimals=0``; "—" when there is no value."""
    if value is None or _absent(value):
        return MISSING
    return format_decimal(value, format=_pattern(decimals), locale=locale_of(language))


def percent(value: float | None, language: str, decimals: int = 1) -> str:
    """A share 0.8345 → "83,5%" (vi) / "83.5%" (en); "—" when there is no value."""
    if value is None or _absent(value):
        return MISSING
    return _babel_percent(value, format=_pattern(decimals) + "%", locale=locale_of(language))


def percent_range(low: float | None, high: float | None, language: str, decimals: int = 1) -> str:
    """An interval of shares: "79,1–86,2%" (vi) / "79.1–86.2%" (en)."""
    if low is None or high is None or _absent(low) or _absent(high):
        return MISSING
    return f"{number(100 * low, language, decimals)}–{percent(high, language, decimals)}"


def points(value: float | None, language: str, decimals: int = 1) -> str:
    """A difference of shares in percentage points with its sign: "+2,3 điểm %" / "−1.0 pp"."""
    if value is None or _absent(value):
        return MISSING
    shown = round(100 * value, decimals)
    sign = "+" if shown > 0 else ("−" if shown < 0 else "")
    unit = "điểm %" if language == "vi" else "pp"
    return f"{sign}{number(abs(shown), language, decimals)} {unit}"


def day(value: dt.date | None, language: str) -> str:
    """A date: "04/03/2025" (vi) / "4 Mar 2025" (en)."""
    if value is None:
        return MISSING
    if isinstance(value, dt.datetime):
        value = local(value).date()
    pattern = "dd/MM/yyyy" if language == "vi" else "d MMM yyyy"
    return format_date(value, pattern, locale=locale_of(language))


def local(moment: dt.datetime) -> dt.datetime:
    """A moment in Vietnam's time (naive values are UTC, as SQLite returns them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM_TIME)


def moment(value: dt.datetime | None, language: str) -> str:
    """A date and time in Vietnam's time: "04/03/2025 14:05" (vi) / "4 Mar 2025, 14:05" (en)."""
    if value is None:
        return MISSING
    pattern = "dd/MM/yyyy HH:mm" if language == "vi" else "d MMM yyyy, HH:mm"
    return format_datetime(local(value), pattern, tzinfo=VIETNAM_TIME, locale=locale_of(language))


def long_day(value: dt.date, language: str) -> str:
    """A date written out, as on the place-date line of an administrative document: "ngày 05
    tháng 02 năm 2026" (Decree 30/2020/NĐ-CP writes a 0 before days below 10 and months 1 and 2)
    / "5 February 2026"."""
    if language == "vi":
        month = f"{value.month:02d}" if value.month < 3 else str(value.month)
        return f"ngày {value.day:02d} tháng {month} năm {value.year}"
    return format_date(value, "d MMMM yyyy", locale=locale_of(language))
