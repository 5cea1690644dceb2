"""Hardening: security headers, CSRF on every state-changing route, cookies, size limits, errors,
session expiry, account pages and the retention command."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import create_app
from survey.auth import LAST_SEEN_AT, SIGNED_IN_AT, public_route
from survey.services.accounts import authenticate, create_user
from survey.storage.models import AuditEvent, Response, utc_now
from tests.factories import SmallProvince

PASSWORD = "correct horse battery"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# State-changing routes that are exempt from the session CSRF check, and why.
CSRF_EXEMPT = {
    "public.show_form": "its FlaskForm checks its own token and keeps the answers when it expired",
    "dossiers.rate": "the dossier link's form: as public.show_form",
    "kiosk.api_pair": "a tablet's JSON call with a one-time pairing code, no cookie",
    "kiosk.api_submit": "a tablet's JSON call with a bearer device token, no cookie",
}


MADE: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while MADE:
        MADE.pop().extensions["survey.engine"].dispose()


def _made(app: Flask) -> Flask:
    MADE.append(app)
    return app


def _token(html: str) -> str:
    match = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def _sign_in(client: FlaskClient, session: Session, username: str = "chief", **fields) -> None:
    if not session.info.get(username):
        create_user(session, username, PASSWORD, **fields)
        session.commit()
        session.info[username] = True
    token = _token(client.get("/admin/sign-in").get_data(as_text=True))
    answer = client.post(
        "/admin/sign-in", data={"csrf_token": token, "username": username, "password": PASSWORD}
    )
    assert answer.status_code == 302


def test_pages_carry_the_security_headers(client: FlaskClient):
    answer = client.get("/")
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")  # https base URL
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_no_hsts_when_the_site_is_served_over_plain_http(database_url: str):
    app = _made(
        create_app({"TESTING": True, "DATABASE_URL": database_url})
    )  # http://127.0.0.1:5000
    answer = app.test_client().get("/")
    assert "Strict-Transport-Security" not in answer.headers
    assert "upgrade-insecure-requests" not in answer.headers["Content-Security-Policy"]
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_templates_have_no_inline_script_or_style_attributes():
    offending = []
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle=", r"\son[a-z]+=", r"<style"):
            if re.search(pattern, html, re.IGNORECASE):
                offending.append(f"{template.relative_to(TEMPLATES)}: {pattern}")
    assert offending == [], "inline script/style would be blocked by the CSP"


def test_every_state_changing_route_needs_a_csrf_token(
    app: Flask, client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    checked = []
    for rule in app.url_map.iter_rules():
        unsafe = (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
        if not unsafe or rule.endpoint in CSRF_EXEMPT:
            continue
        values = {name: 1 for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]  # type: ignore[index]
        for method in unsafe:
            answer = client.open(url, method=method, data={"anything": "x"})
            assert answer.status_code == 400, f"{method} {url} without a token"
            assert "Phiên làm việc đã hết hạn" in answer.get_data(as_text=True)
            checked.append(rule.endpoint)
    assert {"admin.sign_in", "admin.sign_out", "admin.users", "admin.change_password"} <= set(
        checked
    )


def test_the_public_form_keeps_answers_when_its_token_is_wrong(
    client: FlaskClient, seeded: SmallProvince
):
    code = seeded.counter.public_code
    client.get(f"/s/{code}")
    answer = client.post(
        f"/s/{code}",
        data={"csrf_token": "expired", "submission_id": "a" * 22, "q_access": "4", "comment": "Ok"},
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'value="4" checked' in page or "checked" in page
    assert "Ok</textarea>" in page


def test_oversized_requests_get_the_friendly_413_page(client: FlaskClient, seeded: SmallProvince):
    code = seeded.counter.public_code
    answer = client.post(f"/s/{code}", data={"comment": "x" * (300 * 1024)})
    assert answer.status_code == 413
    assert "Dữ liệu gửi lên quá lớn" in answer.get_data(as_text=True)
    many = {f"field{i}": "1" for i in range(500)}
    answer = client.post(f"/s/{code}", data=many, content_type="multipart/form-data")
    assert answer.status_code == 413


def test_errors_never_show_a_stack_trace(database_url: str):
    app = _made(create_app({"TESTING": True, "DATABASE_URL": database_url}))

    @app.get("/boom")
    @public_route
    def boom() -> str:
        raise RuntimeError("secret internals")

    answer = app.test_client().get("/boom")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body


def test_session_cookie_is_httponly_samesite_and_secure_when_configured(
    database_url: str, session: Session
):
    app = _made(
        create_app(
            {"TESTING": True, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": "https://x.vn"}
        )
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    client = app.test_client()
    client.get("/admin/sign-in", base_url="https://x.vn")
    cookie = next(c for c in client._cookies.values() if c.key == "session")  # type: ignore[attr-defined]
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"


def test_idle_sessions_end(app: Flask, client: FlaskClient, session: Session):
    _sign_in(client, session)
    assert client.get("/admin/account/password").status_code == 200
    with client.session_transaction() as browser:
        browser[LAST_SEEN_AT] = time.time() - 31 * 60
    answer = client.get("/admin/account/password")
    assert answer.status_code == 302 and "/admin/sign-in" in answer.headers["Location"]


def test_sessions_end_after_the_maximum_lifetime(client: FlaskClient, session: Session):
    _sign_in(client, session)
    with client.session_transaction() as browser:
        browser[SIGNED_IN_AT] = time.time() - 13 * 3600
    assert client.get("/admin/account/password").status_code == 302


def test_password_change_ends_other_sessions_but_not_this_one(app: Flask, session: Session):
    mine, other = app.test_client(), app.test_client()
    _sign_in(mine, session)
    _sign_in(other, session)
    token = _token(mine.get("/admin/account/password").get_data(as_text=True))
    answer = mine.post(
        "/admin/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert answer.status_code == 302
    assert mine.get("/admin/account/password").status_code == 200
    assert other.get("/admin/account/password").status_code == 302
    assert authenticate(session, "chief", "a brand new secret") is not None
    session.commit()


def test_province_admin_creates_a_scoped_user_and_sees_it_in_the_audit_log(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    page = client.get("/admin/users?lang=en").get_data(as_text=True)
    assert "Sector administrator" in page
    answer = client.post(
        "/admin/users",
        data={
            "csrf_token": _token(page),
            "username": "hoa.nguyen",
            "password": "a long first password",
            "role": "agency_manager",
            "sector": "",
            "scope_agency_id": str(seeded.department.id),
        },
    )
    assert answer.status_code == 302
    refused = client.post(
        "/admin/users",
        data={
            "csrf_token": _token(page),
            "username": "bad",
            "password": "a long first password",
            "role": "sector_admin",
            "sector": "",
            "scope_agency_id": "",
        },
    )
    assert refused.status_code == 400
    assert "sector administrator needs a sector" in refused.get_data(as_text=True)
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "user:hoa.nguyen" in audit_page and "chief" in audit_page
    event = session.scalars(select(AuditEvent).where(AuditEvent.subject == "user:hoa.nguyen")).one()
    assert event.details["scope_agency_id"] == seeded.department.id


def test_sign_in_delay_is_shown_in_the_audit_log(client: FlaskClient, session: Session):
    """Five failures from one address delay that address (not the account: see
    tests/web/test_accounts_security.py); each attempt is audited."""
    create_user(session, "chief", PASSWORD)
    session.commit()
    token = _token(client.get("/admin/sign-in").get_data(as_text=True))
    for _ in range(5):
        client.post(
            "/admin/sign-in",
            data={"csrf_token": token, "username": "chief", "password": "nope-nope-nope"},
        )
    answer = client.post(
        "/admin/sign-in", data={"csrf_token": token, "username": "chief", "password": PASSWORD}
    )
    assert answer.status_code == 429
    failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in.failed")).all()
    assert [event.details["reason"] for event in failed] == ["wrong_password"] * 5 + ["delayed"]


def test_purge_comments_blanks_old_comments_only(
    app: Flask, session: Session, seeded: SmallProvince
):
    from survey.storage import queries

    questionnaire = queries.active_questionnaire(session, "health")
    assert questionnaire is not None
    for key, days in (("old", 400), ("new", 10)):
        session.add(
            Response(
                idempotency_key=f"retention-{key}-0123456789",
                service_point=seeded.counter,
                questionnaire=questionnaire,
                channel="qr",
                submitted_at=utc_now() - dt.timedelta(days=days),
                comment=f"comment {key}",
            )
        )
    session.commit()
    runner = app.test_cli_runner()
    assert "COMMENT_RETENTION_DAYS" in runner.invoke(args=["purge-comments"]).output
    dry = runner.invoke(args=["purge-comments", "--days", "365", "--dry-run"])
    assert "Would blank 1 comments" in dry.output
    app.config["COMMENT_RETENTION_DAYS"] = 365
    result = runner.invoke(args=["purge-comments"])
    assert result.exit_code == 0 and "Blanked 1 comments" in result.output
    session.expire_all()
    comments = {r.idempotency_key: r.comment for r in session.scalars(select(Response))}
    assert comments == {
        "retention-old-0123456789": None,
        "retention-new-0123456789": "comment new",
    }
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "comments.purged")).one()


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_users_and_audit_are_for_province_administrators_only(
    client: FlaskClient, session: Session, seeded: SmallProvince, path: str
):
    _sign_in(client, session, "health", role="sector_admin", sector="health")
    answer = client.get(path + "?lang=en")
    assert answer.status_code == 403
    assert "You are not allowed" in answer.get_data(as_text=True)


def test_a_route_without_a_declared_policy_is_refused(database_url: str):
    app = _made(create_app({"TESTING": True, "DATABASE_URL": database_url}))

    @app.get("/forgotten")
    def forgotten() -> str:
        return "secret"

    answer = app.test_client().get("/forgotten")
    assert answer.status_code == 403 and "secret" not in answer.get_data(as_text=True)
