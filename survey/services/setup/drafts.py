"""Questionnaires as data: draft versions, publishing, and translations into further languages.

* **A new version starts as a draft copy** of an existing one (``new_draft``): its title,
  elements (with weights), items (text in Vietnamese and English, element, "not applicable"
  allowed, overall item, order) and translations. Only drafts can be changed (``save_draft``);
  citizens never see a draft. ``publish`` makes it the sector's active version; the version it
  replaces is retired. Published versions never change: their answers keep their meaning.
* **One item code means one question across the whole export.** A draft is refused when one of
  its codes is used by another questionnaire (another series, e.g. the health survey) for a
  different question; within one series (``administrative`` versions 1, 2, …) a code keeps its
  meaning across versions. The overall item is ``overall`` everywhere (the analysis reads
  ``q_overall``). A new draft renames the codes its source shares with another series
  (``access`` → ``administrative_access``).
* **Translations are data.** Beyond Vietnamese and English, a province adds a language (H'Mông,
  Thái, …) written by its own translators, in a form or as a CSV/XLSX file
  (``key, vietnamese, english, translation``; keys ``language`` — the language's own name —,
  ``title``, ``element:<code>``, ``item:<code>``). Translations may be added to a published
  version: they change how a question is shown, not what it asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd
from sqlalchemy.orm import Session

from survey.services import audit, spreadsheets
from survey.services.errors import InvalidInput
from survey.services.importing import DEFAULT_MAX_BYTES, ImportRefused, ImportReport, open_table
from survey.services.questionnaire_catalog import OVERALL_CODE
from survey.services.setup.organisation import file_label
from survey.services.spreadsheets import starts_formula
from survey.storage import queries
from survey.storage.database import all_or_nothing
from survey.storage.models import Element, Item, Questionnaire, QuestionnaireTranslation

ITEM_CODE = re.compile(r"[a-z][a-z0-9_]{0,40}")
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
TEXT_MAX = 1000
TRANSLATION_COLUMNS = ("key", "vietnamese", "english", "translation")


class NotADraft(InvalidInput):
    message_vi = "Phiên bản này đã ban hành nên không sửa được; hãy tạo phiên bản mới từ nó."
    message_en = "This version is published and cannot change; make a new version from it."


@dataclass(frozen=True)
class ElementDraft:
    code: str
    name_vi: str
    name_en: str
    weight: float = 1.0


@dataclass(frozen=True)
class ItemDraft:
    code: str
    text_vi: str
    text_en: str
    element_code: str | None  # None for the overall item
    allows_not_applicable: bool = False
    is_overall: bool = False


@dataclass(frozen=True)
class DraftContent:
    title_vi: str
    title_en: str
    elements: list[ElementDraft] = field(default_factory=list)
    items: list[ItemDraft] = field(default_factory=list)  # in the order citizens see them


def content_of(questionnaire: Questionnaire) -> DraftContent:
    return DraftContent(
        title_vi=questionnaire.title_vi,
        title_en=questionnaire.title_en,
        elements=[
            ElementDraft(e.code, e.name_vi, e.name_en, e.weight) for e in questionnaire.elements
        ],
        items=[
            ItemDraft(
                code=item.code,
                text_vi=item.text_vi,
                text_en=item.text_en,
                element_code=item.element.code if item.element else None,
                allows_not_applicable=item.allows_not_applicable,
                is_overall=item.is_overall,
            )
            for item in questionnaire.items
        ],
    )


def _meanings_elsewhere(session: Session, code: str) -> dict[str, str]:
    """Item code → its Vietnamese text in the questionnaires of *other* series."""
    meanings: dict[str, str] = {}
    for other in queries.all_questionnaires(session):
        if other.code == code:
            continue
        for item in other.items:
            if not item.is_overall:
                meanings.setdefault(item.code, item.text_vi)
    return meanings


def new_draft(session: Session, actor: Any, source: Questionnaire) -> Questionnaire:
    """A draft copy of ``source`` as the next version of its series (translations included)."""
    elsewhere = _meanings_elsewhere(session, source.code)
    content = content_of(source)
    renamed = {
        item.code: f"{source.code}_{item.code}"
        for item in content.items
        if not item.is_overall
        and item.code in elsewhere
        and elsewhere[item.code] != item.text_vi
        and not item.code.startswith(f"{source.code}_")
    }
    content = DraftContent(
        content.title_vi,
        content.title_en,
        content.elements,
        [
            ItemDraft(
                renamed.get(i.code, i.code),
                i.text_vi,
                i.text_en,
                i.element_code,
                i.allows_not_applicable,
                i.is_overall,
            )
            for i in content.items
        ],
    )
    version = max(q.version for q in queries.all_questionnaires(session) if q.code == source.code)
    draft = Questionnaire(
        code=source.code,
        version=version + 1,
        sector=source.sector,
        title_vi=source.title_vi,
        title_en=source.title_en,
        source=source.source,
        active=False,
        state="draft",
    )
    session.add(draft)
    _fill(draft, content)
    session.flush()
    for translation in queries.questionnaire_translations(session, source.id):
        key = translation.key
        if key.startswith("item:") and key[5:] in renamed:
            key = f"item:{renamed[key[5:]]}"
        session.add(
            QuestionnaireTranslation(
                questionnaire_id=draft.id,
                language=translation.language,
                key=key,
                text=translation.text,
            )
        )
    audit.record(
        session,
        actor,
        "questionnaire.drafted",
        f"questionnaire:{draft.code}:{draft.version}",
        {"from": f"{source.code}:{source.version}", "renamed_codes": renamed},
    )
    session.flush()
    return draft


def _fill(questionnaire: Questionnaire, content: DraftContent) -> None:
    elements = {}
    for position, spec in enumerate(content.elements):
        element = Element(
            code=spec.code,
            position=position,
            name_vi=spec.name_vi,
            name_en=spec.name_en,
            weight=spec.weight,
        )
        questionnaire.elements.append(element)
        elements[spec.code] = element
    for position, item_spec in enumerate(content.items):
        item = Item(
            code=item_spec.code,
            position=position,
            text_vi=item_spec.text_vi,
            text_en=item_spec.text_en,
            allows_not_applicable=item_spec.allows_not_applicable and not item_spec.is_overall,
            is_overall=item_spec.is_overall,
        )
        questionnaire.items.append(item)
        if item_spec.element_code and not item_spec.is_overall:
            elements[item_spec.element_code].items.append(item)


def check_content(session: Session, series: str, content: DraftContent) -> ImportReport:
    """Every problem of a draft's content, each naming its item or element."""
    report = ImportReport()

    def problem(where: str, value: str | None, vi: str, en: str) -> None:
        report.problem(None, where, value, vi, en)

    for where, text in (("title_vi", content.title_vi), ("title_en", content.title_en)):
        _check_text(report, where, text)
    element_codes = [e.code for e in content.elements]
    for element in content.elements:
        where = f"element:{element.code}"
        if not ITEM_CODE.fullmatch(element.code):
            problem(where, element.code, "Mã nhóm không hợp lệ.", "Not a valid element code.")
        _check_text(report, where, element.name_vi)
        _check_text(report, where, element.name_en)
        if not 0 < element.weight <= 100:
            problem(
                where,
                str(element.weight),
                "Trọng số nhóm phải lớn hơn 0.",
                "An element's weight must be above 0.",
            )
    for code in {c for c in element_codes if element_codes.count(c) > 1}:
        problem(f"element:{code}", code, "Mã nhóm bị lặp.", "The element code appears twice.")
    codes = [i.code for i in content.items]
    for code in {c for c in codes if codes.count(c) > 1}:
        problem(f"item:{code}", code, "Mã câu hỏi bị lặp.", "The item code appears twice.")
    overall = [i for i in content.items if i.is_overall]
    if len(overall) != 1 or overall[0].code != OVERALL_CODE:
        problem(
            "items",
            None,
            f"Phiếu cần đúng một câu đánh giá chung, mã “{OVERALL_CODE}”.",
            f"A questionnaire needs exactly one overall item, coded “{OVERALL_CODE}”.",
        )
    elsewhere = _meanings_elsewhere(session, series)
    for item in content.items:
        where = f"item:{item.code}"
        if not ITEM_CODE.fullmatch(item.code):
            problem(
                where,
                item.code,
                "Mã câu hỏi gồm chữ thường không dấu, chữ số và _, bắt đầu bằng chữ.",
                "An item code is lower-case letters, digits and _, starting with a letter.",
            )
        _check_text(report, where, item.text_vi)
        _check_text(report, where, item.text_en)
        if item.is_overall:
            continue
        if item.code == OVERALL_CODE:
            problem(
                where,
                item.code,
                "Mã dành cho câu đánh giá chung.",
                "Reserved for the overall item.",
            )
        if item.element_code not in element_codes:
            problem(
                where,
                item.element_code or "",
                "Câu hỏi phải thuộc một nhóm của phiếu.",
                "An item must belong to one of the questionnaire's elements.",
            )
        other = elsewhere.get(item.code)
        if other is not None and other != item.text_vi:
            problem(
                where,
                item.code,
                f"Mã này đã dùng cho một câu hỏi khác ở phiếu khác (“{other}”); một mã chỉ mang "
                "một nghĩa trong toàn bộ dữ liệu xuất. Hãy dùng mã mới.",
                f"This code already means another question in another questionnaire (“{other}”); "
                "one code means one question across the whole export. Use a new code.",
            )
    for element in content.elements:
        if not any(i.element_code == element.code for i in content.items if not i.is_overall):
            problem(
                f"element:{element.code}",
                None,
                "Nhóm không có câu hỏi nào.",
                "The element has no item.",
            )
    return report


