"""Attacks on officials' accounts, each written as the attacker would try it.

Forged session cookies, replayed cookies after sign-out, open redirects after sign-in, locking
someone else out by guessing, weak passwords and look-alike usernames; and the province
administrator's tools (disable, enable, unlock, reset a password, change a role) with their audit.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from survey.services.accounts import authenticate, create_user
from survey.storage import queries
from survey.storage.models import AuditEvent
from tests.factories import SmallProvince

PASSWORD = "correct horse battery"
ATTACKER = "203.0.113.66"
GENUINE = "198.51.100.7"


def _token(html: str) -> str:
    match = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def _sign_in(
    client: FlaskClient,
    username: str,
    password: str = PASSWORD,
    *,
    address: str = GENUINE,
    query: str = "",
) -> TestResponse:
    environ = {"REMOTE_ADDR": address}
    page = client.get("/admin/sign-in", environ_base=environ).get_data(as_text=True)
    return client.post(
        "/admin/sign-in" + query,
        data={"csrf_token": _token(page), "username": username, "password": password},
        environ_base=environ,
    )


def _signed_in(client: FlaskClient) -> bool:
    answer = client.get("/admin/account/password")
    return answer.status_code == 200


def _cookie(client: FlaskClient, app: Flask) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str) -> FlaskClient:
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return thief


def _events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _post(client: FlaskClient, path: str, page: str, **fields: object) -> TestResponse:
    html = client.get(page).get_data(as_text=True)
    return client.post(path, data={"csrf_token": _token(html), **fields})


@pytest.fixture
def chief(session: Session, client: FlaskClient) -> FlaskClient:
    """A province administrator signed in on ``client``."""
    create_user(session, "chief", PASSWORD)
    session.commit()
    assert _sign_in(client, "chief").status_code == 302
    return client


# --- 1. the session cookie cannot be forged with a published key --------------------------


def test_a_cookie_signed_with_the_old_published_key_is_refused(app: Flask, session: Session):
    user = create_user(session, "chief", PASSWORD)
    session.commit()
    forger = Flask("forger")
    forger.secret_key = "development-only-testing"  # the constant the code used to sign with
    now = time.time()
    forged = (
        SecureCookieSessionInterface()
        .get_signing_serializer(forger)
        .dumps({"_user_id": str(user.id), "_fresh": True, "signed_in_at": now, "seen_at": now})
    )
    answer = _replay(app, forged).get("/admin/users")
    assert answer.status_code == 302 and "/admin/sign-in" in answer.headers["Location"]


# --- 2. signing out, a password change and disabling end every session -------------------


def test_a_cookie_copied_before_sign_out_no_longer_works(
    app: Flask, client: FlaskClient, session: Session
):
    create_user(session, "chief", PASSWORD)
    session.commit()
    assert _sign_in(client, "chief").status_code == 302
    stolen = _cookie(client, app)
    assert _signed_in(_replay(app, stolen))
    assert _post(client, "/admin/sign-out", "/admin/account/password").status_code == 302
    replayed = _replay(app, stolen).get("/admin/account/password")
    assert replayed.status_code == 302 and "/admin/sign-in" in replayed.headers["Location"]


def test_signing_out_ends_the_sessions_on_other_devices_too(app: Flask, session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    laptop, phone = app.test_client(), app.test_client()
    assert _sign_in(laptop, "chief").status_code == 302
    assert _sign_in(phone, "chief").status_code == 302
    _post(laptop, "/admin/sign-out", "/admin/account/password")
    assert not _signed_in(phone)
    assert _sign_in(phone, "chief").status_code == 302 and _signed_in(phone)


def test_a_password_change_ends_copied_sessions_but_keeps_this_one(app: Flask, session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    mine = app.test_client()
    assert _sign_in(mine, "chief").status_code == 302
    stolen = _cookie(mine, app)
    answer = _post(
        mine,
        "/admin/account/password",
        "/admin/account/password",
        current_password=PASSWORD,
        new_password="a brand new secret",
        confirm="a brand new secret",
    )
    assert answer.status_code == 302
    assert _signed_in(mine)
    assert not _signed_in(_replay(app, stolen))


def test_disabling_an_account_ends_its_sessions_for_good(
    app: Flask, chief: FlaskClient, session: Session
):
    clerk = create_user(session, "clerk", PASSWORD)
    session.commit()
    victim = app.test_client()
    assert _sign_in(victim, "clerk").status_code == 302
    stolen = _cookie(victim, app)
    assert _post(chief, "/admin/users/disable", "/admin/users", user_id=clerk.id).status_code == 302
    assert not _signed_in(_replay(app, stolen))
    assert _sign_in(app.test_client(), "clerk").status_code == 401
    assert _post(chief, "/admin/users/enable", "/admin/users", user_id=clerk.id).status_code == 302
    assert not _signed_in(_replay(app, stolen)), "re-enabling must not revive an old cookie"
    assert _sign_in(app.test_client(), "clerk").status_code == 302
    assert [e.subject for e in _events(session, "user.disabled")] == ["user:clerk"]
    assert [e.subject for e in _events(session, "user.enabled")] == ["user:clerk"]


# --- 3. no redirect to another site after sign-in ------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/phish",
        "/\\evil.example/phish",
        "/\t/evil.example/phish",
        "\t//evil.example/phish",
        "/\n/evil.example",
        " //evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "HTTPS:evil.example",
        "/\r\nSet-Cookie:x=1",
        "javascript:alert(1)",
        "/admin/\x00",
        "///evil.example",
        "",
        "admin/",
    ],
)
def test_sign_in_never_redirects_to_another_site(
    client: FlaskClient, session: Session, target: str
):
    create_user(session, "chief", PASSWORD)
    session.commit()
    answer = _sign_in(client, "chief", query="?" + urlencode({"next": target}))
    assert answer.status_code == 302
    location = answer.headers["Location"]
    browser_sees = urlsplit(urljoin("http://localhost/admin/sign-in", location))
    assert (browser_sees.scheme, browser_sees.netloc) == ("http", "localhost")
    assert location == "/admin/"


@pytest.mark.parametrize("target", ["/admin/users", "/admin/agencies?sector=health&x=1"])
def test_sign_in_goes_on_to_a_page_of_this_site(client: FlaskClient, session: Session, target: str):
    create_user(session, "chief", PASSWORD)
    session.commit()
    answer = _sign_in(client, "chief", query="?" + urlencode({"next": target}))
    assert answer.status_code == 302 and answer.headers["Location"] == target


def test_the_sign_in_page_keeps_where_the_official_was_going(client: FlaskClient, session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    sent = client.get("/admin/users?x=1")
    assert sent.status_code == 302
    answer = _sign_in(client, "chief", query="?" + urlsplit(sent.headers["Location"]).query)
    assert answer.headers["Location"] == "/admin/users?x=1"


# --- 4. sign-ins, sign-outs and account administration are in the audit log ---------------


def test_sign_ins_and_sign_outs_are_audited_without_the_password(
    client: FlaskClient, session: Session
):
    create_user(session, "chief", PASSWORD)
    session.commit()
    assert _sign_in(client, "Chief", "wrong-password-typed", address=ATTACKER).status_code == 401
    assert _sign_in(client, "nobody", "another-wrong-one", address=ATTACKER).status_code == 401
    assert _sign_in(client, "chief").status_code == 302
    _post(client, "/admin/sign-out", "/admin/account/password")
    failed = _events(session, "sign_in.failed")
    assert [e.subject for e in failed] == ["user:chief", "user:nobody"]
    assert failed[0].details["address"] == ATTACKER and failed[0].actor_id is None
    [succeeded] = _events(session, "sign_in.succeeded")
    assert succeeded.actor_name == "chief" and succeeded.details["address"] == GENUINE
    [signed_out] = _events(session, "user.signed_out")
    assert signed_out.actor_name == "chief"
    everything = json.dumps([(e.subject, e.details) for e in _events(session, "sign_in.failed")])
    assert "wrong-password-typed" not in everything and "another-wrong-one" not in everything


def test_a_hostile_username_is_shown_escaped_in_the_audit_log(
    app: Flask, chief: FlaskClient, session: Session
):
    hostile = '<script>alert("x")</script>'
    assert _sign_in(app.test_client(), hostile, "whatever-password").status_code == 401
    assert _sign_in(app.test_client(), "bad\x00name\u202e", "whatever-password").status_code == 401
    page = chief.get("/admin/audit").get_data(as_text=True)
    assert hostile not in page and "&lt;script&gt;" in page


# --- 5. create-admin works for every role ---------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "role", "sector", "agency"),
    [
        ([], "province_admin", None, None),
        (["--role", "province_admin"], "province_admin", None, None),
        (["--role", "sector_admin", "--sector", "health"], "sector_admin", "health", None),
        (["--role", "agency_manager", "--agency", "P-TP"], "agency_manager", None, "P-TP"),
        (["--role", "viewer", "--sector", "education"], "viewer", "education", None),
        (["--role", "viewer", "--agency", "P-TP"], "viewer", None, "P-TP"),
    ],
)
def test_create_admin_makes_every_role(
    runner: FlaskCliRunner,
    session: Session,
    seeded: SmallProvince,
    arguments: list[str],
    role: str,
    sector: str | None,
    agency: str | None,
):
    made = runner.invoke(args=["create-admin", "Hoa.Nguyen", *arguments, "--password", PASSWORD])
    assert made.exit_code == 0, made.output
    user = queries.user_by_username(session, "hoa.nguyen")
    assert user is not None
    assert (user.role, user.sector) == (role, sector)
    assert (user.scope_agency.code if user.scope_agency else None) == agency
    assert authenticate(session, "hoa.nguyen", PASSWORD, address=GENUINE) is not None
    session.commit()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "sector_admin"], "needs a sector"),
        (["--role", "sector_admin", "--agency", "P-TP"], "needs a sector"),
        (["--role", "agency_manager"], "needs an agency"),
        (["--role", "agency_manager", "--agency", "NO-SUCH"], "No agency has the code"),
        (["--role", "viewer"], "either a sector or an agency"),
        (["--role", "viewer", "--sector", "health", "--agency", "P-TP"], "not both"),
        (["--role", "province_admin", "--sector", "health"], "no sector or agency"),
        (["--role", "sector_admin", "--sector", "police"], "police"),
        (["--role", "mayor"], "mayor"),
    ],
)
def test_create_admin_explains_a_missing_or_wrong_scope(
    runner: FlaskCliRunner,
    session: Session,
    seeded: SmallProvince,
    arguments: list[str],
    message: str,
):
    refused = runner.invoke(args=["create-admin", "someone", *arguments, "--password", PASSWORD])
    assert refused.exit_code != 0
    assert message in refused.output and "Traceback" not in refused.output
    assert queries.user_by_username(session, "someone") is None


# --- 6. locking someone out, weak passwords, look-alike usernames ---------------------------


def test_an_attacker_cannot_lock_the_real_user_out(app: Flask, session: Session):
    create_user(session, "chief", PASSWORD)
    session.commit()
    attacker = app.test_client()
    statuses = [
        _sign_in(attacker, "chief", f"guess-number-{n}", address=ATTACKER).status_code
        for n in range(20)
    ]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    real_user = app.test_client()
    assert _sign_in(real_user, "chief", address=GENUINE).status_code == 302
    assert _signed_in(real_user)
    # The attacker's address waits, even with the right password.
    delayed = _sign_in(attacker, "chief", PASSWORD, address=ATTACKER)
    assert delayed.status_code == 429 and "Retry-After" in delayed.headers
    page = delayed.get_data(as_text=True)
    assert "Vui lòng thử lại sau" in page or "thử lại" in page
    english = attacker.post(
        "/admin/sign-in?lang=en",
        data={
            "csrf_token": _token(attacker.get("/admin/sign-in?lang=en").get_data(as_text=True)),
            "username": "chief",
            "password": PASSWORD,
        },
        environ_base={"REMOTE_ADDR": ATTACKER},
    )
    assert english.status_code == 429 and "try again" in english.get_data(as_text=True)


def test_the_administrator_can_lift_the_delay_of_an_address(
    app: Flask, chief: FlaskClient, session: Session
):
    clerk = create_user(session, "clerk", PASSWORD)
    session.commit()
    for n in range(6):
        _sign_in(app.test_client(), "clerk", f"mistyped-{n}", address=ATTACKER)
    assert _sign_in(app.test_client(), "clerk", address=ATTACKER).status_code == 429
    users = chief.get("/admin/users?lang=en").get_data(as_text=True)
    assert "Sign-in delayed" in users
    assert _post(chief, "/admin/users/unlock", "/admin/users", user_id=clerk.id).status_code == 302
    assert _sign_in(app.test_client(), "clerk", address=ATTACKER).status_code == 302
    assert [e.subject for e in _events(session, "user.unlocked")] == ["user:clerk"]


@pytest.mark.parametrize(
    "weak",
    [
        "Tr0ub4dor&3",  # 11 characters
        "password1234",
        "iloveyou2024",
        "qwertyuiop123",
        "aaaaaaaaaaaa",
        "123456789012",
        "abcdefghijkl",
        "xx-chief-xx-2024-long",  # contains the username
    ],
)
def test_weak_new_passwords_are_refused_with_a_message(
    chief: FlaskClient, session: Session, weak: str
):
    answer = _post(
        chief,
        "/admin/account/password?lang=en",
        "/admin/account/password",
        current_password=PASSWORD,
        new_password=weak,
        confirm=weak,
    )
    assert answer.status_code == 400
    assert 'class="error"' in answer.get_data(as_text=True)
    assert authenticate(session, "chief", PASSWORD, address=GENUINE) is not None
    session.commit()


def test_usernames_differing_only_in_case_are_one_account(
    chief: FlaskClient, session: Session, app: Flask
):
    page = "/admin/users?lang=en"
    made = _post(chief, "/admin/users", page, username="Hoa", password=PASSWORD, role="viewer")
    assert made.status_code == 400  # a viewer needs a scope: nothing made
    fields = {"password": PASSWORD, "role": "province_admin", "sector": "", "scope_agency_id": ""}
    assert _post(chief, "/admin/users", page, username="Hoa", **fields).status_code == 302
    again = _post(chief, "/admin/users?lang=en", page, username="hoa", **fields)
    assert again.status_code == 400 and "already exists" in again.get_data(as_text=True)
    assert _sign_in(app.test_client(), "HOA").status_code == 302
    assert [u.username for u in queries.all_users(session)] == ["chief", "hoa"]


@pytest.mark.parametrize(
    "username", ["<b>boss</b>", "a\"onmouseover='x'", "hoa nguyen", "ab", "x" * 41, "hòa"]
)
def test_usernames_outside_the_safe_characters_are_refused(
    chief: FlaskClient, session: Session, username: str
):
    fields = {"password": PASSWORD, "role": "province_admin", "sector": "", "scope_agency_id": ""}
    answer = _post(chief, "/admin/users?lang=en", "/admin/users", username=username, **fields)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "letters, digits" in page and "<b>boss</b>" not in page
    assert [u.username for u in queries.all_users(session)] == ["chief"]


# --- 6. the province administrator's tools --------------------------------------------------


def test_reset_password_shows_a_temporary_one_once_and_the_user_must_change_it(
    app: Flask, chief: FlaskClient, session: Session
):
    clerk = create_user(session, "clerk", PASSWORD)
    session.commit()
    victim = app.test_client()
    assert _sign_in(victim, "clerk").status_code == 302
    answer = _post(chief, "/admin/users/reset-password?lang=en", "/admin/users", user_id=clerk.id)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    match = re.search(r'<output id="temporary-password">([^<]+)</output>', page)
    assert match, "the temporary password is shown"
    temporary = match.group(1)
    assert temporary not in chief.get("/admin/users").get_data(as_text=True)  # shown once
    assert not _signed_in(victim)
    assert _sign_in(app.test_client(), "clerk", PASSWORD).status_code == 401
    fresh = app.test_client()
    assert _sign_in(fresh, "clerk", temporary).status_code == 302
    sent_to = fresh.get("/admin/")
    assert sent_to.status_code == 302 and sent_to.headers["Location"].endswith(
        "/admin/account/password"
    )
    changed = _post(
        fresh,
        "/admin/account/password",
        "/admin/account/password",
        current_password=temporary,
        new_password="my own new passphrase",
        confirm="my own new passphrase",
    )
    assert changed.status_code == 302
    assert fresh.get("/admin/").status_code == 200
    [event] = _events(session, "password.reset")
    assert event.subject == "user:clerk" and temporary not in json.dumps(event.details)


def test_reset_password_with_a_typed_password_follows_the_policy(
    chief: FlaskClient, session: Session
):
    clerk = create_user(session, "clerk", PASSWORD)
    session.commit()
    weak = _post(
        chief,
        "/admin/users/reset-password?lang=en",
        "/admin/users",
        user_id=clerk.id,
        new_password="password1234",
    )
    assert weak.status_code == 400 and 'class="error"' in weak.get_data(as_text=True)
    typed = _post(
        chief,
        "/admin/users/reset-password",
        "/admin/users",
        user_id=clerk.id,
        new_password="typed by the chief today",
    )
    assert typed.status_code in (200, 302)
    session.expire_all()
    assert authenticate(session, "clerk", "typed by the chief today", address=GENUINE)
    session.commit()


def test_changing_a_role_and_scope_is_audited_and_ends_the_sessions(
    app: Flask, chief: FlaskClient, session: Session, seeded: SmallProvince
):
    deputy = create_user(session, "deputy", PASSWORD)
    session.commit()
    victim = app.test_client()
    assert _sign_in(victim, "deputy").status_code == 302
    answer = _post(
        chief,
        "/admin/users/role",
        "/admin/users",
        user_id=deputy.id,
        role="agency_manager",
        sector="",
        scope_agency_id=str(seeded.department.id),
    )
    assert answer.status_code == 302
    assert not _signed_in(victim)
    session.expire_all()
    changed = queries.user_by_id(session, deputy.id)
    assert changed is not None
    assert (changed.role, changed.scope_agency_id) == ("agency_manager", seeded.department.id)
    [event] = _events(session, "user.role_changed")
    assert event.details["before"]["role"] == "province_admin"
    assert event.details["after"]["scope_agency_id"] == seeded.department.id
    refused = _post(
        chief,
        "/admin/users/role?lang=en",
        "/admin/users",
        user_id=deputy.id,
        role="sector_admin",
        sector="",
        scope_agency_id="",
    )
    assert refused.status_code == 400 and "needs a sector" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/admin/users/disable", {}),
        ("/admin/users/role", {"role": "viewer", "sector": "health", "scope_agency_id": ""}),
    ],
)
def test_the_last_province_administrator_cannot_lock_the_province_out(
    chief: FlaskClient, session: Session, path: str, fields: dict[str, str]
):
    me = queries.user_by_username(session, "chief")
    assert me is not None
    answer = _post(chief, path + "?lang=en", "/admin/users", user_id=me.id, **fields)
    assert answer.status_code == 400
    assert "last province administrator" in answer.get_data(as_text=True)
    vietnamese = _post(chief, path + "?lang=vi", "/admin/users", user_id=me.id, **fields)
    assert "quản trị cấp tỉnh cuối cùng" in vietnamese.get_data(as_text=True)
    assert _signed_in(chief)
    session.expire_all()
    still = queries.user_by_id(session, me.id)
    assert still is not None and still.active and still.role == "province_admin"


def test_account_actions_name_an_existing_user(chief: FlaskClient):
    for path in ("/admin/users/disable", "/admin/users/unlock", "/admin/users/reset-password"):
        for user_id in ("999999", "0", "-1", str(2**63), "x"):
            answer = _post(chief, path, "/admin/users", user_id=user_id)
            assert answer.status_code in (400, 404), (path, user_id)
