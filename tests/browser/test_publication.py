"""The public quarterly report in a real browser: readable on a desktop and a phone, accessible,
and without a comment or a small group's figure on screen."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import DESKTOP, LiveServer
from tests.services.test_publication import (
    DEPARTMENT_COMMENT,
    HOSPITAL_COMMENT,
    SMALL_GROUP_COMMENT,
    seed_quarter,
)


def test_the_public_quarterly_report(
    session: Session,
    live_server: LiveServer,
    new_context: Callable[..., Any],
    screenshot: Callable[[Any, str], Path],
) -> None:
    seed_quarter(session, live_server.province)
    session.commit()  # the live server reads what a request would have committed
    page = new_context(**DESKTOP, is_mobile=False, has_touch=False).new_page()
    page.goto(f"{live_server.url}/cong-khai/")
    page.get_by_role("link", name="Quý 1/2025").click()
    expect(page.locator("h1")).to_contain_text("Quý 1/2025")
    expect(page.locator(".figure")).to_have_text(re.compile(r"^\d{1,3},\d%$"))  # Vietnamese
    expect(page.locator("#trend figure svg[role=img]")).to_have_count(1)
    commune = page.locator("#agency-table tr", has_text="Xã Nà Nhạn")
    expect(commune).to_contain_text("< 30")
    expect(commune).to_contain_text("không công bố (dưới 30 phiếu)")
    body = page.locator("body")
    for comment in (DEPARTMENT_COMMENT, SMALL_GROUP_COMMENT, HOSPITAL_COMMENT):
        expect(body).not_to_contain_text(comment)
    expect(body).not_to_contain_text("NaN")
    screenshot(page, "public-report-desktop")
    violations = Axe().run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], serious

    phone = new_context().new_page()
    phone.goto(f"{live_server.url}/cong-khai/2025-Q1?lang=en")
    expect(phone.locator("h1")).to_contain_text("Q1 2025")
    expect(phone.locator("#agency-table tr", has_text="Xã Nà Nhạn")).to_contain_text(
        "suppressed (fewer than 30 responses)"
    )
    # Wide tables scroll inside their card; the page itself never scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "public-report-phone-en")
    with phone.expect_download() as download_info:
        phone.evaluate("document.querySelector('#pdf-link').setAttribute('download', 'report.pdf')")
        phone.locator("#pdf-link").click()
    assert download_info.value.suggested_filename.endswith(".pdf")
