"""A new province sets itself up in a real browser: from an empty platform to an answer on the
dashboard — agencies, a service point, its QR code, volumes uploaded with the progress bar, a
citizen's answer through the QR's address, the dashboard count."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from survey.services.accounts import create_user
from survey.services.questionnaires import seed_questionnaires
from survey.storage import queries
from tests.browser.conftest import DESKTOP
from tests.browser.test_public_form import choose

USERNAME = "so-noi-vu"
PASSWORD = "a-long-password-321"


@pytest.fixture
def empty_platform(app: Flask, session: Session) -> Iterator[str]:
    """The app on loopback with questionnaires and one administrator, and nothing else."""
    seed_questionnaires(session)
    create_user(session, USERNAME, PASSWORD)
    session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_province_from_nothing_to_an_answer_on_the_dashboard(
    empty_platform: str,
    session: Session,
    new_context: Callable[..., Any],
    screenshot: Callable[[Any, str], Path],
    tmp_path: Path,
) -> None:
    url = empty_platform
    page = new_context(**DESKTOP, is_mobile=False, has_touch=False).new_page()
    page.goto(f"{url}/admin/sign-in")
    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/admin/")

    page.get_by_role("link", name="Thiết lập của tỉnh").click()
    page.get_by_role("link", name="Cơ quan và điểm phục vụ").first.click()
    expect(page.locator(".tree")).to_contain_text("Chưa có cơ quan nào")

    def add_agency(code: str, name: str, parent: str | None, level: str) -> None:
        page.goto(f"{url}/admin/setup/agencies")
        page.get_by_label("Mã").fill(code)
        page.get_by_label("Tên (tiếng Việt)").fill(name)
        if parent:
            page.get_by_label("Trực thuộc").select_option(parent)
        page.get_by_label("Cấp", exact=True).select_option(level)
        page.get_by_label("Hoạt động từ ngày").fill("2025-07-01")
        page.get_by_role("button", name="Thêm cơ quan").click()
        expect(page.get_by_role("status").first).to_contain_text("Đã thêm cơ quan")

    add_agency("T", "Tỉnh Thử", None, "province")
    add_agency("T-MT", "Phường Mường Thanh", "T", "commune")

    # A bad code gets a clear message and adds nothing.
    page.goto(f"{url}/admin/setup/agencies")
    page.get_by_label("Mã").fill("=T 2")
    page.get_by_label("Tên (tiếng Việt)").fill("Sai")
    page.get_by_label("Hoạt động từ ngày").fill("2025-07-01")
    page.get_by_role("button", name="Thêm cơ quan").click()
    expect(page.locator("body")).to_contain_text("công thức")
    expect(page.locator(".tree li")).to_have_count(2)
    expect(page.locator(".tree li.depth-1")).to_contain_text("Phường Mường Thanh")
    screenshot(page, "tree")

    page.get_by_role("link", name="Phường Mường Thanh").click()
    page.locator("#point-code").fill("MT-1")
    page.locator("#point-name_vi").fill("Bộ phận một cửa phường")
    page.get_by_role("button", name="Thêm điểm phục vụ").click()
    expect(page.get_by_role("status").first).to_contain_text("Đã thêm điểm phục vụ")
    png = page.get_by_role("link", name="PNG")
    qr = page.request.get(url + png.get_attribute("href"))
    assert qr.status == 200 and qr.headers["content-type"] == "image/png"
    poster = page.request.get(
        url + page.get_by_role("link", name="In áp phích mã QR").get_attribute("href")
    )
    assert poster.status == 200 and poster.body()[:4] == b"%PDF"
    screenshot(page, "agency")

    # Volumes: the file goes up with the progress bar, and the report replaces the page.
    volumes = tmp_path / "volumes.csv"
    volumes.write_text("service_point_code,month,citizens_served\nMT-1,2025-08,240\n")
    page.goto(f"{url}/admin/setup/volumes?period=2025-Q3")
    expect(page.locator(".notice")).to_contain_text("thiếu số lượt phục vụ")
    screenshot(page, "volumes")
    page.locator("form.upload input[type=file]").set_input_files(str(volumes))
    page.get_by_role("button", name="Nhập số lượt phục vụ").click()
    expect(page.locator("h1")).to_contain_text("Số lượt phục vụ")
    expect(page.locator("body")).to_contain_text("Thêm mới: 1 volume")

    # A citizen answers through the point's address.
    point = queries.service_points_by_code(session)["MT-1"]
    citizen = new_context().new_page()
    citizen.goto(f"{url}/s/{point.public_code}")
    expect(citizen.locator("body")).to_contain_text("Bộ phận một cửa phường")
    count = citizen.locator("fieldset.question").count()
    choose(citizen, ["5"] * count)
    citizen.get_by_role("button", name="Gửi").tap()
    expect(citizen.get_by_role("heading", level=1)).to_contain_text("Xin cảm ơn")

    page.goto(f"{url}/admin/")
    expect(page.locator("body")).to_contain_text("Phường Mường Thanh")
    assert queries.count_responses(session) == 1
    screenshot(page, "dashboard")
