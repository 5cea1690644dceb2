"""Questionnaires as data: drafts, publishing, immutability, one meaning per code, translations."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

from survey.services.errors import InvalidInput
from survey.services.importing import ImportRefused
from survey.services.questionnaires import active_questionnaire, open_service_point
from survey.services.setup.drafts import (
    ItemDraft,
    NotADraft,
    content_of,
    import_translation,
    languages_of,
    new_draft,
    publish,
    save_draft,
    save_translation,
    translated_texts,
    translation_keys,
    translation_template,
)
from survey.services.setup.questionnaires import questionnaire_by_reference, questionnaire_listing
from tests.factories import SmallProvince


def test_a_draft_copies_renames_shared_codes_and_publishing_retires_the_old_version(
    session: Session, seeded: SmallProvince
):
    source = questionnaire_by_reference(session, "administrative:1")
    draft = new_draft(session, None, source)
    assert (draft.version, draft.status) == (2, "draft")
    codes = [item.code for item in questionnaire_by_reference(session, "administrative:2").items]
    # access and results mean other questions in the health and education surveys.
    assert codes[:2] == ["administrative_access", "procedures"]
    assert "administrative_results" in codes and codes[-1] == "overall"
    _point, questionnaire = open_service_point(session, seeded.desk.public_code)
    assert questionnaire.version == 1  # citizens never see a draft

    content = content_of(questionnaire_by_reference(session, "administrative:2"))
    waiting = ItemDraft("waiting_time", "Thời gian chờ hợp lý", "The wait was reasonable", "access")
    items = [content.items[1], content.items[0], waiting, *content.items[2:]]
    save_draft(session, None, draft.id, dataclasses.replace(content, items=items))
    saved = questionnaire_by_reference(session, "administrative:2")
    assert [i.code for i in saved.items][:3] == [
        "procedures",
        "administrative_access",
        "waiting_time",
    ]

    publish(session, None, draft.id)
    states = {f"{e.code}:{e.version}": e.status for e in questionnaire_listing(session)}
    assert states["administrative:1"] == "retired" and states["administrative:2"] == "active"
    assert active_questionnaire(session, "administrative").version == 2
    with pytest.raises(NotADraft):
        save_draft(session, None, draft.id, content)
    with pytest.raises(NotADraft):
        publish(session, None, draft.id)


def test_bad_drafts_are_refused_with_each_problem(session: Session, seeded: SmallProvince):
    draft = new_draft(session, None, questionnaire_by_reference(session, "health:1"))
    content = content_of(questionnaire_by_reference(session, "health:2"))
    clash = ItemDraft("procedures", "Thủ tục đơn giản", "Simple procedure", "access")
    bad = [
        *content.items[:-1],
        clash,
        ItemDraft("Bad Code", "x", "x", "access"),
        ItemDraft("orphan", "Câu lạc", "Lost", "nowhere"),
        ItemDraft("blank", "", "=cmd", "access"),
    ]
    with pytest.raises(ImportRefused) as refused:
        save_draft(session, None, draft.id, dataclasses.replace(content, items=bad))
    problems = {
        (p.column, p.message_en.split(";")[0].split(".")[0]) for p in refused.value.report.problems
    }
    assert (
        "item:procedures",
        "This code already means another question in another questionnaire "
        "(“Thủ tục được niêm yết công khai, đầy đủ, dễ hiểu”)",
    ) in problems
    assert (
        "item:Bad Code",
        "An item code is lower-case letters, digits and _, starting with a letter",
    ) in problems
    assert ("item:orphan", "An item must belong to one of the questionnaire's elements") in problems
    assert any(column == "item:blank" for column, _ in problems)
    assert ("items", "A questionnaire needs exactly one overall item, coded “overall”") in problems


def test_translations_as_data_from_a_form_and_from_a_file(session: Session, seeded: SmallProvince):
    questionnaire = questionnaire_by_reference(session, "administrative:1")
    keys = [key for key, _vi, _en in translation_keys(questionnaire)]
    texts = {key: f"Hmoob {key}" for key in keys} | {"language": "Lus Hmoob"}
    report = save_translation(session, None, questionnaire, "hmn", texts)
    assert report.added == {"text": len(keys)}
    assert [(lang.tag, lang.name) for lang in languages_of(session, questionnaire.id)] == [
        ("hmn", "Lus Hmoob")
    ]
    assert translated_texts(session, questionnaire.id, "hmn")["item:access"] == "Hmoob item:access"
    with pytest.raises(InvalidInput):
        save_translation(session, None, questionnaire, "vi", texts)
    with pytest.raises(ImportRefused):
        save_translation(session, None, questionnaire, "tdd", {"language": "Tai Dam"})

    template = translation_template(session, questionnaire, "hmn").decode("utf-8-sig")
    filled = template.replace("Hmoob item:access", "Hmoob nkag mus")
    changed = import_translation(
        session, None, questionnaire, "hmn", filled.encode(), filename="hmn.csv"
    )
    assert changed.changed == {"text": 1}
    assert translated_texts(session, questionnaire.id, "hmn")["item:access"] == "Hmoob nkag mus"
    missing = "\n".join(line for line in filled.splitlines() if not line.startswith("item:overall"))
    with pytest.raises(ImportRefused) as refused:
        import_translation(
            session, None, questionnaire, "hmn", missing.encode(), filename="hmn.csv"
        )
    assert refused.value.report.problems[0].column == "item:overall"
