"""The filed report in a real browser: the form that prepares it, its messages, and the PDF (read
back and rendered to PNG, first page looked at) and Word document it downloads."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.demo import load_demo_province
from tests.browser.conftest import DESKTOP, SCREENSHOTS, LiveServer

USERNAME = "filing-officer"
PASSWORD = "a-long-password-789"


@pytest.fixture
def signed_in(session: Session, live_server: LiveServer, new_context: Callable[..., Any]) -> Any:
    load_demo_province(session)
    create_user(session, USERNAME, PASSWORD)
    session.commit()
    context = new_context(**DESKTOP, is_mobile=False, has_touch=False, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/sign-in")
    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/admin/")
    page.set_default_timeout(60_000)  # the report of a year of the demo takes a while
    return page


def _fill(page: Any) -> None:
    page.get_by_label("Cơ quan chủ quản").fill("UBND TỈNH ĐIỆN BIÊN")
    page.get_by_label("Cơ quan ban hành").fill("SỞ NỘI VỤ")
    page.get_by_label("Số (để trống").fill("42")
    page.get_by_label("Ký hiệu").fill("BC-SNV")
    page.get_by_label("Địa danh").fill("Điện Biên")
    page.get_by_label("Ngày").fill("2026-12-05")
    page.get_by_label("Quyền hạn ký").fill("KT. GIÁM ĐỐC")
    page.get_by_label("Chức vụ người ký").fill("PHÓ GIÁM ĐỐC")


def test_an_official_prepares_and_downloads_the_filed_report(
    signed_in: Any,
    live_server: LiveServer,
    tmp_path: Path,
    screenshot: Callable[[Any, str], Path],
) -> None:
    page = signed_in
    page.goto(f"{live_server.url}/reports/sector/administrative?period=2025")
    page.locator("#file-link").click()
    expect(page.locator("h1")).to_have_text("Chuẩn bị báo cáo để ban hành")
    _fill(page)
    page.get_by_label("Họ và tên người ký").fill("")
    page.locator("#file-submit").click()  # no signer: refused with a message, nothing lost
    expect(page.locator("#form-errors")).to_contain_text("Họ và tên người ký")
    expect(page.locator("#signer_name-error")).to_have_text("Vui lòng điền mục này.")
    expect(page.get_by_label("Cơ quan ban hành")).to_have_value("SỞ NỘI VỤ")
    screenshot(page, "form-with-error")
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []

    page.get_by_label("Họ và tên người ký").fill("Nguyễn Văn An")
    page.get_by_label("PDF (để in và ký)").check()
    with page.expect_download() as download:
        page.locator("#file-submit").click()
    pdf = tmp_path / "filed.pdf"
    download.value.save_as(pdf)
    assert download.value.suggested_filename.endswith("-sector-administrative-2025.pdf")

    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail("pdftoppm and pdftotext (Debian poppler-utils) are needed")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True)
    flat = " ".join(text.stdout.decode().split())
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 42/BC-SNV",
        "Điện Biên, ngày 05 tháng 12 năm 2026",
        "Nơi nhận:",
        "Nguyễn Văn An",
    ):
        assert expected in flat, expected
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    first_page = SCREENSHOTS / "filed-report-pdf"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "100",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            first_page,
        ],
        check=True,
    )
    image = Image.open(first_page.with_suffix(".png")).convert("L")
    width, height = image.size
    assert abs(width - 827) <= 1 and abs(height - 1169) <= 1  # A4 at 100 dpi
    # Ink in the header's two columns (issuing body left, national title right) and no ink in
    # the left margin (30 mm), the decree's binding edge.
    left_column = image.crop(
        (int(width * 0.15), int(height * 0.05), int(width * 0.45), int(height * 0.1))
    )
    right_column = image.crop(
        (int(width * 0.5), int(height * 0.05), int(width * 0.9), int(height * 0.1))
    )
    margin = image.crop((0, 0, int(width * 28 / 210), height))
    assert left_column.getextrema()[0] < 100 and right_column.getextrema()[0] < 100
    assert margin.getextrema()[0] > 200

    page.get_by_label("Word (để chỉnh sửa trước khi ký)").check()
    with page.expect_download() as download:
        page.locator("#file-submit").click()
    word = tmp_path / "filed.docx"
    download.value.save_as(word)
    document = docx.Document(io.BytesIO(word.read_bytes()))
    header = document.tables[0].rows[0].cells
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header[1].text
    assert "Số: 42/BC-SNV" in header[0].text
    assert "Nguyễn Văn An" in document.tables[-1].rows[0].cells[1].text
    assert document.inline_shapes  # the charts, as pictures
