"""Kiosk pages and JSON API through the test client; the admin pages for kiosks and flags."""

from __future__ import annotations

import datetime as dt
import html as html_module
import json
import re
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.kiosks import pair_kiosk, register_kiosk, revoke_kiosk
from survey.services.questionnaires import open_service_point
from survey.storage.models import AuditEvent, Kiosk, Response, ResponseDecision, ResponseFlag
from tests.conftest import form_fields
from tests.factories import SmallProvince

PASSWORD = "correct horse battery"
AN_HOUR_AGO = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
PAIRED = AN_HOUR_AGO - dt.timedelta(days=1)  # answers queued an hour ago came after the pairing


def _device_time(seconds: float = 0) -> str:
    """A device time (JavaScript's toISOString) an hour ago plus ``seconds``."""
    moment = AN_HOUR_AGO + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture
def token(session: Session, seeded: SmallProvince) -> str:
    pairing = register_kiosk(
        session, service_point_id=seeded.desk.id, label="Quầy 1", user_id=None, now=PAIRED
    )
    token = pair_kiosk(session, pairing.code, now=PAIRED).token
    session.commit()  # services flush; the caller (here the test) commits
    return token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _answers(session: Session, seeded: SmallProvince, value: int = 4) -> dict[str, Any]:
    _point, questionnaire = open_service_point(session, seeded.desk.public_code)
    return {
        item.code: (None if item.allows_not_applicable and value == 3 else value)
        for item in questionnaire.items
    }


def _payload(session: Session, seeded: SmallProvince, **fields: Any) -> dict[str, Any]:
    _point, questionnaire = open_service_point(session, seeded.desk.public_code)
    return {
        "client_id": str(uuid.uuid4()),
        "answers": _answers(session, seeded),
        "comment": "Gọi tôi 0912 345 678",
        "language": "vi",
        "device_time": _device_time(),
        "questionnaire_id": questionnaire.id,
        **fields,
    }


def _count(session: Session, model: Any = Response) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_shell_page_carries_both_languages_and_no_inline_script(client: FlaskClient):
    answer = client.get("/kiosk/")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    texts = json.loads(html_module.unescape(re.search(r"data-texts='([^']*)'", html).group(1)))
    assert texts["vi"]["more_time"] == "Tôi cần thêm thời gian"
    assert texts["en"]["more_time"] == "I need more time"
    assert texts["vi"]["waiting"] == "%(count)s phiếu đang chờ gửi"
    assert 'id="face-5"' in html  # the drawn faces of the QR form
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all(
        'src="' in attributes and not body.strip() for attributes, body in scripts
    )
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert "kiosk/kiosk.js" in html and "manifest.webmanifest" in html


