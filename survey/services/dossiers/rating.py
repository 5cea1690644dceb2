"""The citizen's one rating of a dossier, behind the dossier's link.

* The form is the service point's questionnaire (the active version of its sector).
* One rating per dossier: the rating's row has the dossier as primary key, so a second rating is
  impossible even from two phones at once; the second one is refused kindly (``AlreadyRated``),
  while a double tap (the same form sent twice) stores one response and shows the thanks again.
* Anonymity: the response itself holds no dossier and no person; ``dossier_rating`` keeps the
  overall answer (all the official ratios and a clerk's results need) and, where the province
  keeps the link (``DOSSIER_RATING_LINK=kept``), the response id; with ``none`` it never does.
  The comment is masked (phones, e-mail, 12-digit ID numbers, dossier codes) before storage.
* A rating whose overall answer is 1 or 2 opens a complaint case; so does a comment the citizen
  marks as a complaint (one case either way). A comment that seems to name a person is held for
  an official's review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.dossiers import complaints
from survey.services.dossiers.codes import mask_dossier_codes
from survey.services.dossiers.links import OpenedLink, resolve
from survey.services.dossiers.privacy import mask_identifiers, names_a_person
from survey.services.dossiers.settings import DossierSettings
from survey.services.errors import DomainError, InvalidAnswers, NoQuestionnaire
from survey.services.exports import local_day_start
from survey.services.questionnaires import active_questionnaire
from survey.services.responses import submit_response
from survey.storage import queries
from survey.storage.database import all_or_nothing
from survey.storage.models import Complaint, Questionnaire, utc_now

DISSATISFIED_AT_MOST = 2


class AlreadyRated(DomainError):
    message_vi = "Hồ sơ này đã được đánh giá. Cảm ơn Ông/Bà!"
    message_en = "This dossier has already been rated. Thank you!"


@dataclass(frozen=True, kw_only=True)
class RatingResult:
    created: bool
    complaint: Complaint | None


def questionnaire_for(session: Session, link: OpenedLink) -> Questionnaire:
    """The active questionnaire of the dossier's service point's sector."""
    questionnaire = active_questionnaire(session, link.dossier.service_point.agency.sector)
    if questionnaire is None:
        raise NoQuestionnaire()
    return questionnaire


def overall_code(questionnaire: Questionnaire) -> str:
    for item in questionnaire.items:
        if item.is_overall:
            return item.code
    raise InvalidAnswers("Phiếu không có câu đánh giá chung.", "The form has no overall item.")


def complaint_of(session: Session, link: OpenedLink) -> Complaint | None:
    """The latest complaint case about the link's dossier, if any."""
    return queries.latest_complaint_of_dossier(session, link.dossier.id)


def is_rated(session: Session, link: OpenedLink) -> bool:
    """Whether the link's dossier has its rating already."""
    return queries.dossier_rating(session, link.dossier.id) is not None


def rate_dossier(
    session: Session,
    token: str,
    *,
    questionnaire: Questionnaire,
    answers: dict[str, int | None],
    idempotency_key: str,
    comment: str | None,
    is_complaint: bool,
    language: str,
    settings: DossierSettings,
    now: dt.datetime | None = None,
) -> RatingResult:
    """Store the dossier's one rating, or raise ``AlreadyRated``, ``InvalidLink``,
    ``LinkExpired`` or ``InvalidAnswers`` having stored nothing."""
    now = now or utc_now()
    link = resolve(session, token, settings, now=now)
    dossier_id, invitation_id = link.dossier.id, link.invitation.id
    overall = answers.get(overall_code(questionnaire))
    if isinstance(overall, bool) or overall not in (1, 2, 3, 4, 5):
        raise InvalidAnswers(
            "Câu đánh giá chung cần một mức từ 1 đến 5.",
            "The overall question needs a rating from 1 to 5.",
        )
    if queries.dossier_rating(session, dossier_id) is not None:
        return _repeat(session, idempotency_key)
    cleaned = mask_identifiers(mask_dossier_codes(comment)) if comment else comment
    try:
        with all_or_nothing(session):  # the claim stays only with its response
            queries.add_dossier_rating(session, dossier_id, overall)  # claims the dossier
            result = submit_response(  # validates and stores the response
                session,
                point=link.dossier.service_point,
                questionnaire=questionnaire,
                answers=answers,
                idempotency_key=idempotency_key,
                channel="qr",
                language=language,
                comment=cleaned,
                submitted_at=now,
            )
    except IntegrityError:  # another phone rated this dossier a moment ago
        return _repeat(session, idempotency_key)
    if not result.created:
        return RatingResult(created=False, complaint=None)
    if settings.rating_link == "kept":
        queries.link_rating_to_response(session, dossier_id, result.response_id)
    queries.mark_invitation_used(session, invitation_id)
    stored = queries.response_by_id(session, result.response_id)
    stored_comment = stored.comment if stored is not None else None
    case = None
    low = overall <= DISSATISFIED_AT_MOST
    if low or (is_complaint and stored_comment):
        keep_text = is_complaint or settings.rating_link == "kept"
        dossier = queries.dossier_by_id(session, dossier_id)
        if dossier is None:  # the invitation checked above names a stored dossier
            raise RuntimeError(f"dossier {dossier_id} is not stored")
        case = complaints.open_for_dossier(
            session,
            dossier,
            source="comment" if is_complaint and stored_comment else "low_rating",
            description=(stored_comment or "") if keep_text else "",
            settings=settings,
            now=now,
        )
    reason = names_a_person(stored_comment, queries.staff_names(session))
    if reason is not None:
        queries.add_comment_review(session, result.response_id, reason)
    session.flush()
    return RatingResult(created=True, complaint=case)


def _repeat(session: Session, idempotency_key: str) -> RatingResult:
    """The dossier is rated: the same form sent again is a double tap, anything else a refusal."""
    if queries.response_id_by_key(session, idempotency_key) is not None:
        return RatingResult(created=False, complaint=None)
    raise AlreadyRated()


def unlink_ratings(session: Session, before: dt.date | None, *, actor: Any = None) -> int:
    """Drop the rating ↔ response links of dossiers received before a day (Vietnam time), or of
    all dossiers: after this, no one can tell which answers and comment belong to which dossier or
    clerk; the official ratios and clerks' results keep working from the overall answer. Audited."""
    dropped = queries.unlink_dossier_ratings(
        session, local_day_start(before) if before is not None else None
    )
    audit.record(
        session,
        actor,
        "dossier_ratings.unlinked",
        "dossier_rating",
        {"before": before, "count": dropped},
    )
    session.flush()
    return dropped