def _check_text(report: ImportReport, where: str, text: str) -> None:
    if not text.strip() or len(text) > TEXT_MAX or starts_formula(text):
        report.problem(
            None,
            where,
            text[:60],
            f"Nội dung trống, dài quá {TEXT_MAX} ký tự hoặc bắt đầu như công thức (=, +, -, @).",
            f"The text is blank, longer than {TEXT_MAX} characters or starts like a formula "
            "(=, +, -, @).",
        )


def _draft(session: Session, questionnaire_id: int) -> Questionnaire:
    draft = queries.questionnaire_with_items(session, questionnaire_id)
    if draft is None:
        raise InvalidInput("Không có phiếu này.", "There is no such questionnaire.")
    if draft.state != "draft":
        raise NotADraft()
    return draft


def save_draft(
    session: Session, actor: Any, questionnaire_id: int, content: DraftContent
) -> Questionnaire:
    """Replace a draft's title, elements and items; ``ImportRefused`` naming each problem."""
    draft = _draft(session, questionnaire_id)
    report = check_content(session, draft.code, content)
    report.refuse_if_problems()
    for item in list(draft.items):
        session.delete(item)
    for element in list(draft.elements):
        session.delete(element)
    session.flush()
    session.expire(draft, ["items", "elements"])
    draft.title_vi, draft.title_en = content.title_vi, content.title_en
    _fill(draft, content)
    audit.record(
        session,
        actor,
        "questionnaire.draft_saved",
        f"questionnaire:{draft.code}:{draft.version}",
        {"items": [i.code for i in content.items], "elements": [e.code for e in content.elements]},
    )
    session.flush()
    return draft


