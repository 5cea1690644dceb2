"""Attacks on the citizen's side: the QR form, its cookie and rate limits, and the kiosk API."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.kiosks import pair_kiosk, register_kiosk
from survey.services.questionnaires import open_service_point
from survey.storage.models import Response
from tests.conftest import form_fields
from tests.factories import SmallProvince
from tests.web.test_public_form import ANSWERS

SUBMIT = "/kiosk/api/responses"


@pytest.fixture
def token(session: Session, seeded: SmallProvince) -> str:
    pairing = register_kiosk(session, service_point_id=seeded.desk.id, label="Quầy 1", user_id=None)
    return pair_kiosk(session, pairing.code).token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _kiosk_payload(session: Session, seeded: SmallProvince, **fields: Any) -> dict[str, Any]:
    _point, questionnaire = open_service_point(session, seeded.desk.public_code)
    return {
        "client_id": str(uuid.uuid4()),
        "answers": {item.code: 4 for item in questionnaire.items},
        "comment": None,
        "language": "vi",
        "questionnaire_id": questionnaire.id,
        **fields,
    }


def _stored_comments(session: Session) -> list[str | None]:
    # Column queries only: expiring the test's session would also expire the questionnaire that
    # open_service_point cached from it.
    return list(session.scalars(select(Response.comment).order_by(Response.id)))


# --- Finding 2: a lone surrogate in a comment is cleaned, never a 500 --------------------------


def test_lone_surrogate_in_a_kiosk_comment_is_cleaned_not_a_500(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    payload = _kiosk_payload(session, seeded, comment="Tốt\ud800 lắm")
    answer = client.post(
        SUBMIT,
        data=json.dumps(payload),  # ensure_ascii: "\\ud800" in the JSON text
        content_type="application/json",
        headers=_auth(token),
    )
    assert answer.status_code == 201, answer.get_json()
    assert _stored_comments(session) == ["Tốt lắm"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("urlencoded", "application/x-www-form-urlencoded"),
        ("multipart", "multipart/form-data; boundary=b0undary"),
    ],
)
def test_surrogate_bytes_in_a_form_comment_never_give_a_500(
    client: FlaskClient, session: Session, seeded: SmallProvince, body: str, content_type: str
):
    code = seeded.desk.public_code
    fields = {**form_fields(client.get(f"/s/{code}").get_data(as_text=True)), **ANSWERS}
    surrogate = "Tốt\ud800 lắm".encode("utf-8", "surrogatepass")  # b"T\xe1\xbb\x91t\xed\xa0\x80…"
    if body == "urlencoded":
        from urllib.parse import quote_from_bytes, urlencode

        raw = (urlencode(fields) + "&comment=" + quote_from_bytes(surrogate)).encode()
    else:
        head = '--b0undary\r\nContent-Disposition: form-data; name="{}"\r\n\r\n{}\r\n'
        parts = [head.format(name, value).encode() for name, value in fields.items()]
        parts.append(
            b'--b0undary\r\nContent-Disposition: form-data; name="comment"\r\n'
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + surrogate + b"\r\n"
        )
        raw = b"".join(parts) + b"--b0undary--\r\n"
    answer = client.post(f"/s/{code}", data=raw, content_type=content_type)
    assert answer.status_code == 302
    (comment,) = _stored_comments(session)
    assert comment is not None and comment.startswith("Tốt")
    assert not any("\ud800" <= char <= "\udfff" for char in comment)
