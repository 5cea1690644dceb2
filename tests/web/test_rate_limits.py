"""Rate limits on the public form (per address, per service point) and on sign-in.

The Redis test proves that two app instances (as two gunicorn workers or two servers would be)
share one limit. It uses ``TEST_REDIS_URL`` (scripts/test.sh starts Debian's ``redis-server`` on
loopback and sets it), else starts ``redis-server`` itself when installed, else skips (and fails
when ``REQUIRE_REDIS`` is set).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from survey import create_app
from tests.factories import SmallProvince

MADE: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while MADE:
        MADE.pop().extensions["survey.engine"].dispose()


def _app(database_url: str, **settings: Any) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_KEY_PREFIX": "test-" + uuid.uuid4().hex,
            "RATELIMIT_FORM_PER_ADDRESS": "100 per minute",
            "RATELIMIT_FORM_PER_POINT": "100 per minute",
            "RATELIMIT_SIGN_IN_PER_ADDRESS": "100 per minute",
            **settings,
        }
    )
    MADE.append(app)
    return app


def _post(app: Flask, path: str, address: str = "203.0.113.7") -> int:
    client = app.test_client()
    return client.post(path, data={}, environ_base={"REMOTE_ADDR": address}).status_code


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail("redis-server is required (apt-get install redis-server)")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_public_form_is_limited_per_address_with_a_friendly_page(
    database_url: str, seeded: SmallProvince
):
    app = _app(database_url, RATELIMIT_FORM_PER_ADDRESS="3 per minute")
    path = f"/s/{seeded.counter.public_code}"
    assert [_post(app, path) for _ in range(3)] == [422, 422, 422]
    client = app.test_client()
    answer = client.post(path, data={}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert answer.status_code == 429
    page = answer.get_data(as_text=True)
    assert "Bạn gửi quá nhanh" in page and "Too many requests" in page
    assert "Retry-After" in answer.headers
    assert _post(app, path, address="198.51.100.9") == 422  # another address
    assert client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200


def _citizen(app: Flask, path: str, address: str, **changes: str) -> Any:
    """A citizen who opens the form and sends complete answers from ``address``."""
    from tests.conftest import form_fields
    from tests.web.test_public_form import ANSWERS

    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    fields = form_fields(client.get(path, environ_base=environ).get_data(as_text=True))
    return client.post(path, data={**fields, **ANSWERS, **changes}, environ_base=environ)


def test_public_form_is_limited_per_service_point(database_url: str, seeded: SmallProvince):
    app = _app(database_url, RATELIMIT_FORM_PER_POINT="2 per minute")
    counter, desk = f"/s/{seeded.counter.public_code}", f"/s/{seeded.desk.public_code}"
    assert _citizen(app, desk, "192.0.2.1").status_code == 302
    assert _citizen(app, desk, "192.0.2.2").status_code == 302
    assert _citizen(app, desk, "192.0.2.3").status_code == 429  # same point, whoever sends
    assert _post(app, counter, "192.0.2.3") == 422  # another point


def test_invalid_posts_do_not_spend_the_desks_budget(database_url: str, seeded: SmallProvince):
    """60 garbage POSTs (no CSRF token) from two addresses used to block the desk for a minute."""
    _garbage_then_a_citizen(_app(database_url, **DEFAULT_FORM_LIMITS), seeded)


def test_invalid_posts_do_not_spend_the_desks_budget_in_redis(
    database_url: str, seeded: SmallProvince, redis_url: str
):
    settings = {**DEFAULT_FORM_LIMITS, "RATELIMIT_STORAGE_URI": redis_url}
    _garbage_then_a_citizen(_app(database_url, **settings), seeded)


DEFAULT_FORM_LIMITS = {
    "RATELIMIT_FORM_PER_ADDRESS": "30 per minute; 300 per hour",
    "RATELIMIT_FORM_PER_POINT": "60 per minute",
}


def _garbage_then_a_citizen(app: Flask, seeded: SmallProvince) -> None:
    path = f"/s/{seeded.desk.public_code}"
    garbage = [_post(app, path, address) for address in ("203.0.113.1", "203.0.113.2") * 30]
    assert garbage == [422] * 60
    assert _citizen(app, path, "198.51.100.20").status_code == 302  # the genuine citizen
    assert _post(app, path, "203.0.113.1") == 429  # garbage still counts for its address


def test_a_full_desk_keeps_the_citizens_answers_and_asks_to_send_again(
    database_url: str, seeded: SmallProvince
):
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session as OrmSession

    from survey.storage.models import Response

    app = _app(database_url, RATELIMIT_FORM_PER_POINT="2 per minute")
    path = f"/s/{seeded.desk.public_code}"
    assert [_citizen(app, path, f"192.0.2.{n}").status_code for n in (1, 2)] == [302, 302]
    client = app.test_client()
    environ = {"REMOTE_ADDR": "192.0.2.3"}
    from tests.conftest import form_fields
    from tests.web.test_public_form import ANSWERS

    for language, message in (
        ("vi", "vui lòng đợi một phút rồi bấm Gửi lại"),
        ("en", "please wait a minute, then press Send again"),
    ):
        page = client.get(f"{path}?lang={language}", environ_base=environ)
        fields = form_fields(page.get_data(as_text=True))
        data = {**fields, **ANSWERS, "comment": "Giữ lại ý kiến này"}
        refused = client.post(path, data=data, environ_base=environ)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        html = refused.get_data(as_text=True)
        assert message in html
        assert re.search(r'id="q_access-4"[^>]*checked|checked id="q_access-4"', html)
        assert "Giữ lại ý kiến này</textarea>" in html
        assert form_fields(html)["submission_id"] == fields["submission_id"]
    with OrmSession(app.extensions["survey.engine"]) as session:
        assert session.scalar(select(func.count(Response.id))) == 2


def test_sign_in_is_limited_per_address(database_url: str):
    """Counted where the password is checked: a POST without a valid CSRF token stops earlier."""
    app = _app(database_url, RATELIMIT_SIGN_IN_PER_ADDRESS="2 per minute")
    client = app.test_client()
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    data = {"csrf_token": token.group(1), "username": "chief", "password": "wrong password"}
    statuses = [client.post("/admin/sign-in", data=data).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert client.get("/admin/sign-in").status_code == 200


def test_kiosk_submissions_are_limited_per_token_with_a_json_429(
    database_url: str, seeded: SmallProvince
):
    """A stolen token floods no more than the limit; a tablet's queue gets a Retry-After."""
    from sqlalchemy.orm import Session as OrmSession

    from survey.services.kiosks import pair_kiosk, register_kiosk
    from survey.services.questionnaires import open_service_point

    app = _app(database_url, RATELIMIT_KIOSK_PER_TOKEN="3 per minute")
    with OrmSession(app.extensions["survey.engine"]) as session:
        tokens = []
        for label in ("Quầy 1", "Quầy 2"):
            pairing = register_kiosk(
                session, service_point_id=seeded.desk.id, label=label, user_id=None
            )
            tokens.append(pair_kiosk(session, pairing.code).token)
            session.commit()
        _point, questionnaire = open_service_point(session, seeded.desk.public_code)
        answers = {item.code: 4 for item in questionnaire.items}
    client = app.test_client()

    def send(token: str) -> Any:
        payload = {"client_id": uuid.uuid4().hex, "answers": answers, "language": "vi"}
        return client.post(
            "/kiosk/api/responses", json=payload, headers={"Authorization": f"Bearer {token}"}
        )

    assert [send(tokens[0]).status_code for _ in range(3)] == [201, 201, 201]
    refused = send(tokens[0])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    error = refused.get_json()["error"]
    assert "Bạn gửi quá nhanh" in error["message_vi"] and "Too many" in error["message_en"]
    assert send(tokens[1]).status_code == 201  # another tablet of the same desk
    refused_pairs = [
        client.post("/kiosk/api/pair", json={"code": "AAAAA-AAAAA"}).status_code for _ in range(12)
    ]
    assert refused_pairs[:10] == [404] * 10 and refused_pairs[-1] == 429