def publish(session: Session, actor: Any, questionnaire_id: int) -> Questionnaire:
    """Make a draft the active version of its sector; the versions it replaces are retired."""
    draft = _draft(session, questionnaire_id)
    check_content(session, draft.code, content_of(draft)).refuse_if_problems()
    retired = []
    for other in queries.all_questionnaires(session):
        if other.id != draft.id and other.sector == draft.sector and other.active:
            other.active = False
            retired.append(f"{other.code}:{other.version}")
    draft.state = "published"
    draft.active = True
    audit.record(
        session,
        actor,
        "questionnaire.published",
        f"questionnaire:{draft.code}:{draft.version}",
        {"retired": retired},
    )
    session.flush()
    return draft


# --- translations -----------------------------------------------------------------------------


def translation_keys(questionnaire: Questionnaire) -> list[tuple[str, str, str]]:
    """(key, Vietnamese, English) of every text a translation gives."""
    keys = [
        ("language", "Tiếng Việt", "English"),
        ("title", questionnaire.title_vi, questionnaire.title_en),
    ]
    keys += [(f"element:{e.code}", e.name_vi, e.name_en) for e in questionnaire.elements]
    keys += [(f"item:{i.code}", i.text_vi, i.text_en) for i in questionnaire.items]
    return keys


