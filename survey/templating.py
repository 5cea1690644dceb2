"""Names and filters every template may use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from analysis.summaries import format_percent
from survey.services.local_time import VIETNAM_TIME

SECTOR_NAMES = {
    "administrative": _l("Administrative services"),
    "health": _l("Public health"),
    "education": _l("Public education"),
}
LEVEL_NAMES = {"province": _l("Province"), "district": _l("District"), "commune": _l("Commune")}


def local_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:  # SQLite returns naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")


def percent(value: float | None, language: str = "vi", decimals: int = 1) -> str:
    if value is None:
        return "—"
    return format_percent(value, language, decimals)


def register_templating(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(percent, "pct")

    @app.context_processor
    def names() -> dict[str, Any]:
        return {"sector_names": SECTOR_NAMES, "level_names": LEVEL_NAMES}
