"""Names and filters every template may use.

Numbers, percentages and dates go through `survey.formatting` (Babel), in the page's language:
``{{ value|num }}``, ``{{ share|pct(language, 1) }}``, ``{{ low|pct_range(high, language) }}``,
``{{ difference|pts(language) }}`` (signed percentage points), ``{{ day|day }}``,
``{{ moment|local_time }}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from survey import formatting
from survey.i18n import current_language
from survey.services.reporting.present import verdict_name

SECTOR_NAMES = {
    "administrative": _l("Administrative services"),
    "health": _l("Public health"),
    "education": _l("Public education"),
}
LEVEL_NAMES = {"province": _l("Province"), "district": _l("District"), "commune": _l("Commune")}


def local_time(moment: dt.datetime, language: str | None = None) -> str:
    """A moment in Vietnam's time, as the reader writes dates."""
    return formatting.moment(moment, language or current_language())


def local_day(value: dt.date, language: str | None = None) -> str:
    return formatting.day(value, language or current_language())


def percent(value: float | None, language: str | None = None, decimals: int = 1) -> str:
    return formatting.percent(value, language or current_language(), decimals)


def number(value: float | None, language: str | None = None, decimals: int = 0) -> str:
    return formatting.number(value, language or current_language(), decimals)


def percent_range(
    low: float | None, high: float | None, language: str | None = None, decimals: int = 1
) -> str:
    return formatting.percent_range(low, high, language or current_language(), decimals)


def points(value: float | None, language: str | None = None, decimals: int = 1) -> str:
    return formatting.points(value, language or current_language(), decimals)


def verdict_word(verdict: str, language: str | None = None) -> str:
    return verdict_name(verdict, language or current_language())


def register_templating(app: Flask) -> None:
    app.add_template_filter(verdict_word, "verdict")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_day, "day")
    app.add_template_filter(percent, "pct")
    app.add_template_filter(number, "num")
    app.add_template_filter(percent_range, "pct_range")
    app.add_template_filter(points, "pts")

    @app.context_processor
    def names() -> dict[str, Any]:
        return {"sector_names": SECTOR_NAMES, "level_names": LEVEL_NAMES}
