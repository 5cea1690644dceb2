"""The dossier loop in a real browser: an official imports dossiers and prints a slip, a citizen
scans its QR and rates, a second rating is refused kindly, the low rating's complaint is closed by
the official and its handling rated by the citizen, and the 766 figures show the reconciliation
sentence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.storage.models import Complaint, DossierRating, Response
from tests.browser.conftest import DESKTOP, LiveServer
from tests.qr_decode import decode_png

USERNAME = "motcua"
PASSWORD = "a-long-password-456"
VN = dt.timezone(dt.timedelta(hours=7))
HEADER = "dossier_code,service_point_code,procedure,received_at,due_at,returned_at,status,clerk_id"


def dossier_file(folder: Path, point_code: str) -> tuple[Path, str]:
    received = dt.datetime.now(VN).replace(microsecond=0) - dt.timedelta(days=3)
    code = f"H40.123.45-{received:%y%m%d}-010042"
    lines = [
        HEADER,
        ",".join(
            [
                code,
                point_code,
                "Đăng ký khai sinh",
                received.isoformat(),
                (received + dt.timedelta(days=3)).isoformat(),
                (received + dt.timedelta(days=2)).isoformat(),
                "đã trả kết quả",
                "CB042",
            ]
        ),
        ",".join(
            [
                f"H40.123.45-{received:%y%m%d}-010043",
                point_code,
                "Chứng thực bản sao",
                received.isoformat(),
                (received + dt.timedelta(days=5)).isoformat(),  # not yet due
                "",
                "đang xử lý",
                "CB042",
            ]
        ),
    ]
    path = folder / "dossiers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, code


def rate_all(page: Page, overall: str) -> None:
    questions = page.locator("fieldset.question")
    for index in range(questions.count()):
        questions.nth(index).locator("label.choice-4").tap()
    page.locator(f'label.choice-{overall}:has(input[name="q_overall"])').tap()
    expect(page.locator(f'input[name="q_overall"][value="{overall}"]')).to_be_checked()


def test_import_slip_scan_rate_refuse_complaint_close_and_official_figures(
    session: Session,
    live_server: LiveServer,
    new_context: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
    tmp_path: Path,
) -> None:
    province = live_server.province
    create_user(session, USERNAME, PASSWORD)
    session.commit()
    official = new_context(**DESKTOP, is_mobile=False, has_touch=False).new_page()
    official.goto(f"{live_server.url}/admin/sign-in")
    official.get_by_label("Tên đăng nhập").fill(USERNAME)
    official.get_by_label("Mật khẩu").fill(PASSWORD)
    official.get_by_role("button", name="Đăng nhập").click()
    official.wait_for_url(f"{live_server.url}/admin/")

    # 1. Import the one-stop system's export.
    path, code = dossier_file(tmp_path, province.desk.public_code)
    official.goto(f"{live_server.url}/admin/dossiers/import")
    official.get_by_label("Tệp (CSV hoặc Excel .xlsx)").set_input_files(str(path))
    official.get_by_role("button", name="Nhập", exact=True).click()
    expect(official.get_by_role("status")).to_contain_text("Đã nhập 2 dòng")
    screenshot(official, "imported")

    # 2. Find the dossier and print its slip.
    official.goto(f"{live_server.url}/admin/dossiers/")
    official.get_by_label("Mã hồ sơ").fill(code.lower())
    official.get_by_role("button", name="Tìm").click()
    expect(official.get_by_role("heading", level=1)).to_contain_text(code)
    slip = official.get_by_role("link", name="Phiếu khổ A6 (PDF)")
    pdf = official.request.get(f"{live_server.url}{slip.get_attribute('href')}")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    png = official.request.get(official.url + "/slip.png")
    [link] = decode_png(png.body())
    assert link.startswith("http://127.0.0.1") is False  # PUBLIC_BASE_URL, not the test server
    token = link.rsplit("/d/", 1)[1]
    assert code not in link
    scanned = f"{live_server.url}/d/{token}"

    # 3. Two phones open the link; the first rates (low), the second is refused kindly.
    citizen = new_context().new_page()
    other = new_context().new_page()
    citizen.goto(scanned)
    other.goto(scanned)
    expect(citizen.get_by_role("heading", level=1)).to_contain_text(
        "Đánh giá việc giải quyết hồ sơ"
    )
    rate_all(citizen, "1")
    citizen.get_by_label("Ông/Bà có góp ý gì thêm không?", exact=False).fill(
        "Hẹn trả mà phải chờ lâu, số tôi 0912 345 678"
    )
    screenshot(citizen, "rating")
    citizen.get_by_role("button", name="Gửi").tap()
    citizen.wait_for_url(f"**/d/{token}/thanks")
    expect(citizen.get_by_role("status")).to_contain_text("Chúng tôi đã chuyển phản ánh")
    rate_all(other, "5")
    other.get_by_role("button", name="Gửi").tap()
    expect(other.get_by_role("heading", level=1)).to_have_text(
        "Hồ sơ này đã được đánh giá. Cảm ơn Ông/Bà!"
    )
    screenshot(other, "refused")
    assert len(session.scalars(select(Response)).all()) == 1
    assert session.scalars(select(DossierRating.overall)).all() == [1]

    # 4. The complaint opened by the low rating is handled and closed.
    official.goto(f"{live_server.url}/admin/dossiers/complaints")
    case_id = session.scalars(select(Complaint.id)).one()
    official.get_by_role("link", name=f"#{case_id}").click()
    expect(official.locator("blockquote")).not_to_contain_text("0912")
    official.get_by_label("Nội dung đã xử lý").fill("Đã gọi lại, xin lỗi và trả kết quả.")
    official.get_by_role("button", name="Đóng với kết quả xử lý này").click()
    expect(official.get_by_role("status")).to_have_text("Đã lưu.")

    # 5. The citizen rates how it was handled, through the same link.
    citizen.goto(scanned)
    expect(citizen.get_by_role("status")).to_contain_text("đã được xử lý xong")
    citizen.locator("label.choice-4").tap()
    citizen.get_by_role("button", name="Gửi").tap()
    expect(citizen.get_by_role("status")).to_contain_text("Cảm ơn Ông/Bà đã đánh giá việc xử lý")

    # 6. The official figures, with the sentence that reconciles them.
    official.goto(f"{live_server.url}/admin/dossiers/official")
    section = official.locator("section.official", has_text=province.department.name_vi)
    expect(section.locator(".reconcile")).to_contain_text("Tỷ lệ chính thức (50,0%)")
    expect(section.locator(".reconcile")).to_contain_text(
        "hài lòng 50,0% số hồ sơ không ai đánh giá"
    )
    expect(section).to_contain_text("Hồ sơ hài lòng (tỷ lệ chính thức)")
    screenshot(official, "official")
