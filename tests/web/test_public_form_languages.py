"""A language the province translated a questionnaire into (H'Mông here) is offered by the
citizen's language switch, and the form then asks its questions in that language."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey.storage import queries
from survey.storage.models import QuestionnaireTranslation, Response
from tests.conftest import form_fields
from tests.factories import SmallProvince
from tests.web.test_public_form import ANSWERS

OVERALL_HMN = "Koj txaus siab li cas rau kev pab cuam tag nrho?"


def _translate(session: Session) -> None:
    questionnaire = queries.active_questionnaire(session, "administrative")
    assert questionnaire is not None
    for key, text in (
        ("language", "Hmoob"),
        ("title", "Kev soj ntsuam kev txaus siab"),
        ("item:overall", OVERALL_HMN),
    ):
        session.add(
            QuestionnaireTranslation(
                questionnaire_id=questionnaire.id, language="hmn", key=key, text=text
            )
        )
    session.commit()


def test_the_switch_offers_the_translation_and_the_form_asks_in_it(
    client: FlaskClient, seeded: SmallProvince, session: Session
):
    code = seeded.desk.public_code
    plain = client.get(f"/s/{code}").get_data(as_text=True)
    assert "Hmoob" not in plain  # nothing translated yet: only English is offered
    _translate(session)
    offered = client.get(f"/s/{code}").get_data(as_text=True)
    assert 'href="?lang=hmn" lang="hmn" hreflang="hmn">Hmoob</a>' in offered
    page = client.get(f"/s/{code}?lang=hmn")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'lang="hmn">7. {OVERALL_HMN}</legend>' in html
    assert '<h1 lang="hmn">Kev soj ntsuam kev txaus siab</h1>' in html
    assert "Công chức có thái độ lịch sự, tận tình" in html  # untranslated items stay Vietnamese
    assert 'href="?lang=vi"' in html and 'href="?lang=en"' in html
    posted = client.post(f"/s/{code}?lang=hmn", data={**form_fields(html), **ANSWERS})
    assert posted.status_code == 302
    (response,) = session.query(Response).all()
    assert {a.item.code: a.value for a in response.answers}["overall"] == 4


def test_an_unknown_language_falls_back_to_vietnamese(
    client: FlaskClient, seeded: SmallProvince, session: Session
):
    _translate(session)
    html = client.get(f"/s/{seeded.desk.public_code}?lang=xx").get_data(as_text=True)
    assert '<html lang="vi">' in html and OVERALL_HMN not in html