def check_language(language: str) -> str:
    language = language.strip()
    if not LANGUAGE_TAG.fullmatch(language) or language in ("vi", "en"):
        raise InvalidInput(
            "Mã ngôn ngữ theo chuẩn BCP 47, ví dụ hmn (H'Mông), tdd (Thái); không phải vi hay en.",
            "A language tag as in BCP 47, e.g. hmn (Hmong), tdd (Tai); not vi or en.",
        )
    return language


def translation_template(session: Session, questionnaire: Questionnaire, language: str) -> bytes:
    """A CSV to fill in: each key with its Vietnamese and English text and any translation."""
    language = check_language(language)
    existing = {
        t.key: t.text
        for t in queries.questionnaire_translations(session, questionnaire.id)
        if t.language == language
    }
    table = pd.DataFrame(
        [
            {"key": key, "vietnamese": vi, "english": en, "translation": existing.get(key, "")}
            for key, vi, en in translation_keys(questionnaire)
        ],
        columns=list(TRANSLATION_COLUMNS),
    )
    return spreadsheets.csv_bytes(table)


def save_translation(
    session: Session,
    actor: Any,
    questionnaire: Questionnaire,
    language: str,
    texts: dict[str, str],
    *,
    subject: str = "form",
) -> ImportReport:
    """Store a language's texts (every key required), replacing any earlier ones."""
    language = check_language(language)
    report = ImportReport()
    known = [key for key, _vi, _en in translation_keys(questionnaire)]
    for key in known:
        text = (texts.get(key) or "").strip()
        if not text:
            report.problem(None, key, None, "Thiếu bản dịch.", "The translation is missing.")
        else:
            _check_text(report, key, text)
    for key in texts:
        if key not in known:
            report.problem(
                None, key, None, "Khóa không có trong phiếu.", "No such key in the questionnaire."
            )
    with all_or_nothing(session):
        report.refuse_if_problems()
        stored = {
            t.key: t
            for t in queries.questionnaire_translations(session, questionnaire.id)
            if t.language == language
        }
        for key in known:
            text = texts[key].strip()
            if key in stored:
                if stored[key].text != text:
                    stored[key].text = text
                    report.count("changed", "text")
                else:
                    report.count("unchanged", "text")
            else:
                session.add(
                    QuestionnaireTranslation(
                        questionnaire_id=questionnaire.id, language=language, key=key, text=text
                    )
                )
                report.count("added", "text")
        audit.record(
            session,
            actor,
            "questionnaire.translated",
            f"questionnaire:{questionnaire.code}:{questionnaire.version}",
            {
                "language": language,
                "name": texts["language"],
                "source": subject,
                "added": report.added,
                "changed": report.changed,
            },
        )
        session.flush()
    return report


