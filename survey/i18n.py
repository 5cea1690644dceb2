"""Language choice: Vietnamese by default, English one tap away (``?lang=en``, kept in a cookie)."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_babel import get_locale

LANGUAGE_COOKIE = "lang"


def current_language() -> str:
    """The language of this request's pages: "vi" or "en" (Vietnamese outside a request)."""
    locale = get_locale()
    return locale.language if locale else "vi"


def select_language() -> str:
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked is not None and asked in languages:
        return asked
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    if remembered is not None and remembered in languages:
        return remembered
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def remember_language(response: Response) -> Response:
    asked = request.args.get("lang")
    if asked is not None and asked in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            asked,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
        )
    return response
