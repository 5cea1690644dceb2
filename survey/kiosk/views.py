"""Kiosk views: the app shell, the pairing page, the worker and manifest, and the JSON API.

The API is authenticated by the tablet's device token (``Authorization: Bearer``), not by a
cookie, so it is exempt from the session CSRF check. Its errors are JSON
``{"error": {"code", "message_vi", "message_en"}}`` that the tablet shows to staff.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from flask import current_app, jsonify, render_template, request, url_for
from werkzeug import Response
from werkzeug.exceptions import HTTPException

from survey.auth import public_route
from survey.errors import HTTP_MESSAGES, render_error, status_of
from survey.extensions import csrf, get_session
from survey.i18n import current_language
from survey.kiosk import kiosk_blueprint as bp
from survey.kiosk.texts import texts_in_both_languages
from survey.services.errors import DomainError, InvalidAnswers
from survey.services.integrity import IntegritySettings
from survey.services.kiosks import (
    KioskSettings,
    authenticate_kiosk,
    kiosk_setup,
    pair_kiosk,
    submit_from_kiosk,
    touch_kiosk,
)

log = logging.getLogger(__name__)

SHELL_ASSETS = ("kiosk/kiosk.js", "kiosk/kiosk.css", "kiosk/icon-192.png")
VERSIONED_FILES = (
    "static/kiosk/kiosk.js",
    "static/kiosk/kiosk.css",
    "templates/kiosk/shell.html",
    "templates/kiosk/sw.js",
    "templates/public/_faces.html",
    "translations/vi/LC_MESSAGES/messages.mo",
)


def _is_api() -> bool:
    return request.path.startswith("/kiosk/api/")


def _json_error(status: int, code: str, message_vi: str, message_en: str) -> Response:
    response = jsonify(error={"code": code, "message_vi": message_vi, "message_en": message_en})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response | tuple[str, int]:
    status = status_of(error)
    if not _is_api():
        return render_error(status, error.message_vi, error.message_en)
    code = type(error).__name__
    return _json_error(status, code, error.message_vi, error.message_en)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    message_vi, message_en = HTTP_MESSAGES.get(status, HTTP_MESSAGES[400])
    if not _is_api():
        return render_error(status, message_vi, message_en)
    return _json_error(status, f"http_{status}", message_vi, message_en)


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception) -> Response | tuple[str, int]:
    log.exception("unhandled kiosk error", exc_info=error)
    if not _is_api():
        return render_error(500, *HTTP_MESSAGES[500])
    return _json_error(500, "server_error", *HTTP_MESSAGES[500])


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def asset_version() -> str:
    """A hash of everything the worker caches: a new release replaces the cached shell."""
    cached = current_app.extensions.get("survey.kiosk_version")
    if cached is None:
        root = Path(current_app.root_path).parent
        digest = hashlib.sha256()
        for name in VERSIONED_FILES:
            path = root / name
            digest.update(path.read_bytes() if path.exists() else name.encode())
        cached = digest.hexdigest()[:12]
        current_app.extensions["survey.kiosk_version"] = cached
    return cached


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# --- Pages -------------------------------------------------------------------------------------


@bp.get("/")
@public_route
def shell() -> Response:
    """The app shell: identical for every tablet (the token and questionnaire come later)."""
    settings = KioskSettings.from_config(current_app.config)
    html = render_template(
        "kiosk/shell.html",
        language="vi",
        texts=texts_in_both_languages(),
        version=asset_version(),
        settings=settings,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/pair/<code>")
@bp.get("/pair")
@public_route
def pair_page(code: str = "") -> Response:
    """Shows the code and a button; the script spends the code (a GET never does)."""
    html = render_template(
        "kiosk/pair.html", language=current_language(), code=code, texts=texts_in_both_languages()
    )
    response = Response(html, mimetype="text/html")
    response.headers["Referrer-Policy"] = "no-referrer"
    return _no_store(response)


@bp.get("/sw.js")
@public_route
def service_worker() -> Response:
    assets = [url_for("static", filename=name) for name in SHELL_ASSETS]
    body = render_template(
        "kiosk/sw.js",
        version=asset_version(),
        shell_url=url_for(".shell"),
        manifest_url=url_for(".manifest"),
        assets=assets,
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
@public_route
def manifest() -> Response:
    data = {
        "name": "Đánh giá sự hài lòng — Kiosk",
        "short_name": "Hài lòng",
        "lang": "vi",
        "start_url": url_for(".shell"),
        "scope": url_for(".shell"),
        "display": "fullscreen",
        "orientation": "any",
        "background_color": "#f3f5f7",
        "theme_color": "#0b4f8a",
        "icons": [
            {
                "src": url_for("static", filename="kiosk/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
            },
            {
                "src": url_for("static", filename="kiosk/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any maskable",
            },
        ],
    }
    response = jsonify(data)
    response.mimetype = "application/manifest+json"
    return response


# --- JSON API ------------------------------------------------------------------------------------


@bp.post("/api/pair")
@csrf.exempt
@public_route
def api_pair() -> tuple[Response, int]:
    payload = _json_body()
    code = payload.get("code") if isinstance(payload, dict) else None
    pairing = pair_kiosk(get_session(), code if isinstance(code, str) else "")
    return _no_store(jsonify(token=pairing.token, kiosk_id=pairing.kiosk_id)), 201


@bp.get("/api/setup")
@public_route
def api_setup() -> Response:
    session = get_session()
    kiosk = authenticate_kiosk(session, _bearer_token())
    setup = kiosk_setup(session, kiosk)
    touch_kiosk(session, kiosk)
    settings = KioskSettings.from_config(current_app.config)
    point, questionnaire = setup.point, setup.questionnaire
    return _no_store(
        jsonify(
            kiosk={"id": kiosk.id, "label": kiosk.label},
            point={
                "name_vi": point.name_vi,
                "name_en": point.name_en,
                "agency_vi": point.agency.name_vi,
                "agency_en": point.agency.name_en,
            },
            questionnaire={
                "id": questionnaire.id,
                "title_vi": questionnaire.title_vi,
                "title_en": questionnaire.title_en,
                "items": [
                    {
                        "code": item.code,
                        "text_vi": item.text_vi,
                        "text_en": item.text_en,
                        "not_applicable": item.allows_not_applicable,
                    }
                    for item in questionnaire.items
                ],
            },
            settings={
                "min_interval_seconds": settings.min_interval_seconds,
                "idle_seconds": settings.idle_seconds,
                "countdown_seconds": settings.countdown_seconds,
                "thanks_seconds": settings.thanks_seconds,
                "timeout_policy": settings.timeout_policy,
            },
        )
    )


@bp.post("/api/responses")
@csrf.exempt
@public_route
def api_submit() -> tuple[Response, int]:
    session = get_session()
    kiosk = authenticate_kiosk(session, _bearer_token())
    submission = _parse_submission(_json_body())
    result = submit_from_kiosk(
        session,
        kiosk,
        settings=IntegritySettings.from_config(current_app.config),
        **submission,
    )
    body = jsonify(response_id=result.response_id, created=result.created)
    return _no_store(body), 201 if result.created else 200


# Integer primary keys (PostgreSQL INTEGER); a larger id names no row and must not reach the driver.
MAX_ID = 2**31 - 1
MAX_ANSWERS = 100  # far more items than any questionnaire has


def _json_body() -> Any:
    """The request's JSON document, or None: not JSON, not UTF-8, or nested deeper than the parser
    can recurse (``RecursionError`` would otherwise be a 500). ``MAX_CONTENT_LENGTH`` bounds the
    size (a 413)."""
    if not request.is_json:
        return None
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        return None


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_id(
    payload: dict[str, Any], name: str, message_vi: str, message_en: str
) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if not _whole_number(value) or not 1 <= value <= MAX_ID:
        raise InvalidAnswers(message_vi, message_en)
    return int(value)


def _parse_submission(payload: Any) -> dict[str, Any]:
    """Shape and type checks; the answers themselves are validated by submit_response.

    Wrong types are refused (a 422 the tablet drops: it never sends them), except the device
    time, which is only a hint: anything but an ISO 8601 time with a zone counts as missing.
    """
    if not isinstance(payload, dict):
        raise InvalidAnswers("Dữ liệu gửi lên không hợp lệ.", "The request body is not valid JSON.")
    answers = payload.get("answers")
    if (
        not isinstance(answers, dict)
        or len(answers) > MAX_ANSWERS
        or not all(value is None or _whole_number(value) for value in answers.values())
    ):
        raise InvalidAnswers(
            "Câu trả lời phải là các mức từ 1 đến 5.", "Answers must be ratings from 1 to 5."
        )
    client_id = payload.get("client_id")
    if not isinstance(client_id, str):
        raise InvalidAnswers("Mã phiếu không hợp lệ.", "The answer's id is not valid.")
    comment = payload.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise InvalidAnswers("Ý kiến phải là một đoạn văn bản.", "The comment must be text.")
    language = payload.get("language")
    return {
        "client_id": client_id,
        "answers": answers,
        "comment": comment,
        "language": language if isinstance(language, str) and language in ("vi", "en") else "vi",
        "device_time": _parse_time(payload.get("device_time")),
        "questionnaire_id": _optional_id(
            payload,
            "questionnaire_id",
            "Mã phiếu khảo sát không hợp lệ.",
            "The questionnaire id is not valid.",
        ),
        "answered_on_kiosk_id": _optional_id(
            payload, "kiosk_id", "Mã máy kiosk không hợp lệ.", "The kiosk id is not valid."
        ),
    }


def _parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time with a zone (JavaScript's toISOString), in UTC; anything else (no zone,
    not a date, beyond what a datetime holds once in UTC) is None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return None
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None
