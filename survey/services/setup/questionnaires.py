"""Questionnaire versions as the set-up pages and commands see them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.services.errors import DomainError
from survey.storage import queries
from survey.storage.models import Questionnaire


class UnknownQuestionnaire(DomainError):
    message_vi = "Không có phiếu khảo sát với mã và phiên bản này (dạng MÃ:PHIÊN_BẢN)."
    message_en = "No questionnaire has this code and version (written CODE:VERSION)."


@dataclass(frozen=True)
class QuestionnaireEntry:
    code: str
    version: int
    sector: str
    status: str  # draft, active, retired
    title_vi: str
    title_en: str
    item_codes: tuple[str, ...]


def questionnaire_listing(session: Session) -> list[QuestionnaireEntry]:
    return [
        QuestionnaireEntry(
            code=q.code,
            version=q.version,
            sector=q.sector,
            status=q.status,
            title_vi=q.title_vi,
            title_en=q.title_en,
            item_codes=tuple(item.code for item in q.items),
        )
        for q in queries.all_questionnaires(session)
    ]


def questionnaire_by_reference(session: Session, reference: str) -> Questionnaire:
    """``CODE:VERSION`` (e.g. ``administrative:1``), items and elements loaded."""
    code, _, version = reference.strip().partition(":")
    if not code or not version.isdigit():
        raise UnknownQuestionnaire()
    found = queries.questionnaire_by_code_version(session, code, int(version))
    if found is None:
        raise UnknownQuestionnaire()
    loaded = queries.questionnaire_with_items(session, found.id)
    if loaded is None:  # found a moment ago in the same transaction
        raise RuntimeError(f"questionnaire {found.id} vanished while loading")
    return loaded
