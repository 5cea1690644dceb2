"""Rate limits (Flask-Limiter) on the public form and on sign-in.

Limits (``limits`` notation, each a setting that the environment can change):

* ``RATELIMIT_FORM_PER_ADDRESS`` — submissions of the public form per client address;
  generous because a hospital's Wi-Fi or a mobile carrier puts many citizens behind one address.
* ``RATELIMIT_FORM_PER_POINT`` — accepted submissions per service point, whoever sends them.
  Only a POST that the form accepts (the redirect to the thank-you page) is counted, after the
  fact: garbage without a CSRF token or with invalid answers cannot spend a desk's budget and
  block its citizens. Such posts still count against their address's budget.
* ``RATELIMIT_SIGN_IN_PER_ADDRESS`` — sign-in attempts per client address (the account lockout
  in survey/services/accounts.py covers guessing one account from many addresses).
* ``RATELIMIT_KIOSK_PER_TOKEN`` (``120 per minute; 2000 per hour``) — kiosk submissions per device
  token (keyed by the token's hash): a stolen token floods no more than that, while a tablet's
  offline queue flushes at two answers a second; the rest follow after ``Retry-After``.
* ``RATELIMIT_KIOSK_PAIR_PER_ADDRESS`` (``10 per minute; 50 per hour``) — pairing attempts.
* ``RATELIMIT_PUBLIC_REPORT_PER_ADDRESS`` (``60 per minute; 600 per hour``) — opening the public
  quarterly report's pages and PDFs (``/cong-khai/``): reading is free, but a report not yet
  cached costs seconds of computing, so one address cannot keep the workers busy.

Only POSTs count, except on the dossier link and the public report. A citizen refused by either
form limit gets the form back (429), answers and comment kept, with "please wait a minute, then
press Send again" (survey/public/views.py); other 429s are the bilingual "too many requests" page
of survey/errors.py, or the kiosk API's JSON error. Settings missing from the app's config are read
from the environment, else the defaults above.

The counters live in ``RATELIMIT_STORAGE_URI``: ``redis://127.0.0.1:6379`` (Debian's
``redis-server``) is shared by every server process and machine. The default ``memory://`` keeps
counters per process, so with gunicorn's N workers a client gets up to N times the limit; use Redis
in production. If Redis goes away the limits fall back to per-process memory rather than refusing
citizens (``RATELIMIT_SWALLOW_ERRORS``, in-memory fallback).

``RATELIMIT_ENABLED`` switches all of it (off by default under ``SURVEY_ENV=testing``; load
benchmarks from one address set it to ``false`` or raise the limits).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _accepted(response: Response) -> bool:
    """The public form accepted the POST: it redirects to the thank-you page."""
    return response.status_code == 302


@dataclass(frozen=True)
class Limit:
    setting: str  # the app setting (or environment variable) holding the limit
    key: str  # "address", "point" or "kiosk" (KEYS)
    counts: Callable[[Response], bool] | None = None  # None: every request counts
    methods: tuple[str, ...] = ("POST",)  # the requests it counts (opening a form is free)


LIMITED_ENDPOINTS: dict[str, tuple[Limit, ...]] = {
    "public.show_form": (
        Limit("RATELIMIT_FORM_PER_ADDRESS", "address"),
        Limit("RATELIMIT_FORM_PER_POINT", "point", counts=_accepted),
    ),
    # The dossier link: guessing tokens (a GET is enough) or flooding one is throttled per address.
    "dossiers.rate": (Limit("RATELIMIT_FORM_PER_ADDRESS", "address", methods=("GET", "POST")),),
    "dossiers.rate_handling": (Limit("RATELIMIT_FORM_PER_ADDRESS", "address"),),
    "admin.sign_in": (Limit("RATELIMIT_SIGN_IN_PER_ADDRESS", "address"),),
    "kiosk.api_submit": (Limit("RATELIMIT_KIOSK_PER_TOKEN", "kiosk"),),
    "kiosk.api_pair": (Limit("RATELIMIT_KIOSK_PAIR_PER_ADDRESS", "address"),),
    # The public quarterly report: GETs, as a cold report takes seconds to compute.
    **{
        f"publication.{view}": (
            Limit("RATELIMIT_PUBLIC_REPORT_PER_ADDRESS", "address", methods=("GET",)),
        )
        for view in ("index", "quarter", "pdf")
    },
}


DEFAULTS = {
    "RATELIMIT_KIOSK_PER_TOKEN": "120 per minute; 2000 per hour",
    "RATELIMIT_KIOSK_PAIR_PER_ADDRESS": "10 per minute; 50 per hour",
    "RATELIMIT_PUBLIC_REPORT_PER_ADDRESS": "60 per minute; 600 per hour",
}


def setting(app: Flask, name: str) -> str:
    return str(app.config.get(name) or os.environ.get(name) or DEFAULTS[name])


def client_address() -> str:
    return "address:" + (get_remote_address() or "unknown")


def service_point_key() -> str:
    code = (request.view_args or {}).get("code", "")
    return f"point:{code}"


def kiosk_token_key() -> str:
    """The device token's hash (never the token itself); the address for a call without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return client_address()
    return "kiosk:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]


KEYS: dict[str, Callable[[], str]] = {
    "address": client_address,
    "point": service_point_key,
    "kiosk": kiosk_token_key,
}


def init_app(app: Flask) -> Limiter | None:
    """Attach one limiter to this app (after the blueprints) and wrap the limited views."""
    if not app.config.get("RATELIMIT_ENABLED", True):
        return None
    limiter = Limiter(
        key_func=client_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy="fixed-window",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "survey"),
    )
    for endpoint, limits in LIMITED_ENDPOINTS.items():
        view: Any = app.view_functions.get(endpoint)
        if view is None:
            continue
        for limit in limits:
            view = limiter.limit(
                setting(app, limit.setting),
                key_func=KEYS[limit.key],
                methods=list(limit.methods),
                scope=f"{endpoint}:{limit.key}",
                deduct_when=limit.counts,
            )(view)
        app.view_functions[endpoint] = view

    app.extensions["survey.limiter"] = limiter
    return limiter
