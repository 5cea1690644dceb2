"""Bad input to every route (hypothesis): no 500, each rejection a 4xx with a message, no change.

Routes come from ``app.url_map``, so a new route is fuzzed without editing this file. Requests are
made anonymously and as a province administrator signed in through the real sign-in form (a user
made by ``create_user``), with or without a valid CSRF token, random, missing, duplicated, oversized
and wrongly encoded fields (invalid UTF-8, a declared charset that lies, multipart, JSON, garbage),
random path arguments and query strings. After each request the responses stored before the test
must be unchanged (the citizen's data: point, questionnaire, channel, time, comment, answers), and
any response the request stored must be a complete, valid one.

Library warnings inside a request are ignored here, as in production (other tests hold pages to
warnings-as-errors); an exception is still an exception.
"""

from __future__ import annotations

import json
import re
import uuid
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from survey import create_app
from survey.services.accounts import create_user
from survey.services.responses import submit_response
from survey.storage import queries
from survey.storage.models import Answer, Item, Response
from tests.conftest import form_fields
from tests.factories import SmallProvince

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is not flaky, failures reproduce
    database=None,  # nothing written to .hypothesis/ in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PER_ROUTE = settings(FUZZ, max_examples=10)
PASSWORD = "fuzz-password-0123456789"
ADMIN = "fuzz-admin"
STATIC = {"static"}
MAX_CONTENT_LENGTH = 256 * 1024  # survey/config.py


@dataclass
class World:
    app: Flask
    signed_in_cookie: str
    public_cookie: str
    tokens: dict[str, str]  # who → a valid CSRF token of that browser session
    stored_keys: list[str]
    samples: dict[str, Any]
    field_names: list[str]
    before: dict[str, tuple[Any, ...]]


# ------------------------------------------------------------------------------- the fixtures


def _answers(session: Session, sector: str, value: int) -> dict[str, int | None]:
    questionnaire = queries.active_questionnaire(session, sector)
    assert questionnaire is not None
    return {item.code: value for item in questionnaire.items}


def _snapshot(session: Session) -> dict[str, tuple[Any, ...]]:
    """The citizen's data of every response, by idempotency key (administrative flags aside)."""
    session.expire_all()
    answers: dict[int, list[tuple[int, int | None]]] = {}
    for response_id, item_id, value in session.execute(
        select(Answer.response_id, Answer.item_id, Answer.value)
    ):
        answers.setdefault(response_id, []).append((item_id, value))
    return {
        row.idempotency_key: (
            row.id,
            row.service_point_id,
            row.questionnaire_id,
            row.channel,
            row.language,
            row.submitted_at,
            row.comment,
            tuple(sorted(answers.get(row.id, []), key=lambda pair: pair[0])),
        )
        for row in session.execute(select(Response.__table__))
    }


def _incomplete_responses(session: Session) -> list[str]:
    """Keys of stored responses that do not answer exactly their questionnaire's items."""
    items: dict[int, dict[int, bool]] = {}
    for questionnaire_id, item_id, allows_na in session.execute(
        select(Item.questionnaire_id, Item.id, Item.allows_not_applicable)
    ):
        items.setdefault(questionnaire_id, {})[item_id] = allows_na
    bad = []
    snapshot = _snapshot(session)
    for key, (_id, _point, questionnaire_id, *_rest, answers) in snapshot.items():
        expected = items.get(questionnaire_id, {})
        given_items = {item_id: value for item_id, value in answers}
        if set(given_items) != set(expected) or any(
            (value is None and not expected[item_id])
            or (value is not None and value not in (1, 2, 3, 4, 5))
            for item_id, value in given_items.items()
        ):
            bad.append(key)
    return bad


_FIELD_NAMES: list[str] = []


