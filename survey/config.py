"""Settings read from the environment.

``DATABASE_URL``     any SQLAlchemy URL; default a SQLite file in the instance folder.
``SECRET_KEY``       signs the session cookies. Required in production, at least 32 bytes. In
                     development a random key is made once and kept in ``instance/secret_key``
                     (mode 0600); under tests a random key per process.
``PUBLIC_BASE_URL``  the absolute origin that QR codes encode, e.g. ``https://hailong.dienbien.gov.vn``.
``SURVEY_ENV``       ``production`` (default), ``development`` or ``testing``.

Any of these may also be written in ``instance/settings.env`` (``NAME=value`` lines, ``#``
comments): the values a copy always runs with, for a variable the environment does not set. The
quick start writes ``SURVEY_ENV=development`` there, so every ``flask --app wsgi …`` command of
that copy runs in development without exporting anything.

Security (survey/security.py, survey/ratelimit.py, survey/auth.py):
``RATELIMIT_STORAGE_URI``  where rate-limit counters live: ``redis://127.0.0.1:6379`` shares them
                           across processes; default ``memory://`` (per process).
``RATELIMIT_ENABLED``      ``false`` switches rate limits off (default on, off under testing).
``RATELIMIT_FORM_PER_ADDRESS``, ``RATELIMIT_FORM_PER_POINT``, ``RATELIMIT_SIGN_IN_PER_ADDRESS``
                           the limits, e.g. ``30 per minute; 300 per hour``.
``SESSION_IDLE_MINUTES``   an official's session ends after this much inactivity (default 30).
``SESSION_MAX_HOURS``      and at the latest this long after signing in (default 12). Signing out,
                           a password change or reset, disabling and a role change end every
                           session of that user at once (``app_user.session_epoch``).
``SIGN_IN_ACCOUNT_CEILING`` failed sign-ins an hour on one username, from all addresses, above which
                           new addresses are slowed (default 100; survey/services/accounts.py).
``COMMENT_RETENTION_DAYS`` raw comments older than this are blanked by ``flask purge-comments``.
``PROXY_FIX_X_FOR``        number of trusted reverse proxies in front of the app (default 0).

Public quarterly report (survey/publication/, survey/services/publication/):
``PUBLIC_REPORTS_ENABLED`` ``true`` serves ``/cong-khai/`` to everyone without signing in. Default
                           on in development and testing, **off in production**: publishing is the
                           province's decision, taken once its targets are entered and the flagged
                           responses of the quarter decided, not something a new installation does
                           by itself. ``flask publish-report`` works either way.
``PUBLIC_MIN_RESPONSES``   groups with fewer respondents are not published (default, and never
                           less than, ``MIN_RESPONSES_FOR_INDEX``: 30).
Reports (survey/report_cache.py, survey/extensions.py):
``REPORTS_DATABASE_URL``   a read-only copy of the database (a PostgreSQL streaming replica) that
                           reports and their files read from; default: ``DATABASE_URL``.
``REPORT_CACHE_TTL_SECONDS`` how long a computed report or chart set stays cached (default 3600),
                           in the Redis of ``RATELIMIT_STORAGE_URI`` when it names one (shared by
                           every worker and server), else in each process:
``REPORT_CACHE_MEMORY_MB`` at most this much per process then (default 64).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import stat
from pathlib import Path
from typing import Any


class ConfigurationError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


DEVELOPMENT_ENVIRONMENTS = {"development", "testing"}
INSTANCE_SETTINGS_FILE = "settings.env"
MIN_SECRET_KEY_BYTES = 32
SECRET_KEY_FILE = "secret_key"  # noqa: S105 — a file name, not a password
HOW_TO_MAKE_A_KEY = (
    "Set it to a long random value, e.g. "
    "`export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')`, "
    "and keep it secret and the same across restarts and servers."
)
_TESTING_SECRET_KEY = secrets.token_hex(32)  # tests: random, shared by the apps of one process


def read_instance_settings(instance_path: str) -> dict[str, str]:
    """The ``NAME=value`` lines of ``instance/settings.env`` (none when there is no such file)."""
    path = Path(instance_path) / INSTANCE_SETTINGS_FILE
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise ConfigurationError(f"{path}, line {number}: write NAME=value, not {line!r}.")
        values[name] = value.strip().strip("'\"")
    return values


def apply_instance_settings(instance_path: str) -> None:
    """Set each variable of ``instance/settings.env`` that the environment does not set (every
    reader of the environment, here and in the services, then sees it)."""
    for name, value in read_instance_settings(instance_path).items():
        os.environ.setdefault(name, value)


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
        # Sign-in back-off (survey/services/accounts.py, SignInBackOff): per username and address,
        # 5 free failures, then waits of 1, 2, 4 … minutes (at most an hour); above 100 failures
        # an hour on one username, one try per 10 s from addresses it never signed in from.
        "SIGN_IN_FREE_FAILURES": 5,
        "SIGN_IN_FIRST_DELAY": dt.timedelta(minutes=1),
        "SIGN_IN_LONGEST_DELAY": dt.timedelta(hours=1),
        "SIGN_IN_ACCOUNT_CEILING": _int_env("SIGN_IN_ACCOUNT_CEILING", 100),
        "SIGN_IN_ACCOUNT_SPACING": dt.timedelta(seconds=10),
        "COMMENT_RETENTION_DAYS": _int_env("COMMENT_RETENTION_DAYS", 0) or None,
        "PROXY_FIX_X_FOR": _int_env("PROXY_FIX_X_FOR", 0),
        # Responses compressed by the app (survey/compression.py); off when a proxy does it.
        "COMPRESS_ENABLED": os.environ.get("COMPRESS_ENABLED", "true").lower()
        not in ("0", "false", "no", "off"),
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
        "REPORTS_DATABASE_URL": os.environ.get("REPORTS_DATABASE_URL") or None,
        "REPORT_CACHE_TTL_SECONDS": _int_env("REPORT_CACHE_TTL_SECONDS", 3600),
        "REPORT_CACHE_MEMORY_MB": _int_env("REPORT_CACHE_MEMORY_MB", 64),
        # Routes without @requires/@public_route answer 403 (survey/auth.py).
        "ACCESS_DEFAULT_DENY": True,
        "PUBLIC_REPORTS_ENABLED": _bool_env(
            "PUBLIC_REPORTS_ENABLED", environment in DEVELOPMENT_ENVIRONMENTS
        ),
        "PUBLIC_MIN_RESPONSES": _int_env("PUBLIC_MIN_RESPONSES", 0) or None,
    }
    settings.update(test_config)
    settings["SECRET_KEY"] = _secret_key(settings["SECRET_KEY"], environment, instance_path)
    settings.setdefault("SESSION_COOKIE_SECURE", settings["PUBLIC_BASE_URL"].startswith("https://"))
    settings.setdefault("REMEMBER_COOKIE_SECURE", settings["SESSION_COOKIE_SECURE"])
    return settings


def _secret_key(configured: str | None, environment: str, instance_path: str) -> str:
    """The key that signs session cookies.

    Production: ``SECRET_KEY``, at least 32 bytes. Development: ``SECRET_KEY`` if set, otherwise a
    random key made on the first start and kept in ``instance/secret_key`` (0600) for the next
    ones, so nobody can sign a cookie with a published constant. Testing: a random key per process.
    """
    if environment not in DEVELOPMENT_ENVIRONMENTS:
        if not configured:
            raise ConfigurationError("SECRET_KEY is not set. " + HOW_TO_MAKE_A_KEY)
        if len(configured.encode("utf-8")) < MIN_SECRET_KEY_BYTES:
            raise ConfigurationError(
                f"SECRET_KEY is too short: it needs at least {MIN_SECRET_KEY_BYTES} bytes. "
                + HOW_TO_MAKE_A_KEY
            )
        return configured
    if configured:
        return configured
    if environment == "testing":
        return _TESTING_SECRET_KEY
    return _development_key(Path(instance_path) / SECRET_KEY_FILE)


def _development_key(path: Path) -> str:
    """Read the kept development key, or make it; the first of several starting processes wins."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)  # atomic: appears complete, never overwrites another's key
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if len(key) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"{path} holds no usable key: delete it and a new one is made on the next start."
        )
    return key


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}.") from None


def _bool_env(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}.")
