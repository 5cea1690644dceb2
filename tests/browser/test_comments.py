"""The comments inbox in a real browser: filters, marking as read, the topic table; axe finds no
serious or critical accessibility violation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from tests.browser.conftest import DESKTOP, LiveServer

USERNAME = "chief.comments"
PASSWORD = "a-long-password-123"
COMMENTS = (
    "Cán bộ tiếp dân rất nhiệt tình nhưng thời gian chờ đợi quá lâu",
    "Nhà vệ sinh bẩn, không có nước",
    "Phải bồi dưỡng thì hồ sơ mới được giải quyết nhanh",
    "cong dich vu cong loi hoai, khong nop duoc",
)


def test_inbox_mark_read_and_accessibility(
    session: Session,
    live_server: LiveServer,
    new_context: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    point = live_server.province.desk
    for i, text in enumerate(COMMENTS):
        found, questionnaire = open_service_point(session, point.public_code)
        submit_response(
            session,
            point=found,
            questionnaire=questionnaire,
            answers={item.code: 3 for item in questionnaire.items},
            idempotency_key=f"browser-comment-{i:04d}-abcdef",
            channel="qr",
            comment=text,
            submitted_at=dt.datetime(2025, 2 + 3 * i, 5, 3, tzinfo=dt.UTC),
        )
    create_user(session, USERNAME, PASSWORD)
    session.commit()

    page = new_context(**DESKTOP, is_mobile=False, has_touch=False).new_page()
    page.goto(f"{live_server.url}/admin/comments")
    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/admin/comments")
    expect(page.locator("#total")).to_contain_text("4 ý kiến, 4 chưa đọc")
    table = page.locator("#topic-counts")
    expect(table.get_by_role("row", name="Thời gian chờ đợi")).to_contain_text("1")
    expect(table.get_by_role("img", name="Cơ sở vật chất", exact=False)).to_have_count(1)
    screenshot(page, "inbox")

    page.get_by_label("Chủ đề", exact=True).select_option("online")
    page.get_by_role("button", name="Xem").click()
    expect(page.locator("#comment-list li")).to_have_count(1)
    page.locator("#comment-list input[type=checkbox]").check()
    page.get_by_role("button", name="Đánh dấu các ý kiến đã chọn là đã đọc").click()
    expect(page.get_by_role("status")).to_contain_text("Đã đánh dấu 1 ý kiến là đã đọc")
    expect(page.locator("#comment-list li.read")).to_have_count(1)  # back on the same filters

    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not blocking, [(v["id"], v["help"]) for v in blocking]
