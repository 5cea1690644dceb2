"""Storing a citizen's response: validation against the questionnaire, privacy, idempotency."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.services.errors import DomainError, InvalidAnswers
from survey.services.integrity import IntegritySettings, burst_window, check_burst_on_arrival
from survey.storage import queries
from survey.storage.models import CHANNELS, Questionnaire, ServicePoint, utc_now

COMMENT_MAX_LENGTH = 1000
IDEMPOTENCY_KEY_PATTERN = re.compile(r"\A[A-Za-z0-9_-]{16,64}\Z")

# Personal data is masked in place before a comment is stored (responses stay anonymous). One
# left-to-right scan: an e-mail address, a dossier code of the national format (agency code of
# dot-separated groups, ``-YYMMDD-``, a number: ``000.00.20.H12-251203-0001``), a health-insurance
# card number (two letters and 13 digits: ``DN4797915140156``), a date (kept), or a run of digits
# in groups joined by at most one space, dot, dash or no-break space, with ``+84`` or an area code
# in brackets allowed in front. A run of 9 digits or more is a phone (10–11 digits from ``0``,
# or ``+84``/``84``), an identity or insurance number (CMND 9, BHXH 10, CCCD 12) or another long
# number; shorter runs (years, times, rooms, queue numbers) stay, and so does money: thousands in
# groups of three (``150.000.000``) that end in 000 or are followed by a unit (đồng, đ, VND, …).
MASK_PHONE = "[số điện thoại]"
MASK_ID = "[số giấy tờ]"
MASK_DOSSIER = "[mã hồ sơ]"
MASK_EMAIL = "[email]"
MASK_OTHER = "[đã che]"
_PERSONAL = re.compile(
    r"""
    (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
  | (?P<dossier>(?<![\w.])[A-Za-z0-9]{1,6}(?:\.[A-Za-z0-9]{1,6}){0,5}-\d{6}-[A-Za-z0-9]{3,8}
        (?![\w-]))
  | (?P<insurance>(?<![A-Za-z0-9])[A-Za-z]{2}(?:[ .-]?\d){13}(?!\d))
  | (?P<date>(?<!\d)\d{1,4}(?P<separator>[-./])\d{1,2}(?P=separator)\d{1,4}(?![-./]?\d)
        (?:[ T]\d{1,2}[:h]\d{2}(?::\d{2})?)?)
  | (?P<number>(?<!\d)(?:\(\s?\+?\d{1,4}\s?\)|\+?\d+)
        (?:[ .\-\u00a0]?(?:\(\d{2,4}\)|\d{2,}))*)
    """,
    re.VERBOSE,
)
_MONEY = re.compile(r"\d{1,3}(?:[ .\u00a0]\d{3})+")
_MONEY_UNIT = re.compile(r"\s?(?:đồng|vnđ|vnd|nghìn|ngàn|triệu|tỷ|tỉ|đ|₫|k)(?!\w)", re.IGNORECASE)
_NOT_DIGIT = re.compile(r"\D")
# NUL and other control characters have no place in a comment (PostgreSQL refuses NUL); lone
# surrogates (possible in JSON, ``"\ud800"``) cannot be encoded for any database.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class IdempotencyConflict(DomainError):
    """The key names a response of another origin; deliberately says nothing about it."""

    message_vi = "Mã của phiếu này đã được dùng cho một phiếu khác; phiếu không được lưu."
    message_en = "This answer's id was already used for another answer; it was not stored."


@dataclass(frozen=True)
class SubmissionResult:
    response_id: int
    created: bool  # False when the same idempotency key was already stored


def mask_personal_data(text: str) -> str:
    """Replace e-mail addresses, phone, identity, insurance and dossier numbers by placeholders."""
    return _PERSONAL.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    found = match.group()
    kind = match.lastgroup
    if kind == "email":
        return MASK_EMAIL
    if kind == "dossier":
        return MASK_DOSSIER
    if kind == "insurance":
        return MASK_ID
    if kind != "number":
        return found  # a date
    digits = _NOT_DIGIT.sub("", found)
    if len(digits) < 9:
        return found
    if _MONEY.fullmatch(found) and (
        digits.endswith("000") or _MONEY_UNIT.match(match.string, match.end())
    ):
        return found
    if (
        found.startswith(("+", "(+"))
        or (digits.startswith("0") and len(digits) in (10, 11))
        or (digits.startswith("84") and len(digits) in (11, 12))
    ):
        return MASK_PHONE
    if len(digits) in (9, 10, 12):
        return MASK_ID
    return MASK_OTHER


def clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    comment = unicodedata.normalize("NFC", _UNSTORABLE.sub("", comment)).strip()
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
        # Named, but only a few and short: the codes come from the sender.
        named = ", ".join(code[:40] for code in unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise InvalidAnswers(
            "Câu hỏi không có trong phiếu: " + named,
            "Questions not in this questionnaire: " + named,
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
    kiosk_id: int | None = None,
    device_time: dt.datetime | None = None,
    own_kiosk_ids: Collection[int] = (),
    integrity: IntegritySettings | None = None,
) -> SubmissionResult:
    """Store one response exactly once per idempotency key, in the caller's transaction.

    A double tap or a re-sent POST carries the same key: the first response is kept, unchanged,
    and returned — but only to the same origin (same channel and service point; for a kiosk, a
    kiosk of ``own_kiosk_ids``: the tablet's own retry). A key stored by another kiosk, another
    point or the other channel is refused with ``IdempotencyConflict``, which names nothing of the
    stored response. A stored response is never modified here.

    With ``integrity`` a new response is checked on arrival for an identical-answer burst (one
    bounded query; kiosks run every check themselves, survey/services/kiosks.py).
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
    moment = submitted_at or utc_now()
    response_id, identical_before = queries.insert_response(
        session,
        idempotency_key=idempotency_key,
        service_point_id=point.id,
        questionnaire_id=questionnaire.id,
        channel=channel,
        language=language if language in ("vi", "en") else "vi",
        submitted_at=moment,
        comment=stored_comment,
        answers=item_values,
        kiosk_id=kiosk_id,
        device_time=device_time,
        burst=None if integrity is None else burst_window(moment, integrity),
    )
    if response_id is not None:
        if integrity is not None:
            check_burst_on_arrival(
                session,
                response_id=response_id,
                point_id=point.id,
                submitted_at=moment,
                settings=integrity,
                identical_before=identical_before,
            )
        return SubmissionResult(response_id, created=True)
    # This key is already stored (a double tap, a re-sent POST, a replayed kiosk queue).
    existing = queries.response_origin_by_key(session, idempotency_key)
    same_kiosk = existing is not None and (
        existing.kiosk_id in own_kiosk_ids if channel == "kiosk" else existing.kiosk_id is None
    )
    if existing is None or not (
        same_kiosk and existing.channel == channel and existing.service_point_id == point.id
    ):
        raise IdempotencyConflict()
    return SubmissionResult(existing.id, created=False)
