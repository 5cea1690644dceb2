"""One place that turns errors into pages a person understands (never a traceback)."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from survey.i18n import current_language
from survey.services.access import Forbidden
from survey.services.accounts import SignInDelayed
from survey.services.dossiers.codes import InvalidDossierCode
from survey.services.dossiers.complaints import ComplaintClosed
from survey.services.dossiers.links import InvalidLink, LinkExpired
from survey.services.dossiers.rating import AlreadyRated
from survey.services.errors import (
    DomainError,
    InvalidAnswers,
    InvalidInput,
    NoQuestionnaire,
    NotFound,
    UnknownServicePoint,
)
from survey.services.importing import ImportRefused
from survey.services.integrity import DecisionNotAllowed
from survey.services.kiosks import AnsweredAtAnotherPoint, InvalidPairingCode, KioskNotAuthorised
from survey.services.responses import IdempotencyConflict
from survey.services.setup.drafts import NotADraft
from survey.services.setup.questionnaires import UnknownQuestionnaire

log = logging.getLogger(__name__)

# The HTTP status of each domain error; a subclass not listed answers as its nearest listed
# ancestor (``OutOfScope`` as ``Forbidden``), and any other domain error 400.
DOMAIN_ERROR_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    KioskNotAuthorised: 401,
    Forbidden: 403,
    DecisionNotAllowed: 403,
    NotFound: 404,
    UnknownServicePoint: 404,
    NoQuestionnaire: 404,
    UnknownQuestionnaire: 404,
    InvalidPairingCode: 404,
    InvalidLink: 404,
    AlreadyRated: 409,
    ComplaintClosed: 409,
    AnsweredAtAnotherPoint: 409,
    IdempotencyConflict: 409,
    NotADraft: 409,
    LinkExpired: 410,
    InvalidAnswers: 422,
    InvalidDossierCode: 422,
    ImportRefused: 422,
    SignInDelayed: 429,
}

HTTP_MESSAGES = {
    400: (
        "Yêu cầu không hợp lệ. Vui lòng tải lại trang và thử lại.",
        "The request was not valid. Please reload the page and try again.",
    ),
    403: ("Bạn không có quyền xem trang này.", "You are not allowed to see this page."),
    404: ("Không tìm thấy trang này.", "This page does not exist."),
    405: ("Thao tác này không được hỗ trợ.", "This action is not supported here."),
    413: ("Dữ liệu gửi lên quá lớn.", "What was sent is too large."),
    429: (
        "Bạn gửi quá nhanh. Vui lòng đợi một lát rồi thử lại.",
        "Too many requests. Please wait a moment and try again.",
    ),
    500: (
        "Đã có lỗi phía máy chủ. Câu trả lời đã gửi trước đó không bị mất; vui lòng thử lại sau.",
        "Something went wrong on our side. Answers already sent are safe; please try again later.",
    ),
}


def status_of(error: DomainError) -> int:
    """The HTTP status a domain error answers with (``DOMAIN_ERROR_STATUS``)."""
    for cls in type(error).__mro__:
        status = DOMAIN_ERROR_STATUS.get(cls)
        if status is not None:
            return status
    return 400


def render_error(status: int, message_vi: str, message_en: str) -> tuple[str, int]:
    return (
        render_template(
            "errors/error.html",
            status=status,
            message_vi=message_vi,
            message_en=message_en,
            language=current_language(),
        ),
        status,
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[str, int]:
        return render_error(status_of(error), error.message_vi, error.message_en)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
        # The database is restarting or busy. Sending again is safe: the form's submission id
        # makes sure an answer is never counted twice.
        log.warning("database unavailable: %s", error)
        page, status = render_error(
            503,
            "Hệ thống đang bận trong giây lát. Vui lòng bấm Gửi lại; câu trả lời sẽ không bị "
            "tính hai lần.",
            "The system is busy for a moment. Please press Send again; your answer will not be "
            "counted twice.",
        )
        return page, status, {"Retry-After": "5"}

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        return render_error(
            400,
            "Phiên làm việc đã hết hạn. Vui lòng tải lại trang và gửi lại.",
            "Your session expired. Please reload the page and submit again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        message_vi, message_en = HTTP_MESSAGES.get(status, HTTP_MESSAGES[400])
        return render_error(status, message_vi, message_en)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error", exc_info=error)
        return render_error(500, *HTTP_MESSAGES[500])
