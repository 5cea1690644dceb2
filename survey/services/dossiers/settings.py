"""Settings of the dossier features, read from the app's config or else the environment.

``DOSSIER_LINK_DAYS``        a dossier's rating link works until this many days after it is
                             returned (default 30);
``DOSSIER_RATING_LINK``      ``kept`` (default): a rating keeps the link to its full answers;
                             ``none``: only the overall answer stays with the dossier;
``COMPLAINT_DUE_DAYS``       a complaint case is due this many days after it is opened (10);
``STAFF_MIN_RATINGS``        a clerk's results are shown from this many ratings (30);
``OFFICIAL_CRITERIA_GRADE``  ``true`` shows the province's 9-criteria × 2-point grade (false);
``DOSSIER_LINK_KEY``         the key rating links are derived with (default: ``SECRET_KEY``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RATING_LINK_MODES = ("kept", "none")


class DossierSettingError(ValueError):
    """A dossier setting has a value that cannot be used; the message names it."""


def _value(config: Mapping[str, Any], name: str, default: Any) -> Any:
    if name in config and config[name] is not None:
        return config[name]
    return os.environ.get(name, default)


def _whole(config: Mapping[str, Any], name: str, default: int, least: int) -> int:
    value = _value(config, name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DossierSettingError(f"{name} must be a whole number, not {value!r}.") from None
    if number < least:
        raise DossierSettingError(f"{name} must be at least {least}, not {number}.")
    return number


@dataclass(frozen=True, kw_only=True)
class DossierSettings:
    link_days: int = 30
    rating_link: str = "kept"
    complaint_due_days: int = 10
    staff_min_ratings: int = 30
    criteria_grade: bool = False
    link_key: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DossierSettings:
        mode = str(_value(config, "DOSSIER_RATING_LINK", "kept")).strip().lower()
        if mode not in RATING_LINK_MODES:
            raise DossierSettingError(
                f"DOSSIER_RATING_LINK must be 'kept' or 'none', not {mode!r}."
            )
        grade = str(_value(config, "OFFICIAL_CRITERIA_GRADE", "false")).strip().lower()
        key = _value(config, "DOSSIER_LINK_KEY", None) or config.get("SECRET_KEY") or ""
        return cls(
            link_days=_whole(config, "DOSSIER_LINK_DAYS", 30, 1),
            rating_link=mode,
            complaint_due_days=_whole(config, "COMPLAINT_DUE_DAYS", 10, 1),
            staff_min_ratings=_whole(config, "STAFF_MIN_RATINGS", 30, 1),
            criteria_grade=grade in ("1", "true", "yes", "on"),
            link_key=str(key),
        )
