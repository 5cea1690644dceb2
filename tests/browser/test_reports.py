"""Reports in a real browser: dashboards, drill-down, filters, charts, the PDF rendered to PNG."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.demo import load_demo_province
from tests.browser.conftest import DESKTOP, LiveServer

USERNAME = "report-reader"
PASSWORD = "a-long-password-456"


@pytest.fixture
def signed_in(session: Session, live_server: LiveServer, new_context: Callable[..., Any]) -> Any:
    load_demo_province(session)
    create_user(session, USERNAME, PASSWORD)
    session.commit()
    page = new_context(**DESKTOP, is_mobile=False, has_touch=False).new_page()
    page.goto(f"{live_server.url}/admin/sign-in")
    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/admin/")
    # A cold province report of the demo (20,000 responses) takes seconds on a busy machine.
    page.set_default_timeout(120_000)
    return page


def test_province_dashboard_drill_down_and_filters(
    signed_in: Any, live_server: LiveServer, screenshot: Callable[[Any, str], Path]
) -> None:
    page = signed_in
    page.goto(f"{live_server.url}/reports/province/all?period=2025")
    # Two root agencies here (the test province and the demo), so the title is generic.
    expect(page.locator("h1")).to_contain_text("Toàn tỉnh — Năm 2025")
    expect(page.locator("#headline")).to_contain_text("hài lòng (KTC 95%")
    expect(page.locator("figure svg[role=img] title").first).to_contain_text("hài lòng")
    tables = page.locator("table caption")
    expect(tables.filter(has_text="Chỉ số theo lĩnh vực")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("NaN")
    screenshot(page, "province-2025")
    violations = Axe().run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], serious

    # Sector, then an agency, following the links; then another period with the filter.
    page.get_by_role("link", name="Dịch vụ y tế công").first.click()
    expect(page.locator("h1")).to_contain_text("Dịch vụ y tế công")
    page.get_by_role("link", name="Bệnh viện Đa khoa tỉnh Điện Biên").first.click()
    expect(page.locator("h1")).to_contain_text("Bệnh viện Đa khoa tỉnh Điện Biên")
    expect(page.locator("table caption", has_text="Chỉ số theo điểm phục vụ")).to_have_count(1)
    page.select_option("#period", "2025-Q3")
    page.locator("form.period-form").first.get_by_role("button").click()
    expect(page.locator("h1")).to_contain_text("Quý 3/2025")
    screenshot(page, "hospital-q3")

    # English follows the user's choice, summaries included.
    page.goto(f"{live_server.url}/reports/province/all?period=2025-H2&lang=en")
    expect(page.locator("#headline")).to_contain_text("satisfied (95% CI")
    expect(page.locator("#change")).to_contain_text("First half of 2025")
    # A period without data reads as a sentence.
    page.goto(f"{live_server.url}/reports/province/all?period=2019")
    expect(page.locator("#empty")).to_be_visible()


def test_pdf_report_renders_with_vietnamese_text(
    signed_in: Any,
    live_server: LiveServer,
    tmp_path: Path,
    screenshot: Callable[[Any, str], Path],
) -> None:
    page = signed_in
    page.goto(f"{live_server.url}/reports/sector/administrative?period=2025")
    # The progress bar walks through the steps, then the browser opens the PDF.
    page.locator("#pdf-link").click()
    expect(page.locator("#pdf-progress")).to_be_visible()
    answer = page.request.get(  # drawn for print while the progress bar runs: allow time
        f"{live_server.url}/reports/sector/administrative/report.pdf?period=2025", timeout=90_000
    )
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(answer.body())

    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",  # the filed layout (test_filed_report.py)
        "Kết quả đo lường sự hài lòng",
        "Dịch vụ hành chính công",
        "Năm 2025",
        "Ghi chú phương pháp",
        "Tuyến tính hóa Taylor".lower()[:8],
    ):
        assert expected.lower() in text.lower()
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (Debian poppler-utils) is needed to render the PDF")
    out = Path("test-artifacts/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "3",
            str(pdf),
            str(out / "report-pdf-page"),
        ],
        check=True,
    )
    pages = sorted(out.glob("report-pdf-page-*.png"))
    assert len(pages) == 3
    from PIL import Image

    for path in pages:
        image = Image.open(path).convert("L")
        extrema = image.getextrema()
        assert extrema[0] < 100 < extrema[1]  # ink on paper, not a blank page