def import_translation(
    session: Session,
    actor: Any,
    questionnaire: Questionnaire,
    language: str,
    source: str | Path | bytes | IO[bytes],
    *,
    filename: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> ImportReport:
    """``translation_template`` filled in, as CSV or XLSX; all or nothing."""
    report = ImportReport()
    table = open_table(
        source,
        required=("key", "translation"),
        optional=("vietnamese", "english"),
        filename=filename,
        max_bytes=max_bytes,
        report=report,
    )
    texts: dict[str, str] = {}
    for row in table:
        report.rows += 1
        if row["key"] in texts:
            report.problem(row.number, "key", row["key"], "Khóa bị lặp.", "The key appears twice.")
        texts[row["key"]] = row["translation"]
    report.refuse_if_problems()
    try:
        saved = save_translation(
            session,
            actor,
            questionnaire,
            language,
            texts,
            subject=f"file:{file_label(source, filename)}",
        )
    except ImportRefused as refused:
        rows = {key: number for number, key in enumerate(texts, start=2)}
        named = ImportReport()
        for p in refused.report.problems:
            named.problem(rows.get(p.column or ""), p.column, p.value, p.message_vi, p.message_en)
        raise ImportRefused(named) from None
    saved.rows = report.rows
    return saved


@dataclass(frozen=True)
class Language:
    tag: str
    name: str


def languages_of(session: Session, questionnaire_id: int) -> list[Language]:
    """The further languages a questionnaire version is translated into (own names)."""
    return sorted(
        (
            Language(t.language, t.text)
            for t in queries.questionnaire_translations(session, questionnaire_id)
            if t.key == "language"
        ),
        key=lambda language: language.tag,
    )


def translated_texts(session: Session, questionnaire_id: int, language: str) -> dict[str, str]:
    """Key → text of one language (for the citizen's form: ``title``, ``item:<code>``, …)."""
    return {
        t.key: t.text
        for t in queries.questionnaire_translations(session, questionnaire_id)
        if t.language == language
    }


def items_from_rows(rows: Iterable[dict[str, str]]) -> list[ItemDraft]:
    """Items of the draft editor's rows (code, texts, element, na, overall), blank rows skipped,
    ordered by their ``order`` cell (then as given)."""
    items = []
    for index, row in enumerate(rows):
        if not any((row.get(k) or "").strip() for k in ("code", "text_vi", "text_en")):
            continue
        try:
            order = float(row.get("order") or index)
        except ValueError:
            order = float(index)
        overall = bool(row.get("overall"))
        items.append(
            (
                order,
                index,
                ItemDraft(
                    code=(row.get("code") or "").strip(),
                    text_vi=(row.get("text_vi") or "").strip(),
                    text_en=(row.get("text_en") or "").strip(),
                    element_code=None if overall else (row.get("element") or "").strip() or None,
                    allows_not_applicable=bool(row.get("na")) and not overall,
                    is_overall=overall,
                ),
            )
        )
    return [item for _order, _index, item in sorted(items, key=lambda entry: entry[:2])]


def content_from_form(form: Any) -> DraftContent:
    """The draft editor's fields (``title_vi``, ``title_en``, ``element-<n>-<field>``,
    ``item-<n>-<field>``) as content; blank rows are skipped."""

    def rows(prefix: str) -> list[dict[str, str]]:
        found: dict[int, dict[str, str]] = {}
        for name, value in form.items():
            parts = name.split("-", 2)
            if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit():
                found.setdefault(int(parts[1]), {})[parts[2]] = value
        return [found[index] for index in sorted(found)]

    elements = []
    for row in rows("element"):
        if not any((row.get(k) or "").strip() for k in ("code", "name_vi", "name_en")):
            continue
        try:
            weight = float((row.get("weight") or "1").replace(",", "."))
        except ValueError:
            weight = -1.0  # reported by check_content
        elements.append(
            ElementDraft(
                (row.get("code") or "").strip(),
                (row.get("name_vi") or "").strip(),
                (row.get("name_en") or "").strip(),
                weight,
            )
        )
    return DraftContent(
        title_vi=(form.get("title_vi") or "").strip(),
        title_en=(form.get("title_en") or "").strip(),
        elements=elements,
        items=items_from_rows(rows("item")),
    )