def test_limits_are_off_under_testing_unless_asked(app: Flask, seeded: SmallProvince):
    assert app.config["RATELIMIT_ENABLED"] is False
    assert "survey.limiter" not in app.extensions


def test_memory_storage_keeps_counters_per_process(database_url: str, seeded: SmallProvince):
    """The documented caveat of the default: each process (worker) counts on its own."""
    first = _app(database_url, RATELIMIT_FORM_PER_ADDRESS="2 per minute")
    second = _app(database_url, RATELIMIT_FORM_PER_ADDRESS="2 per minute")
    path = f"/s/{seeded.counter.public_code}"
    assert [_post(first, path) for _ in range(2)] == [422, 422]
    assert _post(second, path) == 422


def test_two_app_instances_share_the_limit_through_redis(
    database_url: str, seeded: SmallProvince, redis_url: str
):
    prefix = "test-" + uuid.uuid4().hex
    settings = {
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_FORM_PER_ADDRESS": "3 per minute",
    }
    first, second = _app(database_url, **settings), _app(database_url, **settings)
    path = f"/s/{seeded.counter.public_code}"
    assert [_post(first, path), _post(second, path), _post(first, path)] == [422, 422, 422]
    assert _post(second, path) == 429
    assert _post(first, path) == 429


def test_a_missing_redis_does_not_turn_citizens_away(database_url: str, seeded: SmallProvince):
    app = _app(database_url, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_free_port()}")
    assert _post(app, f"/s/{seeded.counter.public_code}") == 422


def test_guessing_dossier_links_is_limited_per_address(database_url: str, seeded: SmallProvince):
    app = _app(database_url, RATELIMIT_FORM_PER_ADDRESS="3 per minute")
    client = app.test_client()
    guesses = [
        client.get(f"/d/forged-token-{i:04d}", environ_base={"REMOTE_ADDR": "203.0.113.8"})
        for i in range(4)
    ]
    assert [g.status_code for g in guesses[:3]] == [404, 404, 404]
    assert guesses[3].status_code == 429 and "Too many requests" in guesses[3].get_data(True)
    other = client.get("/d/forged-token-9999", environ_base={"REMOTE_ADDR": "198.51.100.10"})
    assert other.status_code == 404
    # Rating the handling of a complaint through a link: limited the same way once past CSRF.
    app.config["WTF_CSRF_ENABLED"] = False
    handling = [_post(app, "/d/forged-token-0000/handling", "192.0.2.4") for _ in range(4)]
    assert handling[-1] == 429 and 429 not in handling[:3]
