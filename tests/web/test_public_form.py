"""The public questionnaire behind a QR code, through the Flask test client."""

from __future__ import annotations

import gzip
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey.storage import queries
from survey.storage.models import Response
from tests.conftest import form_fields
from tests.factories import SmallProvince

ANSWERS = {
    "q_access": "5",
    "q_procedures": "4",
    "q_staff_courtesy": "4",
    "q_staff_guidance": "3",
    "q_results": "na",
    "q_feedback": "2",
    "q_overall": "4",
}


def _open(client: FlaskClient, code: str, query: str = "") -> tuple[str, dict[str, str]]:
    page = client.get(f"/s/{code}{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, form_fields(html)


def test_form_is_vietnamese_by_default_and_english_on_request(
    client: FlaskClient, seeded: SmallProvince
):
    html, fields = _open(client, seeded.desk.public_code)
    assert '<html lang="vi">' in html
    assert "Sở Tư pháp" in html and "Bộ phận một cửa" in html
    assert "Rất hài lòng" in html and "Gửi" in html
    assert "Công chức có thái độ lịch sự, tận tình" in html
    assert fields["csrf_token"] and len(fields["submission_id"]) >= 16

    english, _ = _open(client, seeded.desk.public_code, "?lang=en")
    assert '<html lang="en">' in english and "Very happy" in english
    assert "Staff were polite and helpful" in english
    # The choice is remembered by a cookie.
    again, _ = _open(client, seeded.desk.public_code)
    assert '<html lang="en">' in again


def test_valid_submission_is_stored_and_thanked(
    client: FlaskClient, seeded: SmallProvince, session: Session
):
    _html, fields = _open(client, seeded.desk.public_code)
    posted = client.post(
        f"/s/{seeded.desk.public_code}", data={**fields, **ANSWERS, "comment": "Nhanh, gọn"}
    )
    assert posted.status_code == 302
    assert posted.headers["Location"].endswith(f"/s/{seeded.desk.public_code}/thanks")
    thanks = client.get(posted.headers["Location"])
    assert "Xin cảm ơn" in thanks.get_data(as_text=True)
    (response,) = session.query(Response).all()
    assert response.channel == "qr" and response.comment == "Nhanh, gọn"
    values = {answer.item.code: answer.value for answer in response.answers}
    assert values["results"] is None and values["feedback"] == 2 and values["overall"] == 4


def test_resent_submission_is_stored_once(
    client: FlaskClient, seeded: SmallProvince, session: Session
):
    _html, fields = _open(client, seeded.desk.public_code)
    for _ in range(3):
        posted = client.post(f"/s/{seeded.desk.public_code}", data={**fields, **ANSWERS})
        assert posted.status_code == 302
    assert queries.count_responses(session) == 1


def test_missing_and_out_of_range_answers_keep_the_rest_and_name_the_problem(
    client: FlaskClient, seeded: SmallProvince, session: Session
):
    _html, fields = _open(client, seeded.desk.public_code)
    data = {**fields, **ANSWERS, "q_access": "9", "comment": "giữ lại ý kiến này"}
    del data["q_overall"]
    posted = client.post(f"/s/{seeded.desk.public_code}", data=data)
    assert posted.status_code == 422
    html = posted.get_data(as_text=True)
    assert "Vui lòng kiểm tra lại câu trả lời" in html
    assert html.count("Vui lòng chọn một câu trả lời cho câu hỏi này.") >= 2
    assert "Nhìn chung, Ông/Bà hài lòng thế nào" in html  # the unanswered question is named
    # Answers already given stay checked; the comment stays.
    assert re.search(r'checked id="q_procedures-3"|id="q_procedures-3"[^>]*checked', html)
    assert "giữ lại ý kiến này" in html
    assert queries.count_responses(session) == 0


def test_not_applicable_is_offered_only_where_allowed(client: FlaskClient, seeded: SmallProvince):
    html, fields = _open(client, seeded.desk.public_code)
    assert re.search(r'name="q_results"[^>]*value="na"', html)
    assert not re.search(r'name="q_overall"[^>]*value="na"', html)
    posted = client.post(
        f"/s/{seeded.desk.public_code}", data={**fields, **ANSWERS, "q_overall": "na"}
    )
    assert posted.status_code == 422


def test_expired_session_keeps_answers_and_asks_to_send_again(
    client: FlaskClient, seeded: SmallProvince, session: Session
):
    _html, fields = _open(client, seeded.desk.public_code)
    data = {**fields, **ANSWERS, "csrf_token": "expired-or-forged"}
    posted = client.post(f"/s/{seeded.desk.public_code}", data=data)
    assert posted.status_code == 422
    html = posted.get_data(as_text=True)
    assert "vui lòng bấm Gửi lại" in html
    assert re.search(r'id="q_access-4"[^>]*checked|checked id="q_access-4"', html)
    assert queries.count_responses(session) == 0
    fresh = form_fields(html)
    again = client.post(f"/s/{seeded.desk.public_code}", data={**data, **fresh})
    assert again.status_code == 302 and queries.count_responses(session) == 1


def test_honeypot_is_thanked_but_not_stored(
    client: FlaskClient, seeded: SmallProvince, session: Session
):
    _html, fields = _open(client, seeded.desk.public_code)
    posted = client.post(
        f"/s/{seeded.desk.public_code}",
        data={**fields, **ANSWERS, "website": "http://spam.example"},
    )
    assert posted.status_code == 302
    assert queries.count_responses(session) == 0


def test_unknown_and_retired_codes_get_a_bilingual_404(client: FlaskClient, seeded: SmallProvince):
    for code in ("does-not-exist", seeded.retired_desk.public_code, seeded.closed_desk.public_code):
        page = client.get(f"/s/{code}")
        assert page.status_code == 404
        html = page.get_data(as_text=True)
        assert "Không tìm thấy điểm khảo sát này" in html
        assert "We could not find this survey point" in html
        assert client.post(f"/s/{code}", data=ANSWERS).status_code == 404


def test_garbage_posts_never_give_a_500(client: FlaskClient, seeded: SmallProvince):
    url = f"/s/{seeded.desk.public_code}"
    assert (
        client.post(url, data={"q_access": ["1", "2"], "submission_id": "x" * 500}).status_code
        == 422
    )
    assert (
        client.post(
            url, data=b"\xff\xfe\x00garbage", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 422
    )
    assert client.post(url, data={"comment": "x" * 300_000}).status_code == 413


# What the citizen's phone downloads for the form (HTML and every stylesheet and script it loads),
# gzip-compressed as the app serves it: 3.8 KB for the seeded seven-question form (20 KB
# uncompressed). The README promises under 50 KB; the budget keeps it well below.
PAGE_WEIGHT_BUDGET = 15 * 1024


def test_form_page_weighs_a_few_kilobytes_as_served(client: FlaskClient, seeded: SmallProvince):
    gzip_only = {"Accept-Encoding": "gzip"}
    for language in ("vi", "en"):
        with client.get(
            f"/s/{seeded.counter.public_code}?lang={language}", headers=gzip_only
        ) as page:
            assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
            served = {"page": len(page.get_data())}
            html = gzip.decompress(page.get_data()).decode()
        assert "<script" not in html  # works without JavaScript
        assets = re.findall(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"', html)
        assert "/static/css/public.css" in assets
        for url in assets:
            with client.get(url, headers=gzip_only) as asset:
                assert asset.status_code == 200 and asset.headers["Content-Encoding"] == "gzip"
                served[url] = len(asset.get_data())
        assert sum(served.values()) < PAGE_WEIGHT_BUDGET, served


def test_form_reopened_after_sending_keeps_the_id_unless_a_new_person_answers(
    client: FlaskClient, seeded: SmallProvince, session: Session
):
    _html, fields = _open(client, seeded.desk.public_code)
    client.post(f"/s/{seeded.desk.public_code}", data={**fields, **ANSWERS})
    reopened, reopened_fields = _open(client, seeded.desk.public_code)
    assert reopened_fields["submission_id"] == fields["submission_id"]
    assert "Ông/Bà vừa gửi câu trả lời từ thiết bị này" in reopened
    client.post(f"/s/{seeded.desk.public_code}", data={**reopened_fields, **ANSWERS})
    assert queries.count_responses(session) == 1
    _fresh, new_fields = _open(client, seeded.desk.public_code, "?new=1")
    assert new_fields["submission_id"] != fields["submission_id"]
    client.post(f"/s/{seeded.desk.public_code}", data={**new_fields, **ANSWERS})
    assert queries.count_responses(session) == 2
