"""The officials' side in a real browser: sign in, dashboard, agency page, QR posters PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from tests.browser.conftest import DESKTOP, LiveServer

USERNAME = "officer"
PASSWORD = "a-long-password-123"


def store_response(session: Session, code: str, key: str) -> None:
    point, questionnaire = open_service_point(session, code)
    answers: dict[str, int | None] = {item.code: 4 for item in questionnaire.items}
    submit_response(
        session,
        point=point,
        questionnaire=questionnaire,
        answers=answers,
        idempotency_key=key,
        channel="qr",
        comment="Rất hài lòng",
    )


def test_sign_in_dashboard_agency_and_posters(
    app: Flask,
    session: Session,
    live_server: LiveServer,
    new_context: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    province = live_server.province
    create_user(session, USERNAME, PASSWORD)
    store_response(session, province.desk.public_code, "browser-admin-response-1")
    store_response(session, province.desk.public_code, "browser-admin-response-2")
    session.commit()

    page = new_context(**DESKTOP, is_mobile=False, has_touch=False).new_page()
    # The dashboard needs a signed-in official.
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_url("**/admin/sign-in**")

    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill("not-the-password")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_be_visible()

    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    expect(page.locator("#total")).to_have_text("2")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Số phiếu đã nhận")
    agency_link = page.get_by_role("link", name=province.department.name_vi)
    expect(agency_link).to_be_visible()
    expect(page.locator("body")).to_contain_text("Rất hài lòng")
    screenshot(page, "dashboard")

    agency_link.click()
    page.wait_for_url(f"**/admin/agencies/{province.department.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(province.department.name_vi)
    expect(page.locator("body")).to_contain_text(province.desk.name_vi)
    screenshot(page, "agency")

    posters = page.get_by_role("link", name="In áp phích mã QR (PDF khổ A4)")
    href = posters.get_attribute("href")
    assert href is not None
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    # Without the session cookie, the PDF is not served.
    anonymous = new_context(**DESKTOP, is_mobile=False, has_touch=False)
    refused = anonymous.request.get(f"{live_server.url}{href}", max_redirects=0)
    assert refused.status == 302
    assert "/admin/sign-in" in refused.headers["location"]