def test_manifest_and_worker(client: FlaskClient):
    manifest = client.get("/kiosk/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.mimetype == "application/manifest+json"
    data = manifest.get_json()
    assert data["display"] == "fullscreen" and data["start_url"] == "/kiosk/"
    assert {icon["sizes"] for icon in data["icons"]} == {"192x192", "512x512"}
    worker = client.get("/kiosk/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    body = worker.get_data(as_text=True)
    assert '"/kiosk/"' in body and "/static/kiosk/kiosk.js" in body


def test_pairing_gives_a_token_once_and_stores_only_hashes(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    pairing = register_kiosk(session, service_point_id=seeded.desk.id, label="Quầy", user_id=None)
    session.commit()
    page = client.get(f"/kiosk/pair/{pairing.code}")
    assert page.status_code == 200 and pairing.code in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    first = client.post("/kiosk/api/pair", json={"code": pairing.code.lower()})
    assert first.status_code == 201
    token = first.get_json()["token"]
    assert len(token) >= 40
    again = client.post("/kiosk/api/pair", json={"code": pairing.code})
    assert again.status_code == 404
    assert "message_vi" in again.get_json()["error"]
    kiosk = session.scalar(select(Kiosk))
    assert kiosk is not None and kiosk.token_hash != token and token not in (kiosk.token_hash or "")
    assert kiosk.pairing_code_hash is None


def test_setup_needs_a_valid_token(client: FlaskClient, token: str):
    assert client.get("/kiosk/api/setup").status_code == 401
    refused = client.get("/kiosk/api/setup", headers=_auth("not-a-token"))
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    answer = client.get("/kiosk/api/setup", headers=_auth(token))
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["kiosk"]["label"] == "Quầy 1"
    assert data["point"]["name_vi"] == "Bộ phận một cửa"
    assert len(data["questionnaire"]["items"]) >= 6
    assert data["settings"]["countdown_seconds"] >= 20
    assert data["settings"]["timeout_policy"] == "discard"


def test_submission_is_stored_once_per_client_id(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    payload = _payload(session, seeded)
    first = client.post("/kiosk/api/responses", json=payload, headers=_auth(token))
    assert first.status_code == 201, first.get_json()
    again = client.post("/kiosk/api/responses", json=payload, headers=_auth(token))
    assert again.status_code == 200
    assert again.get_json()["response_id"] == first.get_json()["response_id"]
    assert _count(session) == 1
    stored = session.scalar(select(Response))
    assert stored is not None
    assert stored.channel == "kiosk" and stored.kiosk_id is not None
    assert stored.comment == "Gọi tôi [số điện thoại]"  # masked like the QR form
    assert stored.device_time is not None
    assert stored.submitted_at == stored.device_time  # queued answers keep their own time


@pytest.mark.parametrize(
    "change",
    [
        {"answers": {}},
        {"answers": {"overall": 9}},
        {"answers": "all good"},
        {"client_id": "short"},
        {"questionnaire_id": "x"},
        {"kiosk_id": 999_999},
    ],
)
def test_invalid_submissions_are_permanent_json_errors(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str, change: dict
):
    answer = client.post(
        "/kiosk/api/responses", json=_payload(session, seeded, **change), headers=_auth(token)
    )
    assert 400 <= answer.status_code < 500 and answer.status_code not in (401, 408, 429)
    error = answer.get_json()["error"]
    assert error["message_vi"] and error["message_en"]
    assert _count(session) == 0


def test_body_that_is_not_json_is_refused(client: FlaskClient, token: str):
    answer = client.post(
        "/kiosk/api/responses",
        data="not json",
        headers={**_auth(token), "Content-Type": "text/plain"},
    )
    assert answer.status_code == 422 and "error" in answer.get_json()


def test_revoked_kiosk_is_refused_at_once(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    kiosk = session.scalar(select(Kiosk))
    assert kiosk is not None
    revoke_kiosk(session, kiosk.id, None)
    session.commit()
    answer = client.post(
        "/kiosk/api/responses", json=_payload(session, seeded), headers=_auth(token)
    )
    assert answer.status_code == 401
    assert "thu hồi" in answer.get_json()["error"]["message_vi"]
    assert _count(session) == 0


def test_submission_too_soon_is_kept_and_flagged(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    first = _payload(session, seeded, device_time=_device_time(0))
    second = _payload(session, seeded, device_time=_device_time(2))
    second["answers"] = _answers(session, seeded, 3)
    for payload in (first, second):
        answer = client.post("/kiosk/api/responses", json=payload, headers=_auth(token))
        assert answer.status_code == 201
    assert _count(session) == 2
    flags = session.scalars(select(ResponseFlag)).all()
    assert [flag.kind for flag in flags] == ["too_fast"]


def test_kiosk_api_is_exempt_from_session_csrf(app, session: Session, seeded, token: str):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    answer = client.post(
        "/kiosk/api/responses", json=_payload(session, seeded), headers=_auth(token)
    )
    assert answer.status_code == 201


# --- Administrators ------------------------------------------------------------------------------


def _sign_in(client: FlaskClient, session: Session) -> None:
    create_user(session, "officer", PASSWORD)
    session.commit()
    fields = form_fields(client.get("/admin/sign-in").get_data(as_text=True))
    client.post("/admin/sign-in", data={**fields, "username": "officer", "password": PASSWORD})


def _csrf(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]*)"', html)
    assert match, html
    return match.group(1)


@pytest.mark.parametrize("path", ["/admin/kiosks", "/admin/flags"])
def test_admin_kiosk_pages_need_sign_in(client: FlaskClient, path: str):
    answer = client.get(path)
    assert answer.status_code == 302 and "/admin/sign-in" in answer.headers["Location"]


def test_admin_registers_pairs_and_revokes_a_kiosk(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    listing = client.get("/admin/kiosks?lang=en").get_data(as_text=True)
    assert "Register a kiosk" in listing and seeded.desk.name_en in listing
    assert seeded.closed_desk.name_en not in listing  # a closed desk cannot get a kiosk
    token = _csrf(client, "/admin/kiosks")
    shown = client.post(
        "/admin/kiosks",
        data={"csrf_token": token, "service_point": seeded.desk.id, "label": "Quầy tiếp dân"},
    )
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    html = shown.get_data(as_text=True)
    code = re.search(r"<strong>([A-Z0-9]{5}-[A-Z0-9]{5})</strong>", html)
    assert code, html
    assert "/kiosk/pair/" + code.group(1).replace("-", "") in html
    assert "data:image/png;base64," in html
    # The code is shown once: the list does not repeat it.
    assert code.group(1) not in client.get("/admin/kiosks").get_data(as_text=True)

    device = client.application.test_client()
    paired = device.post("/kiosk/api/pair", json={"code": code.group(1)})
    assert paired.status_code == 201
    device_token = paired.get_json()["token"]
    assert device.get("/kiosk/api/setup", headers=_auth(device_token)).status_code == 200

    kiosk = session.scalar(select(Kiosk))
    assert kiosk is not None
    reissued = client.post(
        f"/admin/kiosks/{kiosk.id}/pairing-code",
        data={"csrf_token": _csrf(client, "/admin/kiosks")},
    )
    assert reissued.status_code == 200 and "/kiosk/pair/" in reissued.get_data(as_text=True)
    logged = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [
        (event.action, event.actor_name) for event in logged if event.action.startswith("kiosk.")
    ] == [
        ("kiosk.registered", "officer"),
        ("kiosk.paired", "system"),
        ("kiosk.pairing_code_issued", "officer"),
    ]
    revoked = client.post(
        f"/admin/kiosks/{kiosk.id}/revoke", data={"csrf_token": _csrf(client, "/admin/kiosks")}
    )
    assert revoked.status_code == 302
    assert device.get("/kiosk/api/setup", headers=_auth(device_token)).status_code == 401
    assert "Revoked" in client.get("/admin/kiosks?lang=en").get_data(as_text=True)


def test_admin_sees_flags_and_records_a_logged_exclusion(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    for second in (0, 1):
        payload = _payload(session, seeded, device_time=_device_time(second))
        client.post("/kiosk/api/responses", json=payload, headers=_auth(token))
    _sign_in(client, session)
    page = client.get("/admin/flags?lang=en").get_data(as_text=True)
    assert "Too soon after the previous answer" in page and "Quầy 1" in page
    assert "1.0 s after another answer on the same kiosk (minimum 5 s)" in page
    flagged = session.scalar(select(ResponseFlag))
    assert flagged is not None
    csrf = _csrf(client, "/admin/flags")
    refused = client.post(
        f"/admin/flags/{flagged.response_id}/decision",
        data={"csrf_token": csrf, "decision": "exclude", "reason": ""},
    )
    assert refused.status_code == 302 and _count(session, ResponseDecision) == 0
    done = client.post(
        f"/admin/flags/{flagged.response_id}/decision",
        data={"csrf_token": csrf, "decision": "exclude", "reason": "Clerk testing the tablet"},
    )
    assert done.status_code == 302
    decision = session.scalar(select(ResponseDecision))
    assert decision is not None and decision.excluded and decision.decided_by.username == "officer"
    response = session.get(Response, flagged.response_id)
    assert response is not None and response.excluded
    assert "No flagged responses here." in client.get("/admin/flags?lang=en").get_data(as_text=True)
    decided = client.get("/admin/flags?status=decided&lang=en").get_data(as_text=True)
    assert "Clerk testing the tablet" in decided and "officer" in decided
    scanned = client.post("/admin/flags/scan", data={"csrf_token": csrf})
    assert scanned.status_code == 302
