"""Comments that seem to name a person (a clerk's name, "chị Hoa"), held for an official's review.

A rating about a dossier is a rating about the clerk who handled it; a comment that names someone
is personal data about them (Law 91/2025/QH15) and may be unfair. It is stored masked like every
comment and listed here; an official keeps it or blanks it, and the decision is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.errors import InvalidInput, NotFound
from survey.storage import queries
from survey.storage.models import CommentReview, utc_now

DECISIONS = ("keep", "blank")


def pending(session: Session, visible_agency_ids: frozenset[int] | None) -> Sequence[CommentReview]:
    return queries.comment_reviews_in(session, visible_agency_ids)


def decide(session: Session, review_id: int, decision: str, *, actor: Any, scope: Any) -> None:
    """Keep or blank a held comment (audited)."""
    if decision not in DECISIONS:
        raise InvalidInput("Hãy chọn giữ hoặc xóa ý kiến.", "Choose to keep or blank the comment.")
    review = queries.comment_review_by_id(session, review_id)
    if review is None or not scope.allows_point(review.response.service_point):
        raise NotFound()
    if review.reviewed_at is not None:
        return
    if decision == "blank":
        review.response.comment = None
    review.reviewed_at = utc_now()
    review.reviewed_by_id = getattr(actor, "id", None)
    review.decision = "kept" if decision == "keep" else "blanked"
    audit.record(
        session, actor, "comment.reviewed", f"response:{review.response_id}", {"decision": decision}
    )
    session.flush()
