"""Settings read from the environment.

``DATABASE_URL``     any SQLAlchemy URL; default a SQLite file in the instance folder.
``SECRET_KEY``       required outside development and tests.
``PUBLIC_BASE_URL``  the absolute origin that QR codes encode, e.g. ``https://hailong.dienbien.gov.vn``.
``SURVEY_ENV``       ``production`` (default), ``development`` or ``testing``.

Security (survey/security.py, survey/ratelimit.py, survey/services/access.py):
``RATELIMIT_STORAGE_URI``  where rate-limit counters live: ``redis://127.0.0.1:6379`` shares them
                           across processes; default ``memory://`` (per process).
``RATELIMIT_ENABLED``      ``false`` switches rate limits off (default on, off under testing).
``RATELIMIT_FORM_PER_ADDRESS``, ``RATELIMIT_FORM_PER_POINT``, ``RATELIMIT_SIGN_IN_PER_ADDRESS``
                           the limits, e.g. ``30 per minute; 300 per hour``.
``SESSION_IDLE_MINUTES``   an official's session ends after this much inactivity (default 30).
``SESSION_MAX_HOURS``      and at the latest this long after signing in (default 12).
``COMMENT_RETENTION_DAYS`` raw comments older than this are blanked by ``flask purge-comments``.
``PROXY_FIX_X_FOR``        number of trusted reverse proxies in front of the app (default 0).
"""

from __future__ import annotations

import datetime as dt
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
        # Request size limits: one form field, number of fields (survey/security.py).
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        "MAX_FORM_PARTS": 200,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_IDLE_TIMEOUT": dt.timedelta(minutes=_int_env("SESSION_IDLE_MINUTES", 30)),
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=_int_env("SESSION_MAX_HOURS", 12)),
        "SIGN_IN_MAX_FAILURES": 5,
        "SIGN_IN_LOCKOUT": dt.timedelta(minutes=15),
        "COMMENT_RETENTION_DAYS": _int_env("COMMENT_RETENTION_DAYS", 0) or None,
        "PROXY_FIX_X_FOR": _int_env("PROXY_FIX_X_FOR", 0),
        "RATELIMIT_ENABLED": os.environ.get(
            "RATELIMIT_ENABLED", "false" if environment == "testing" else "true"
        ).lower()
        not in ("0", "false", "no", "off"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": "survey",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_FORM_PER_ADDRESS": os.environ.get(
            "RATELIMIT_FORM_PER_ADDRESS", "30 per minute; 300 per hour"
        ),
        "RATELIMIT_FORM_PER_POINT": os.environ.get("RATELIMIT_FORM_PER_POINT", "60 per minute"),
        "RATELIMIT_SIGN_IN_PER_ADDRESS": os.environ.get(
            "RATELIMIT_SIGN_IN_PER_ADDRESS", "10 per minute; 50 per hour"
        ),
        # Routes without @requires/@public_route answer 403 (survey/services/access.py).
        "ACCESS_DEFAULT_DENY": True,
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
    settings.setdefault("REMEMBER_COOKIE_SECURE", settings["SESSION_COOKIE_SECURE"])
    return settings


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}.") from None
