"""Domain errors: each carries a message in Vietnamese and English, and nothing of HTTP (the web
layer maps each class to its status: ``survey/errors.py``)."""

from __future__ import annotations


class DomainError(Exception):
    message_vi = "Yêu cầu không hợp lệ."
    message_en = "The request is not valid."

    def __init__(self, message_vi: str | None = None, message_en: str | None = None) -> None:
        if message_vi:
            self.message_vi = message_vi
        if message_en:
            self.message_en = message_en
        super().__init__(self.message_en)

    def message(self, language: str) -> str:
        return self.message_vi if language == "vi" else self.message_en


class UnknownServicePoint(DomainError):
    message_vi = (
        "Không tìm thấy điểm khảo sát này. Mã QR có thể đã cũ hoặc điểm phục vụ đã ngừng hoạt động."
    )
    message_en = (
        "We could not find this survey point. The QR code may be out of date or the desk closed."
    )


class NoQuestionnaire(DomainError):
    message_vi = "Chưa có phiếu khảo sát cho lĩnh vực này."
    message_en = "There is no questionnaire for this sector yet."


class InvalidAnswers(DomainError):
    message_vi = "Câu trả lời không hợp lệ."
    message_en = "The answers are not valid."


class NotFound(DomainError):
    message_vi = "Không tìm thấy nội dung yêu cầu."
    message_en = "Not found."


class InvalidInput(DomainError):
    """Input a person can correct; the message says what is wrong."""