def _field_names(client: FlaskClient, app: Flask, samples: dict[str, Any]) -> list[str]:
    """Every input name on every page a signed-in administrator can GET (the forms' vocabulary);
    collected once per test session."""
    if _FIELD_NAMES:
        return _FIELD_NAMES
    names = {"csrf_token", "submission_id", "comment", "website", "username", "password"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in STATIC or "GET" not in (rule.methods or set()):
            continue
        path = _build(rule, samples)
        if path is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            page = client.get(path)
        if page.mimetype == "text/html":
            names.update(re.findall(r'name="([^"]+)"', page.get_data(as_text=True)))
    _FIELD_NAMES.extend(sorted(names))
    return _FIELD_NAMES


def _build(rule: Rule, values: dict[str, Any]) -> str | None:
    try:
        return rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
    except (KeyError, ValueError, TypeError):
        return None


@pytest.fixture
def world(app: Flask, client: FlaskClient, session: Session, seeded: SmallProvince) -> World:
    keys = []
    for point, sector, value in (
        (seeded.desk, "administrative", 5),
        (seeded.counter, "health", 3),
        (seeded.school_office, "education", 1),
    ):
        point_, questionnaire = (point, queries.active_questionnaire(session, sector))
        assert questionnaire is not None
        key = f"stored-before-fuzz-{sector}"
        submit_response(
            session,
            point=point_,
            questionnaire=questionnaire,
            answers=_answers(session, sector, value),
            idempotency_key=key,
            channel="qr",
            comment="Đã lưu trước khi thử",
        )
        keys.append(key)
    create_user(session, ADMIN, PASSWORD)
    session.commit()

    page = client.get("/admin/sign-in")
    token = form_fields(page.get_data(as_text=True))["csrf_token"]
    signed_in = client.post(
        "/admin/sign-in", data={"csrf_token": token, "username": ADMIN, "password": PASSWORD}
    )
    assert signed_in.status_code == 302, "the fuzzing administrator could not sign in"
    # One CSRF token per browser session serves every form of that session.
    form = client.get(f"/s/{seeded.desk.public_code}")
    csrf_token = form_fields(form.get_data(as_text=True))["csrf_token"]
    signed_in_cookie = _session_cookie(client, app)

    public = app.test_client()
    public_form = public.get(f"/s/{seeded.desk.public_code}")
    assert public_form.status_code == 200
    tokens = {
        "admin": csrf_token,
        "citizen": form_fields(public_form.get_data(as_text=True))["csrf_token"],
        "anonymous": csrf_token,  # a token of another session: must be refused
    }

    stored_response = queries.response_id_by_key(session, keys[0])
    samples = {
        "code": seeded.desk.public_code,
        "agency_id": seeded.department.id,
        "kiosk_id": 1,
        "response_id": stored_response,
        "point_id": seeded.desk.id,
        "kind": "agency",
        "key": seeded.department.code,
        "fmt": "csv",
        "filename": "css/public.css",
    }
    return World(
        app=app,
        signed_in_cookie=signed_in_cookie,
        public_cookie=_session_cookie(public, app),
        tokens=tokens,
        stored_keys=keys,
        samples=samples,
        field_names=_field_names(client, app, samples),
        before=_snapshot(session),
    )


def _session_cookie(client: FlaskClient, app: Flask) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def _browser(world: World, who: str) -> FlaskClient:
    """A fresh client carrying a copy of a session: examples cannot sign each other out."""
    browser = world.app.test_client()
    cookie = {"admin": world.signed_in_cookie, "citizen": world.public_cookie}.get(who)
    if cookie is not None:
        browser.set_cookie(world.app.config["SESSION_COOKIE_NAME"], cookie)
    return browser


# ------------------------------------------------------------------------------ the strategies

JUNK_TEXT = st.text(max_size=40)
VALUES = st.one_of(
    st.sampled_from(["", "1", "2", "3", "4", "5", "na", "0", "6", "-1", "1.0", "３", " 4", "4 "]),
    JUNK_TEXT,
    st.sampled_from(["\x00", "a\x00b", "\u202e", "\ud7ff", "𝟓", "Đ" * 1001, "0912 345 678"]),
    st.integers(-(10**30), 10**30).map(str),
)
RAW_VALUES = st.one_of(
    VALUES.map(lambda text: text.encode("utf-8")),
    st.binary(max_size=30),  # mostly invalid UTF-8
    st.sampled_from([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", "Đánh giá".encode("cp1258")]),
)


@st.composite
def submission_ids(draw: st.DrawFn, stored: list[str]) -> str:
    return draw(
        st.one_of(
            st.just(uuid.uuid4().hex),
            st.sampled_from(stored),  # a resend of a stored response: must change nothing
            st.sampled_from(["a" * 64 + "\n", "a" * 16 + "\n", "a" * 65, "a" * 15, "ä" * 20]),
            JUNK_TEXT,
        )
    )


@st.composite
def bodies(draw: st.DrawFn, names: list[str], csrf_token: str) -> tuple[bytes, str | None]:
    """A request body and its Content-Type."""
    pairs: list[tuple[bytes, bytes]] = []
    token = draw(st.sampled_from(["valid", "valid", "missing", "junk", "twice"]))
    if token in ("valid", "twice"):
        pairs.append((b"csrf_token", csrf_token.encode()))
    if token == "junk":
        pairs.append((b"csrf_token", draw(RAW_VALUES)))
    if token == "twice":
        pairs.append((b"csrf_token", b"not-the-token"))
    name = st.one_of(st.sampled_from(names).map(str.encode), RAW_VALUES)
    pairs += draw(st.lists(st.tuples(name, RAW_VALUES), max_size=12))
    size = draw(st.sampled_from(["normal"] * 6 + ["huge value", "many fields"]))
    if size == "huge value":
        pairs.append((b"comment", b"x" * (MAX_CONTENT_LENGTH + 10)))
    elif size == "many fields":
        pairs += [(b"f", b"1")] * 1500
    encoding = draw(st.sampled_from(["form", "form", "form; charset", "multipart", "json", "raw"]))
    if encoding.startswith("form"):
        body = "&".join(
            f"{quote_from_bytes(key)}={quote_from_bytes(value)}" for key, value in pairs
        ).encode()
        charset = draw(st.sampled_from(["latin-1", "utf-16", "bogus", "utf-8"]))
        content_type = "application/x-www-form-urlencoded"
        return body, content_type + (f"; charset={charset}" if encoding.endswith("charset") else "")
    if encoding == "multipart":
        boundary = "fuzzboundary"
        parts = [
            b"--"
            + boundary.encode()
            + b'\r\nContent-Disposition: form-data; name="'
            + key.replace(b'"', b"")
            + b'"\r\n\r\n'
            + value
            + b"\r\n"
            for key, value in pairs
        ]
        body = b"".join(parts) + draw(st.sampled_from([b"--fuzzboundary--\r\n", b""]))
        return body, f"multipart/form-data; boundary={boundary}"
    if encoding == "json":
        document = {
            key.decode("utf-8", "replace"): value.decode("utf-8", "replace") for key, value in pairs
        }
        answers = draw(st.dictionaries(JUNK_TEXT, st.one_of(st.integers(), JUNK_TEXT, st.none())))
        document["answers"] = answers  # type: ignore[assignment]
        raw = json.dumps(document).encode()
        return draw(st.sampled_from([raw, raw[: len(raw) // 2], b"[]", b"null"])), (
            "application/json"
        )
    return draw(st.binary(max_size=200)), draw(
        st.sampled_from([None, "text/plain", "application/octet-stream", "bogus/; ="])
    )


@st.composite
def path_values(draw: st.DrawFn, rule: Rule, samples: dict[str, Any]) -> dict[str, str]:
    values = {}
    for argument in sorted(rule.arguments):
        converter = type(rule._converters[argument]).__name__
        if converter == "IntegerConverter":
            junk = st.one_of(
                st.sampled_from([0, 2**31, 2**63, 10**20, 10**30]), st.integers(0, 10**6)
            ).map(str)
        else:
            junk = JUNK_TEXT.filter(bool).map(lambda text: quote(text, safe=""))
        sample = samples.get(argument)
        choices = [junk] if sample is None else [st.just(quote(str(sample), safe="")), junk]
        values[argument] = draw(st.one_of(*choices))
    return values


def _path(rule: Rule, values: dict[str, str]) -> str:
    """The rule's URL with raw (already quoted) argument text: junk must reach the router."""
    path = rule.rule
    for argument, value in values.items():
        path = re.sub(rf"<(?:[^>:]+:)?{argument}>", lambda _match, v=value: v, path)
    return path


# ------------------------------------------------------------------------------ the judgement

_ALERT = re.compile(r'(?:role="alert"|class="error[^"]*")[^>]*>(.*?)</(?:section|div|p|ul)>', re.S)


def _has_message(response: TestResponse) -> bool:
    text = response.get_data(as_text=True)
    if response.is_json:
        document = response.get_json(silent=True)
        return bool(re.search(r'"[^"]*[A-Za-zÀ-ỹ]{3}', json.dumps(document, ensure_ascii=False)))
    if response.mimetype == "text/html":
        return any(re.sub(r"<[^>]+>", "", found).strip() for found in _ALERT.findall(text))
    return bool(text.strip())


def _judge(world: World, session: Session, response: TestResponse, what: str) -> None:
    assert response.status_code < 500, f"{what} → {response.status_code}"
    if 400 <= response.status_code < 500:
        assert _has_message(response), f"{what} → {response.status_code} without a message"
    after = _snapshot(session)
    changed = [key for key, row in world.before.items() if after.get(key) != row]
    assert not changed, f"{what} changed stored responses {changed}"
    assert not _incomplete_responses(session), f"{what} stored an incomplete response"


def _send(
    browser: FlaskClient, method: str, url: str, body: bytes | None, content_type: str | None
) -> TestResponse:
    headers = {"Content-Type": content_type} if content_type else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return browser.open(url, method=method, data=body, headers=headers)


# ----------------------------------------------------------------------------------- the tests


def _routes() -> list[tuple[str, str]]:
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    return sorted(
        (rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in STATIC
    )


@pytest.mark.parametrize(("endpoint", "path"), _routes(), ids=lambda value: value)
@PER_ROUTE
@given(data=st.data())
def test_every_route_answers_bad_input_without_500_or_change(
    world: World, session: Session, endpoint: str, path: str, data: st.DataObject
) -> None:
    (rule,) = (
        rule
        for rule in world.app.url_map.iter_rules()
        if (rule.endpoint, rule.rule) == (endpoint, path)
    )
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    method = data.draw(st.sampled_from([*methods, *methods, "PUT", "DELETE"]), label="method")
    values = data.draw(path_values(rule, world.samples), label="path")
    query = data.draw(
        st.lists(
            st.tuples(st.sampled_from(["lang", "next", "new", "page", "x"]), JUNK_TEXT), max_size=3
        )
    )
    url = _path(rule, values) + ("?" + urlencode(query) if query else "")
    who = data.draw(st.sampled_from(["admin", "admin", "admin", "citizen", "anonymous"]))
    body, content_type = (None, None)
    if method != "GET" or data.draw(st.booleans(), label="GET with a body"):
        body, content_type = data.draw(bodies(world.field_names, world.tokens[who]), label="body")
    response = _send(_browser(world, who), method, url, body, content_type)
    _judge(world, session, response, f"{who} {method} {url} ({content_type})")


@FUZZ
@given(data=st.data())
def test_public_form_answers_mutated_submissions_without_500_or_change(
    world: World, session: Session, data: st.DataObject
) -> None:
    code = world.samples["code"]
    page = _browser(world, "citizen").get(f"/s/{code}")
    items = sorted(set(re.findall(r'name="(q_[a-z_0-9]+)"', page.get_data(as_text=True))))
    fields: list[tuple[str, str]] = [
        ("csrf_token", world.tokens["citizen"]),
        ("submission_id", data.draw(submission_ids(world.stored_keys), label="submission_id")),
        *((item, data.draw(st.sampled_from("12345"))) for item in items),
        ("comment", data.draw(st.one_of(st.just(""), JUNK_TEXT), label="comment")),
    ]
    for mutation in data.draw(
        st.lists(st.sampled_from(["drop", "duplicate", "replace", "add"]), max_size=4),
        label="mutations",
    ):
        if not fields:
            break
        index = data.draw(st.integers(0, len(fields) - 1))
        name, _value = fields[index]
        if mutation == "drop":
            del fields[index]
        elif mutation == "duplicate":
            fields.insert(index + 1, (name, data.draw(VALUES)))
        elif mutation == "replace":
            fields[index] = (name, data.draw(VALUES))
        else:
            fields.append(
                (data.draw(st.sampled_from([*items, "q_unknown", "website"])), data.draw(VALUES))
            )
    body = urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()
    response = _send(
        _browser(world, "citizen"),
        "POST",
        f"/s/{code}",
        body,
        "application/x-www-form-urlencoded",
    )
    what = f"POST /s/{code} {fields!r}"[:2000]
    _judge(world, session, response, what)
    if response.status_code == 302:
        assert response.headers["Location"].endswith(f"/s/{code}/thanks"), what


EDGE_INTEGERS = ("0", str(2**31), str(2**63), str(10**20))
EDGE_TEXT = ("%00", "%FF%FE", "a" * 2000, "%C3%A4%E2%80%AE")


@pytest.mark.parametrize(("endpoint", "path"), _routes(), ids=lambda value: value)
def test_every_route_answers_edge_path_values_without_500(
    world: World, session: Session, endpoint: str, path: str
) -> None:
    """Each path argument in turn at its edges (the others valid), by every method, signed in."""
    (rule,) = (
        rule
        for rule in world.app.url_map.iter_rules()
        if (rule.endpoint, rule.rule) == (endpoint, path)
    )
    valid = {name: quote(str(world.samples.get(name, "x")), safe="") for name in rule.arguments}
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    body = urlencode({"csrf_token": world.tokens["admin"]}).encode()
    for argument in sorted(rule.arguments):
        converter = type(rule._converters[argument]).__name__
        edges = EDGE_INTEGERS if converter == "IntegerConverter" else EDGE_TEXT
        for edge in edges:
            url = _path(rule, {**valid, argument: edge})
            for method in methods:
                sent = body if method == "POST" else None
                content_type = "application/x-www-form-urlencoded" if sent else None
                response = _send(_browser(world, "admin"), method, url, sent, content_type)
                _judge(world, session, response, f"admin {method} {url[:120]}")
