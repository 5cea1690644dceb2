"""Attacks on officials' accounts, each written as the attacker would try it.

Forged session cookies, replayed cookies after sign-out, open redirects after sign-in, locking
someone else out by guessing, weak passwords and look-alike usernames; and the province
administrator's tools (disable, enable, unlock, reset a password, change a role) with their audit.
"""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from survey.services.accounts import create_user
from survey.storage.models import AuditEvent

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
    assert _sign_in(client, "chief").status_code == 302
    return client


# --- 1. the session cookie cannot be forged with a published key --------------------------


def test_a_cookie_signed_with_the_old_published_key_is_refused(app: Flask, session: Session):
    user = create_user(session, "chief", PASSWORD)
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
