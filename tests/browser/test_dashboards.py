"""The dashboards on the demo province, in Chromium: the first page shows a figure, every chart
draws the target its caption promises, no chart has two identical labels, retired units are
marked, an agency's figure says what it covers. Screenshots go to test-artifacts/screenshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.demo import load_demo_province
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from tests.browser.conftest import DESKTOP, LiveServer

USERNAME = "dashboard-reader"
PASSWORD = "a-long-password-789"
EDUCATION = "DIENBIEN-SO-GIAO-DUC-VA-DAO-TAO"
HOSPITAL = "DIENBIEN-BENH-VIEN-DA-KHOA-TINH-DIEN-BIEN"
CHARTS_JS = """() => Array.from(document.querySelectorAll('figure svg')).map(svg => {
  const ticks = axis => Array.from(svg.querySelectorAll(`g[id^="${axis}"] g[id^="text"]`))
    .map(g => Array.from(g.querySelectorAll('text')).map(t => t.textContent.trim()).join(' '));
  return {
    title: svg.querySelector('title').textContent,
    desc: svg.querySelector('desc').textContent,
    targets: Array.from(svg.querySelectorAll('[id^="target"]')).map(e => e.id),
    yticks: ticks('ytick'),
    xticks: ticks('xtick'),
  };
})"""


@pytest.fixture
def demo_page(session: Session, live_server: LiveServer, new_context: Callable[..., Any]) -> Any:
    """The demo (calendar year 2025) plus 14 responses this year, as when the demo was tried in
    2026: the first page used to open on this year, with too few responses for a figure."""
    demo = load_demo_province(session)
    point, questionnaire = open_service_point(session, demo.points[0].point.public_code)
    now = dt.datetime.now(dt.UTC)
    for i in range(14):
        submit_response(
            session,
            point=point,
            questionnaire=questionnaire,
            answers={item.code: 4 for item in questionnaire.items},
            idempotency_key=f"this-year-{i:08d}",
            channel="qr",
            submitted_at=now,
        )
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


def _check_charts(page: Any, word: str = "mục tiêu") -> list[dict[str, Any]]:
    """Every chart of the page: a target drawn when its caption mentions one, none otherwise;
    no two identical labels on an axis."""
    charts = page.evaluate(CHARTS_JS)
    assert charts, "no chart on the page"
    for chart in charts:
        mentions = word in chart["desc"].lower()
        assert bool(chart["targets"]) == mentions, (chart["title"], chart["desc"], chart["targets"])
        for axis in ("yticks", "xticks"):
            labels = [label for label in chart[axis] if label]
            assert len(labels) == len(set(labels)), (chart["title"], labels)
            assert not any(label.endswith("…") for label in labels), labels  # ends are kept
    return charts


def test_the_first_page_shows_a_figure_and_the_sectors_at_a_glance(
    demo_page: Any, live_server: LiveServer, screenshot: Callable[[Any, str], Path]
) -> None:
    page = demo_page
    page.goto(f"{live_server.url}/reports/")
    # The latest year with enough responses (2025), not this year's 14.
    expect(page).to_have_url(f"{live_server.url}/reports/province/all?period=2025")
    expect(page.locator("h1")).to_contain_text("Năm 2025")
    headline = page.locator("#headline")
    expect(headline).to_contain_text("hài lòng (KTC 95%")
    expect(headline).not_to_contain_text("cần ít nhất")
    expect(headline).to_contain_text("n = 20.1")  # thousands grouped, decimal comma
    tiles = page.locator("#at-a-glance .tile")
    expect(tiles).to_have_count(3)
    for sector in ("administrative", "health", "education"):
        tile = page.locator(f"#tile-{sector}")
        expect(tile.locator(".tile-index")).to_contain_text(",")
        expect(tile).to_contain_text("Mục tiêu: 80%")
        expect(tile).to_contain_text("tỷ lệ phản hồi")
    screenshot(page, "first-page")
    charts = _check_charts(page)
    assert any("target-line" in chart["targets"] for chart in charts)
    # Both "Xã Chiềng Sinh" rows of the agency table; the retired one says so.
    rows = page.locator(
        "table:has(caption:text('Chỉ số theo cơ quan, đơn vị')) tr", has_text="Xã Chiềng Sinh"
    )
    expect(rows).to_have_count(2)
    expect(rows.locator(".retired")).to_have_count(1)
    expect(page.locator(".agency-rows-cover").first).to_contain_text("điểm phục vụ của chính")
    expect(page.locator("#ranks tr", has_text="Xã Chiềng Sinh").locator(".retired")).to_have_count(
        1
    )


def test_charts_are_honest_on_every_kind_of_page(
    demo_page: Any, live_server: LiveServer, screenshot: Callable[[Any, str], Path]
) -> None:
    page = demo_page
    for name, path in (
        ("health-q3", "/reports/sector/health?period=2025-Q3"),
        ("province-agency", "/reports/agency/DIENBIEN?period=2025"),
        ("hospital", f"/reports/agency/{HOSPITAL}?period=2025"),
        ("province-h2-en", "/reports/province/all?period=2025-H2&lang=en"),
    ):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#headline")).to_be_visible()
        word = "target" if "lang=en" in path else "mục tiêu"
        charts = _check_charts(page, word)
        screenshot(page, name)
        if name == "health-q3":
            (trend,) = [c for c in charts if c["title"] == "Xu hướng theo quý"]
            assert "target-line" in trend["targets"]
            assert trend["xticks"] == ["Quý 3/2025"]
        if name == "province-agency":
            # The old and the new Xã Chiềng Sinh: two distinct labels, the retired one marked.
            (comparison,) = [c for c in charts if c["title"].startswith("Tỷ lệ hài lòng và")]
            chieng_sinh = [label for label in comparison["yticks"] if "Chiềng Sinh" in label]
            assert len(chieng_sinh) == 2
            assert sum("(đã giải thể)" in label for label in chieng_sinh) == 1
        if name == "hospital":
            # The hospital's own points lose the hospital's name, keep their own.
            (comparison,) = [c for c in charts if c["title"].startswith("Tỷ lệ hài lòng và")]
            assert "Quầy đăng ký khám bệnh" in comparison["yticks"]
            assert "Khoa Khám bệnh" in comparison["yticks"]


def test_an_agency_page_says_what_its_figure_covers(
    demo_page: Any, live_server: LiveServer, screenshot: Callable[[Any, str], Path]
) -> None:
    page = demo_page
    page.goto(f"{live_server.url}/reports/province/all?period=2025")
    row = page.locator(
        "tr", has=page.get_by_role("link", name="Sở Giáo dục và Đào tạo", exact=True)
    )
    own = row.locator("td").nth(2).inner_text()  # the agency's own points, in the province table
    row.get_by_role("link").click()
    page.wait_for_url(f"**/agency/{EDUCATION}**")
    expect(page.locator("h1")).to_contain_text("Sở Giáo dục và Đào tạo")
    covers = page.locator("#covers")
    expect(covers).to_contain_text("cùng 9 đơn vị trực thuộc")
    expect(covers).to_contain_text(f"Riêng các điểm phục vụ của cơ quan: {own}")
    headline = page.locator("#headline").inner_text()
    assert own not in headline  # the two figures differ, and the page says why
    compare = page.locator("#compare")
    expect(compare.locator("#compare-sector")).to_contain_text("Dịch vụ hành chính công")
    expect(compare.locator("#compare-province")).to_contain_text("Toàn tỉnh")  # two roots here
    screenshot(page, "education-department")
    violations = Axe().run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def test_filters_by_channel_and_level(
    demo_page: Any, live_server: LiveServer, screenshot: Callable[[Any, str], Path]
) -> None:
    page = demo_page
    page.goto(f"{live_server.url}/reports/province/all?period=2025")
    page.select_option("#f-channel", "kiosk")
    page.locator("#filters").get_by_role("button").click()
    page.wait_for_url("**channel=kiosk**")
    expect(page).to_have_url(
        f"{live_server.url}/reports/province/all?period=2025&channel=kiosk&level=&sector="
    )
    expect(page.locator("#filters-note")).to_contain_text("Kiosk")
    expect(page.locator("#at-a-glance .tile")).to_have_count(1)  # kiosks only at the centre
    expect(page.locator("#f-channel")).to_have_value("kiosk")
    _check_charts(page)
    screenshot(page, "kiosk-only")
    page.select_option("#f-channel", "")
    page.select_option("#f-level", "commune")
    page.locator("#filters").get_by_role("button").click()
    page.wait_for_url("**level=commune**")
    expect(page.locator("#filters-note")).to_contain_text("Cấp xã")
    expect(
        page.locator("table:has(caption:text('Chỉ số theo cơ quan, đơn vị'))")
    ).not_to_contain_text("Sở Y tế")
    answer = page.request.get(f"{live_server.url}/reports/province/all?period=2025&channel=fax")
    assert answer.status == 400 and "Kênh không hợp lệ" in answer.text()
