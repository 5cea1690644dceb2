"""Questionnaires as versioned data: seeding the shipped ones and finding the one a point uses."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.services.errors import NoQuestionnaire, UnknownServicePoint
from survey.services.local_time import today_in_vietnam
from survey.services.questionnaire_catalog import SHIPPED_QUESTIONNAIRES, QuestionnaireSpec
from survey.storage import queries
from survey.storage.models import Element, Item, Questionnaire, ServicePoint


def seed_questionnaires(session: Session) -> int:
    """Store the shipped questionnaire versions not stored yet; return how many were added."""
    added = 0
    for spec in SHIPPED_QUESTIONNAIRES:
        if queries.questionnaire_by_code_version(session, spec.code, spec.version) is None:
            session.add(build_questionnaire(spec))
            added += 1
    session.flush()
    return added


def build_questionnaire(spec: QuestionnaireSpec) -> Questionnaire:
    questionnaire = Questionnaire(
        code=spec.code,
        version=spec.version,
        sector=spec.sector,
        title_vi=spec.title_vi,
        title_en=spec.title_en,
        source=spec.source,
        active=True,
    )
    position = 0
    for element_position, element_spec in enumerate(spec.elements):
        element = Element(
            code=element_spec.code,
            position=element_position,
            name_vi=element_spec.name_vi,
            name_en=element_spec.name_en,
            weight=element_spec.weight,
        )
        questionnaire.elements.append(element)
        for item_spec in element_spec.items:
            item = Item(
                code=item_spec.code,
                position=position,
                text_vi=item_spec.text_vi,
                text_en=item_spec.text_en,
                allows_not_applicable=item_spec.allows_not_applicable,
                is_overall=False,
            )
            element.items.append(item)
            questionnaire.items.append(item)
            position += 1
    questionnaire.items.append(
        Item(
            code=spec.overall.code,
            position=position,
            text_vi=spec.overall.text_vi,
            text_en=spec.overall.text_en,
            allows_not_applicable=False,
            is_overall=True,
        )
    )
    return questionnaire


def open_service_point(session: Session, public_code: str) -> tuple[ServicePoint, Questionnaire]:
    """The point behind a QR code and the questionnaire its citizens answer.

    A closed desk or a point of a retired agency answers for its successor (``successor_point``);
    raises UnknownServicePoint for an unknown code, or a closed point with nowhere to send to.
    """
    found = queries.service_point_and_active_version(session, public_code)
    if found is None:
        raise UnknownServicePoint()
    point, active = found
    today = today_in_vietnam()  # a commune retired today is closed from 00:00 in Vietnam
    if not point.active or not point.agency.is_active_on(today):
        # A closed desk's or a retired agency's QR leads to the form of the point that took over.
        from survey.services.setup.units import successor_point

        successor = successor_point(session, point, today)
        found = (
            None
            if successor is None
            else (queries.service_point_and_active_version(session, successor.public_code))
        )
        if found is None:
            raise UnknownServicePoint()
        point, active = found
    questionnaire = None if active is None else _loaded_version(session, active)
    if questionnaire is None:
        raise NoQuestionnaire()
    return point, questionnaire


# Answered versions never change, so each version's items are loaded once per process; every
# request still asks the database which version is active (within the service point's query).
_LOADED: dict[tuple[str, int, str, int], Questionnaire] = {}
_LOADED_LOCK = threading.Lock()


def active_questionnaire(session: Session, sector: str) -> Questionnaire | None:
    """The active version of a sector's questionnaire, items and elements loaded.

    Read-only and shared between requests: use its ids and texts, never attach it to a new row.
    """
    active = queries.active_questionnaire_version(session, sector)
    return None if active is None else _loaded_version(session, active)


def _loaded_version(session: Session, active: tuple[int, str, int]) -> Questionnaire | None:
    """The questionnaire (id, code, version) with its items, from the per-process cache."""
    key = (str(session.get_bind().engine.url), *active)
    with _LOADED_LOCK:
        cached = _LOADED.get(key)
    if cached is None:
        cached = queries.questionnaire_with_items(session, active[0])
        if cached is None:
            return None
        with _LOADED_LOCK:
            _LOADED[key] = cached
    return cached


@dataclass(frozen=True)
class CitizenTexts:
    """The further languages a questionnaire version offers a citizen (tag, own name), the one
    chosen for this page (None: the interface's Vietnamese or English) and its texts by key
    (``title``, ``item:<code>``; see ``QuestionnaireTranslation``)."""

    languages: tuple[tuple[str, str], ...]
    chosen: str | None
    texts: dict[str, str]

    def item_label(self, code: str) -> str | None:
        return self.texts.get(f"item:{code}")

    @property
    def item_labels(self) -> dict[str, str]:
        """Item code → its text in the chosen language (items not translated are left out)."""
        return {key[5:]: text for key, text in self.texts.items() if key.startswith("item:")}


def citizen_texts(session: Session, questionnaire_id: int, asked: str | None) -> CitizenTexts:
    """The translations a province added to this version (H'Mông, Thái …) for the citizen's
    language switch, and the texts of ``asked`` when it is one of them. One query."""
    rows = queries.questionnaire_translations(session, questionnaire_id)
    languages = tuple(sorted((t.language, t.text) for t in rows if t.key == "language"))
    chosen = asked if asked in {tag for tag, _name in languages} else None
    texts = {t.key: t.text for t in rows if chosen is not None and t.language == chosen}
    return CitizenTexts(languages, chosen, texts)
