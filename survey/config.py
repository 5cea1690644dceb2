"""Settings read from the environment.

``DATABASE_URL``     any SQLAlchemy URL; default a SQLite file in the instance folder.
``SECRET_KEY``       required outside development and tests.
``PUBLIC_BASE_URL``  the absolute origin that QR codes encode, e.g. ``https://hailong.dienbien.gov.vn``.
``SURVEY_ENV``       ``production`` (default), ``development`` or ``testing``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class ConfigurationError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


DEVELOPMENT_ENVIRONMENTS = {"development", "testing"}


def load_settings(instance_path: str, test_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Collect the settings for one application instance.

    ``test_config`` overrides the environment (tests pass their database URL and flags here).
    """
    test_config = dict(test_config or {})
    environment = test_config.pop("SURVEY_ENV", None) or os.environ.get("SURVEY_ENV", "production")
    if test_config.get("TESTING"):
        environment = "testing"
    default_database = "sqlite:///" + str(Path(instance_path) / "survey.sqlite3")
    settings: dict[str, Any] = {
        "SURVEY_ENV": environment,
        "DATABASE_URL": os.environ.get("DATABASE_URL") or default_database,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "BABEL_DEFAULT_LOCALE": "vi",
        "LANGUAGES": ("vi", "en"),
        # A citizen who lingers on the form must still be able to submit (CSRF token lifetime).
        "WTF_CSRF_TIME_LIMIT": 6 * 3600,
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MIN_RESPONSES_FOR_INDEX": 30,
    }
    settings.update(test_config)
    if not settings["SECRET_KEY"]:
        if environment not in DEVELOPMENT_ENVIRONMENTS:
            raise ConfigurationError(
                "SECRET_KEY is not set. Set it to a long random value, e.g. "
                "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`, "
                "or set SURVEY_ENV=development for a local trial."
            )
        settings["SECRET_KEY"] = "development-only-" + environment
    settings.setdefault("SESSION_COOKIE_SECURE", settings["PUBLIC_BASE_URL"].startswith("https://"))
    return settings
