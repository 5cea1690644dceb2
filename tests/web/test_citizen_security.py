"""Attacks on the citizen's side: the QR form, its cookie and rate limits, and the kiosk API."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
    token = pair_kiosk(session, pairing.code).token
    session.commit()
    return token


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


# --- Finding 5: a replayed idempotency key never modifies the stored response -------------------


def _response_row(session: Session, response_id: int) -> tuple[Any, ...]:
    row = session.execute(
        select(
            Response.channel,
            Response.kiosk_id,
            Response.device_time,
            Response.submitted_at,
            Response.service_point_id,
            Response.comment,
        ).where(Response.id == response_id)
    ).one()
    return tuple(row)


def _second_token(session: Session, point_id: int, label: str = "Quầy 2") -> str:
    pairing = register_kiosk(session, service_point_id=point_id, label=label, user_id=None)
    token = pair_kiosk(session, pairing.code).token
    session.commit()
    return token


def test_a_kiosk_replaying_a_qr_forms_key_changes_nothing_and_learns_nothing(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    code = seeded.desk.public_code
    fields = form_fields(client.get(f"/s/{code}").get_data(as_text=True))
    assert client.post(f"/s/{code}", data={**fields, **ANSWERS}).status_code == 302
    (stored_id,) = session.scalars(select(Response.id))
    key = session.scalar(select(Response.idempotency_key))
    before = _response_row(session, stored_id)
    replay = _kiosk_payload(session, seeded, client_id=key, device_time="2026-01-01T00:00:00Z")
    answer = client.post(SUBMIT, json=replay, headers=_auth(token))
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"]["message_vi"] and body["error"]["message_en"]
    assert set(body) == {"error"} and str(stored_id) not in json.dumps(body["error"]["code"])
    assert _response_row(session, stored_id) == before  # still a QR answer, no kiosk, no time


def test_a_kiosk_replaying_another_kiosks_key_changes_nothing(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    first = _kiosk_payload(session, seeded, device_time="2026-01-01T00:00:00Z")
    created = client.post(SUBMIT, json=first, headers=_auth(token))
    assert created.status_code == 201
    response_id = created.get_json()["response_id"]
    before = _response_row(session, response_id)
    _point, health = open_service_point(session, seeded.counter.public_code)
    health_answers = {item.code: 2 for item in health.items}
    for other_point, changes in (
        (seeded.desk.id, {}),
        (seeded.counter.id, {"answers": health_answers, "questionnaire_id": health.id}),
    ):
        other = _second_token(session, other_point, label=f"Khác {other_point}")
        replay = {**first, "device_time": "2026-01-02T00:00:00Z", "comment": "ghi đè", **changes}
        answer = client.post(SUBMIT, json=replay, headers=_auth(other))
        assert answer.status_code == 409, answer.get_json()
        assert "response_id" not in answer.get_json()
    assert _response_row(session, response_id) == before


def test_a_kiosks_own_retry_returns_the_stored_response_unchanged(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    first = _kiosk_payload(session, seeded, device_time="2026-01-01T00:00:00Z")
    created = client.post(SUBMIT, json=first, headers=_auth(token))
    response_id = created.get_json()["response_id"]
    before = _response_row(session, response_id)
    retry = {**first, "device_time": "2026-01-01T00:05:00Z", "comment": "khác"}
    again = client.post(SUBMIT, json=retry, headers=_auth(token))
    assert again.status_code == 200
    assert again.get_json() == {"response_id": response_id, "created": False}
    assert _response_row(session, response_id) == before


def test_a_qr_form_posting_a_kiosks_key_changes_nothing_and_gets_a_fresh_id(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    first = _kiosk_payload(session, seeded, client_id="k" * 32, device_time="2026-01-01T00:00:00Z")
    response_id = client.post(SUBMIT, json=first, headers=_auth(token)).get_json()["response_id"]
    before = _response_row(session, response_id)
    code = seeded.desk.public_code
    fields = form_fields(client.get(f"/s/{code}").get_data(as_text=True))
    posted = client.post(f"/s/{code}", data={**fields, **ANSWERS, "submission_id": "k" * 32})
    assert posted.status_code == 422
    page = posted.get_data(as_text=True)
    assert "đã được dùng cho một phiếu khác" in page
    assert form_fields(page)["submission_id"] != "k" * 32
    assert _response_row(session, response_id) == before
    assert len(_stored_comments(session)) == 1


def test_a_resent_post_as_the_first_request_of_a_new_worker_keeps_the_form_working(
    app, seeded: SmallProvince
):
    """The questionnaire cache is per process; a duplicate insert must not expire its objects."""
    from survey.services import questionnaires

    client = app.test_client()
    code = seeded.desk.public_code
    fields = form_fields(client.get(f"/s/{code}").get_data(as_text=True))
    assert client.post(f"/s/{code}", data={**fields, **ANSWERS}).status_code == 302
    questionnaires._LOADED.clear()  # a worker restarted; its first request is a re-sent POST
    assert client.post(f"/s/{code}", data={**fields, **ANSWERS}).status_code == 302
    assert client.get(f"/s/{code}?new=1").status_code == 200
    fresh = form_fields(client.get(f"/s/{code}?new=1").get_data(as_text=True))
    assert client.post(f"/s/{code}", data={**fresh, **ANSWERS}).status_code == 302


# --- Finding 4: crafted JSON to the kiosk API is a 4xx JSON error, never a 500 ------------------

DEEP = "[" * 100_000 + "]" * 100_000


def _assert_json_error(answer: Any) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True))
    error = answer.get_json()["error"]
    assert error["message_vi"] and error["message_en"]


@pytest.mark.parametrize(
    "change",
    [
        {"questionnaire_id": 2**70},
        {"questionnaire_id": -(2**70)},
        {"questionnaire_id": "5"},
        {"questionnaire_id": 5.0},
        {"questionnaire_id": [1]},
        {"kiosk_id": 2**70},
        {"kiosk_id": {"id": 1}},
        {"answers": {"overall": 2**70}},
        {"answers": {"x" * 100_000: 4}},
        {"answers": {f"item{i}": 4 for i in range(20_000)}},
        {"answers": [4] * 50_000},
        {"answers": [{"overall": 4}]},
        {"answers": {"overall": "4"}},
        {"answers": {"overall": [4]}},
        {"answers": {"overall": {"value": 4}}},
        {"answers": {"overall": [[[[[[[[[[4]]]]]]]]]]}},
        {"client_id": 12345678901234567890},
        {"client_id": ["a" * 20]},
        {"comment": ["Gọi tôi"]},
        {"comment": {"text": "x"}},
        {"comment": 2**70},
    ],
    ids=lambda change: json.dumps(change)[:60],
)
def test_crafted_submissions_get_a_json_4xx(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str, change: dict
):
    payload = {**_kiosk_payload(session, seeded), **change}
    _assert_json_error(client.post(SUBMIT, json=payload, headers=_auth(token)))
    assert _stored_comments(session) == []


@pytest.mark.parametrize(
    "device_time",
    [
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59Z",
        "2026-02-30T00:00:00Z",
        2**70,
    ],
)
def test_device_times_at_the_edges_never_give_a_500(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str, device_time: Any
):
    payload = _kiosk_payload(session, seeded, device_time=device_time)
    answer = client.post(SUBMIT, json=payload, headers=_auth(token))
    assert answer.status_code < 500
    if answer.status_code >= 400:
        _assert_json_error(answer)


@pytest.mark.parametrize("path", [SUBMIT, "/kiosk/api/pair"])
@pytest.mark.parametrize(
    "body", [DEEP, '{"answers": ' + DEEP + "}", '{"code": ' + DEEP + "}", "\ud800", "[]", "1e999"]
)
def test_deeply_nested_or_odd_json_bodies_get_a_json_4xx(
    client: FlaskClient, token: str, path: str, body: str
):
    answer = client.post(
        path,
        data=body.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        headers=_auth(token),
    )
    _assert_json_error(answer)


@pytest.mark.parametrize("code", [2**70, ["ABCDE-FGHJK"], {"code": "x"}, None, "\ud800" * 10])
def test_crafted_pairing_codes_get_a_json_4xx(client: FlaskClient, code: Any):
    _assert_json_error(client.post("/kiosk/api/pair", json={"code": code}))


EDGE_NUMBERS = st.sampled_from([0, -1, 3, 2**31 - 1, 2**31, 2**63, 2**70, -(2**70), 10**30, 1e308])
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    EDGE_NUMBERS,
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "vi", "en", "\ud800", "\x00", "2026-01-01T00:00:00Z", "0912 345 678"]),
)
ANY_JSON = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
FIELDS = [
    "client_id",
    "answers",
    "comment",
    "language",
    "device_time",
    "questionnaire_id",
    "kiosk_id",
]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_arbitrary_json_to_the_kiosk_api_never_gets_a_5xx(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str, data: st.DataObject
):
    shape = data.draw(
        st.sampled_from(["anything", "mutated", "mutated", "ids", "deep", "pair"]), label="shape"
    )
    if shape == "deep":  # nested beyond what a recursive parser survives, or a little less
        depth = data.draw(st.sampled_from([10, 900, 5_000, 60_000]), label="depth")
        opener = data.draw(st.sampled_from(["[", '{"a":']), label="opener")
        closer = "]" if opener == "[" else "}"
        document = None
        body = (opener * depth + "1" + closer * depth).encode()
    elif shape == "ids":
        document = _kiosk_payload(session, seeded)
        for field in data.draw(
            st.lists(st.sampled_from(["questionnaire_id", "kiosk_id"]), min_size=1), label="ids"
        ):
            document[field] = data.draw(st.one_of(EDGE_NUMBERS, ANY_JSON), label=field)
    elif shape == "anything":
        document = data.draw(ANY_JSON, label="document")
    elif shape == "pair":
        document = data.draw(
            st.one_of(ANY_JSON, st.fixed_dictionaries({"code": ANY_JSON})), label="pairing"
        )
    else:
        document = _kiosk_payload(session, seeded)
        for field in data.draw(st.lists(st.sampled_from(FIELDS), max_size=3), label="fields"):
            document[field] = data.draw(ANY_JSON, label=field)
        answers = document.get("answers")
        if isinstance(answers, dict) and answers and data.draw(st.booleans(), label="inside"):
            code = data.draw(st.sampled_from(sorted(answers)), label="item")
            answers[code] = data.draw(ANY_JSON, label="answer")
    path = "/kiosk/api/pair" if shape == "pair" else SUBMIT
    if shape == "deep":
        path = data.draw(st.sampled_from([SUBMIT, "/kiosk/api/pair"]), label="path")
    else:
        body = json.dumps(document, allow_nan=True).encode("utf-8", "surrogatepass")
    answer = client.post(path, data=body, content_type="application/json", headers=_auth(token))
    assert answer.status_code < 500, (document, answer.get_data(as_text=True)[:300])
    if answer.status_code >= 400:
        _assert_json_error(answer)


# --- Finding 3: one kiosk token, 200 answers in seconds, back-dated 40 days ----------------------


def test_a_back_dated_burst_from_one_token_is_flagged_on_arrival_and_counts_today(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    import datetime as dt

    from survey.storage.models import ResponseFlag

    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    for index in range(200):
        device_time = start + dt.timedelta(seconds=6 * index)  # spaced like honest citizens
        payload = _kiosk_payload(
            session, seeded, device_time=device_time.isoformat().replace("+00:00", "Z")
        )
        payload["answers"] = {
            code: 1 + (index + n) % 5 for n, code in enumerate(payload["answers"])
        }
        assert client.post(SUBMIT, json=payload, headers=_auth(token)).status_code == 201
    oldest = session.scalar(select(Response.submitted_at).order_by(Response.submitted_at))
    assert oldest is not None and oldest > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    flags = {(flag.response_id, flag.kind) for flag in session.scalars(select(ResponseFlag))}
    responses = list(session.scalars(select(Response.id)))
    assert len(responses) == 200
    assert all((response_id, "implausible_time") in flags for response_id in responses)
    assert sum(kind == "too_fast" for _id, kind in flags) >= 190  # by arrival: all within seconds


# --- Finding 6: identical-answer bursts are flagged on arrival, QR form included ---------------


def _send_form(client: FlaskClient, code: str, answers: dict[str, str]) -> None:
    fields = form_fields(client.get(f"/s/{code}?new=1").get_data(as_text=True))
    assert client.post(f"/s/{code}", data={**fields, **answers}).status_code == 302


def _flag_kinds(session: Session) -> list[tuple[int, str]]:
    from survey.storage.models import ResponseFlag

    return sorted(session.execute(select(ResponseFlag.response_id, ResponseFlag.kind)).all())


def test_identical_qr_answers_are_flagged_on_arrival_without_the_daily_scan(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    code = seeded.desk.public_code
    _send_form(client, code, {**ANSWERS, "q_overall": "2"})  # a different citizen in between
    for _ in range(4):
        _send_form(client, code, ANSWERS)
    assert _flag_kinds(session) == []  # four identical are not a burst (INTEGRITY_BURST_SIZE 5)
    _send_form(client, code, ANSWERS)
    same = list(session.scalars(select(Response.id).order_by(Response.id)))[1:]
    assert _flag_kinds(session) == [(response_id, "identical_burst") for response_id in same]


def test_scan_anomalies_covers_the_offline_window_and_accepts_longer_periods(
    app, session: Session, seeded: SmallProvince
):
    import datetime as dt

    from survey.services.responses import submit_response

    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    for minute in range(5):
        submit_response(
            session,
            point=point,
            questionnaire=questionnaire,
            answers={item.code: 4 for item in questionnaire.items},
            idempotency_key=f"imported-{minute:012d}",
            channel="import",
            submitted_at=long_ago + dt.timedelta(minutes=minute),
        )
    session.commit()
    runner = app.test_cli_runner()
    default = runner.invoke(args=["scan-anomalies"])
    assert default.exit_code == 0 and "Checked 0 responses" in default.output
    usage = " ".join(runner.invoke(args=["scan-anomalies", "--help"]).output.split())
    assert "KIOSK_MAX_OFFLINE_DAYS + 1: 8" in usage
    longer = runner.invoke(args=["scan-anomalies", "--days", "41"])
    assert longer.exit_code == 0, longer.output
    assert "Checked 5 responses; 5 new flags." in longer.output
    app.config["KIOSK_MAX_OFFLINE_DAYS"] = 45  # tablets may be offline longer: the scan follows
    assert "Checked 5 responses; 0 new flags." in runner.invoke(args=["scan-anomalies"]).output
    for refused in ("0", "3661"):
        assert runner.invoke(args=["scan-anomalies", "--days", refused]).exit_code != 0


# --- Finding 7: an agency manager sees the flags of their agency but cannot exclude them --------

PASSWORD = "correct horse battery"


def _sign_in(client: FlaskClient, session: Session, username: str, role: str, **scope: Any) -> None:
    from survey.services.accounts import create_user

    create_user(session, username, PASSWORD, role, **scope)
    session.commit()
    fields = form_fields(client.get("/admin/sign-in").get_data(as_text=True))
    answer = client.post(
        "/admin/sign-in", data={**fields, "username": username, "password": PASSWORD}
    )
    assert answer.status_code == 302


def test_an_agency_manager_sees_flags_but_cannot_exclude_or_include(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    from survey.storage.models import ResponseDecision

    code = seeded.desk.public_code
    for _ in range(5):
        _send_form(client, code, ANSWERS)
    flagged = session.scalar(select(Response.id).order_by(Response.id))
    _sign_in(client, session, "manager", "agency_manager", scope_agency_id=seeded.department.id)
    page = client.get("/admin/flags?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Burst of identical answers" in html
    assert "Record the decision" not in html
    assert "sector administrator or the province administrator" in html
    csrf = form_fields(html)["csrf_token"]
    for decision in ("exclude", "include"):
        answer = client.post(
            f"/admin/flags/{flagged}/decision?lang=en",
            data={"csrf_token": csrf, "decision": decision, "reason": "Clerk pressing the faces"},
        )
        assert answer.status_code == 403
        text = answer.get_data(as_text=True)
        assert "Only a province administrator or the administrator" in text
        assert "Chỉ quản trị viên cấp tỉnh" in text
    assert session.scalars(select(ResponseDecision)).all() == []
    assert session.scalar(select(Response.excluded).where(Response.id == flagged)) is False

    sector = client.application.test_client()
    _sign_in(sector, session, "sector", "sector_admin", sector="administrative")
    html = sector.get("/admin/flags?lang=en").get_data(as_text=True)
    assert "Record the decision" in html
    done = sector.post(
        f"/admin/flags/{flagged}/decision",
        data={
            "csrf_token": form_fields(html)["csrf_token"],
            "decision": "exclude",
            "reason": "Clerk pressing the faces",
        },
    )
    assert done.status_code == 302
    assert session.scalar(select(Response.excluded).where(Response.id == flagged)) is True


# --- Finding 8: the session cookie does not carry the response's key in readable form -----------


def _cookie_as_anyone_reads_it(client: FlaskClient) -> str:
    """The session cookie decoded without the secret key: Flask signs it, it does not hide it."""
    import zlib

    from itsdangerous import base64_decode

    cookie = client.get_cookie("session")
    assert cookie is not None
    payload = cookie.value
    compressed = payload.startswith(".")
    data = base64_decode(payload.lstrip(".").split(".")[0])
    return (zlib.decompress(data) if compressed else data).decode()


def test_the_cookie_keeps_no_readable_submission_id_but_back_still_works(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    code = seeded.desk.public_code
    fields = form_fields(client.get(f"/s/{code}").get_data(as_text=True))
    assert client.post(f"/s/{code}", data={**fields, **ANSWERS}).status_code == 302
    stored_key = session.scalar(select(Response.idempotency_key))
    assert stored_key == fields["submission_id"]
    readable = _cookie_as_anyone_reads_it(client)
    assert '"recent"' in readable  # the entry is there…
    assert stored_key not in readable  # …but not the key
    # Back (or reopening) within half an hour still offers the same id: sending again stores once.
    again = form_fields(client.get(f"/s/{code}").get_data(as_text=True))
    assert again["submission_id"] == stored_key
    assert client.post(f"/s/{code}", data={**again, **ANSWERS}).status_code == 302
    assert len(list(session.scalars(select(Response.id)))) == 1


def test_a_sealed_entry_that_does_not_open_just_gives_a_new_id(app, seeded: SmallProvince):
    client = app.test_client()
    code = seeded.desk.public_code
    fields = form_fields(client.get(f"/s/{code}").get_data(as_text=True))
    assert client.post(f"/s/{code}", data={**fields, **ANSWERS}).status_code == 302
    with client.session_transaction() as browser:
        recent = dict(browser["recent"])
        recent[code] = ["bm90IGEgc2VhbGVkIGlkIGF0IGFsbCwgbm9wZQ==", recent[code][1]]  # other key
        browser["recent"] = recent
    page = client.get(f"/s/{code}").get_data(as_text=True)
    assert form_fields(page)["submission_id"] != fields["submission_id"]
    assert "vừa gửi câu trả lời" not in page
