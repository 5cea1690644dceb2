"""Storing a citizen's response: validation against the questionnaire, privacy, idempotency."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.services.errors import InvalidAnswers
from survey.storage import queries
from survey.storage.models import CHANNELS, Questionnaire, ServicePoint, utc_now

COMMENT_MAX_LENGTH = 1000
IDEMPOTENCY_KEY_PATTERN = re.compile(r"\A[A-Za-z0-9_-]{16,64}\Z")

# Phone numbers (Vietnamese mobile/landline, with or without +84, spaces, dots or dashes) and e-mail
# addresses are masked before a comment is stored: responses stay anonymous.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\d)")


@dataclass(frozen=True)
class SubmissionResult:
    response_id: int
    created: bool  # False when the same idempotency key was already stored


def mask_personal_data(text: str) -> str:
    """Replace e-mail addresses and phone numbers with placeholders."""
    return _PHONE.sub("[số điện thoại]", _EMAIL.sub("[email]", text))


def clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    # NUL and other control characters have no place in a comment (PostgreSQL refuses NUL).
    comment = _CONTROL.sub("", comment).strip()
    if not comment:
        return None
    if len(comment) > COMMENT_MAX_LENGTH:
        raise InvalidAnswers(
            f"Ý kiến quá dài (tối đa {COMMENT_MAX_LENGTH} ký tự).",
            f"The comment is too long (at most {COMMENT_MAX_LENGTH} characters).",
        )
    return mask_personal_data(comment)


def validate_answers(
    questionnaire: Questionnaire, answers: dict[str, int | None]
) -> dict[int, int | None]:
    """Map item codes to item ids, checking every item is answered within its scale.

    ``None`` means "not applicable" and is accepted only where the item allows it.
    """
    by_code = {item.code: item for item in questionnaire.items}
    unknown = sorted(set(answers) - set(by_code))
    if unknown:
        raise InvalidAnswers(
            "Câu hỏi không có trong phiếu: " + ", ".join(unknown),
            "Questions not in this questionnaire: " + ", ".join(unknown),
        )
    validated: dict[int, int | None] = {}
    for code, item in by_code.items():
        if code not in answers:
            raise InvalidAnswers(
                f"Chưa trả lời câu: {item.text_vi}", f"Not answered: {item.text_en}"
            )
        value = answers[code]
        if value is None and not item.allows_not_applicable:
            raise InvalidAnswers(
                f"Câu này cần một mức đánh giá từ 1 đến 5: {item.text_vi}",
                f"This question needs a rating from 1 to 5: {item.text_en}",
            )
        if value is not None and (isinstance(value, bool) or value not in (1, 2, 3, 4, 5)):
            raise InvalidAnswers(
                f"Mức đánh giá phải từ 1 đến 5: {item.text_vi}",
                f"The rating must be from 1 to 5: {item.text_en}",
            )
        validated[item.id] = value
    return validated


def submit_response(
    session: Session,
    *,
    point: ServicePoint,
    questionnaire: Questionnaire,
    answers: dict[str, int | None],
    idempotency_key: str,
    channel: str,
    language: str = "vi",
    comment: str | None = None,
    submitted_at: dt.datetime | None = None,
) -> SubmissionResult:
    """Store one response exactly once per idempotency key and commit it.

    A double tap or a re-sent POST carries the same key: the first response is kept and returned.
    """
    if channel not in CHANNELS:
        raise InvalidAnswers(f"Kênh không hợp lệ: {channel}", f"Unknown channel: {channel}")
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(idempotency_key or ""):
        raise InvalidAnswers(
            "Mã phiếu không hợp lệ, vui lòng tải lại trang.",
            "The form id is not valid; please reload the page.",
        )
    item_values = validate_answers(questionnaire, answers)
    stored_comment = clean_comment(comment)
    # No look-up first: the unique key on idempotency_key decides, in one round trip.
    try:
        response_id = queries.insert_response(
            session,
            idempotency_key=idempotency_key,
            service_point_id=point.id,
            questionnaire_id=questionnaire.id,
            channel=channel,
            language=language if language in ("vi", "en") else "vi",
            submitted_at=submitted_at or utc_now(),
            comment=stored_comment,
            answers=item_values,
        )
        session.commit()
    except IntegrityError:
        # This key is already stored (a double tap, a re-sent POST, a replayed kiosk queue).
        session.rollback()
        existing = queries.response_id_by_key(session, idempotency_key)
        if existing is None:
            raise
        return SubmissionResult(existing, created=False)
    return SubmissionResult(response_id, created=True)
