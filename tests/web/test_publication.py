"""The public quarterly report on the web (``/cong-khai/``) and as files (``flask publish-report``):
no sign-in, no comment text, no figure for a group below the minimum — in the page, the PDF's text
layer and the files a province puts on its portal."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from survey import create_app
from survey.services.accounts import create_user
from survey.services.integrity import record_decision
from survey.services.local_time import today_in_vietnam
from survey.services.periods import quarter_of
from survey.services.publication import quarterly
from survey.services.publication.quarters import last_ended_quarter
from survey.services.report_charts import CHART_CACHE
from survey.services.reporting import REPORT_CACHE
from survey.storage import queries
from tests.factories import SmallProvince
from tests.services.test_publication import (
    DEPARTMENT_COMMENT,
    HOSPITAL_COMMENT,
    SMALL_GROUP_COMMENT,
    answer,
    seed_quarter,
)

COMMENTS = (DEPARTMENT_COMMENT, SMALL_GROUP_COMMENT, HOSPITAL_COMMENT)
MINIMUM = 30
PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    for cache in (REPORT_CACHE, CHART_CACHE, quarterly.PDF_CACHE):
        cache.clear()
    yield


@pytest.fixture
def quarter(session: Session, seeded: SmallProvince) -> SmallProvince:
    seed_quarter(session, seeded)
    return seeded


class _Tables(HTMLParser):
    """The rows of every table with an id, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id")
            if self._table:
                self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def assert_no_small_group_has_a_figure(html: str) -> dict[str, list[str]]:
    """Every row of the index tables: n ≥ the minimum with figures, or "< N" / "≥ N" with none.
    Returns the rows by their first cell."""
    tables = tables_of(html)
    assert {"sector-table", "agency-table", "trend-table"} <= set(tables)
    rows: dict[str, list[str]] = {}
    for name in ("sector-table", "agency-table", "trend-table"):
        for row in tables[name][1:]:  # the header row first
            if len(row) == 1:  # a sector's heading inside the agency table
                continue
            unit, n, *figures = row
            rows[unit] = row
            if n in (f"< {MINIMUM}", f"≥ {MINIMUM}"):
                assert not any("%" in cell for cell in figures[:-2]), row
                assert not any(re.search(r"\d", cell) for cell in figures[:1] if "(" not in cell)
                assert figures[-1] == "", row  # no verdict
            else:
                assert int(n.replace(".", "").replace(",", "")) >= MINIMUM, row
                assert "%" in figures[0], row
    return rows


def pdf_text(body: bytes, tmp_path: Path) -> str:
    assert PDFTOTEXT, "pdftotext (poppler-utils) is needed"
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    return subprocess.run(
        [PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_page_needs_no_sign_in_and_is_vietnamese_unless_asked(
    client: FlaskClient, quarter: SmallProvince
):
    page = client.get("/cong-khai/2025-Q1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="vi">' in html and "Tỷ lệ hài lòng theo cơ quan, đơn vị" in html
    assert "Quý 1/2025" in html and 'href="/cong-khai/2025-Q1.pdf?lang=vi"' in html
    english = client.get("/cong-khai/2025-Q1?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Share satisfied by agency" in english
    assert "Q1 2025" in english and "suppressed (fewer than 30 responses)" in english
    # The language comes from the address only: the page behind one address is always the same.
    assert client.get("/cong-khai/2025-Q1").get_data(as_text=True) == html


def test_no_comment_text_in_the_page_or_the_pdf(
    client: FlaskClient, quarter: SmallProvince, tmp_path: Path
):
    for language in ("vi", "en"):
        html = client.get(f"/cong-khai/2025-Q1?lang={language}").get_data(as_text=True)
        pdf = client.get(f"/cong-khai/2025-Q1.pdf?lang={language}")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        text = pdf_text(pdf.data, tmp_path)
        assert "Xã Nà Nhạn" in text and "Sở Tư pháp" in text  # the text layer is readable
        for comment in COMMENTS:
            assert comment not in html
            assert comment not in " ".join(text.split())
        assert "Nghị quyết nội bộ" not in html + text  # the target's description: typed text


def test_no_group_below_the_minimum_appears_with_a_figure(
    client: FlaskClient, quarter: SmallProvince, tmp_path: Path
):
    html = client.get("/cong-khai/2025-Q1").get_data(as_text=True)
    rows = assert_no_small_group_has_a_figure(html)
    assert rows["Xã Nà Nhạn"][1:3] == ["< 30", "không công bố (dưới 30 phiếu)"]
    # 45 in the administrative sector − 40 in the Department would give the commune's 5.
    assert rows["Sở Tư pháp"][1:3] == [
        "≥ 30",
        "không công bố (để không suy ra được số liệu của nhóm nhỏ)",
    ]
    assert rows["Dịch vụ hành chính công"][1] == "45"
    assert rows["Bệnh viện Đa khoa tỉnh"][1] == "35"
    assert "n = 5" not in html and "n = 40" not in html

    text = pdf_text(client.get("/cong-khai/2025-Q1.pdf").data, tmp_path)
    commune = [line for line in text.splitlines() if line.strip().startswith("Xã Nà Nhạn")]
    department = [line for line in text.splitlines() if line.strip().startswith("Sở Tư pháp")]
    share = re.compile(r"\d[,.]\d%")  # a share or interval (the target, "80%", may show)
    assert commune and all("< 30" in line and not share.search(line) for line in commune)
    assert department and all("≥ 30" in line and not share.search(line) for line in department)
    withheld = [line for line in text.splitlines() if "< 30" in line or "≥ 30" in line]
    assert len(withheld) >= 2 and not any(share.search(line) for line in withheld)
    assert "n = 5" not in text and "n = 40" not in text


def test_a_small_quarter_publishes_no_figure(client: FlaskClient, session: Session, seeded):
    answer(session, seeded.desk, 12, comment=DEPARTMENT_COMMENT)
    html = client.get("/cong-khai/2025-Q1?lang=en").get_data(as_text=True)
    assert "Fewer than 30 responses were received in this quarter" in html
    assert "agency-table" not in html and "12" not in re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    assert DEPARTMENT_COMMENT not in html


def test_excluded_responses_are_not_counted_and_their_text_never_shows(
    client: FlaskClient, session: Session, quarter: SmallProvince
):
    before = client.get("/cong-khai/2025-Q1")
    excluded = answer(session, quarter.desk, 2, comment="Phiếu giả mạo QWE-555", tag="x")
    after_adding = client.get("/cong-khai/2025-Q1")
    assert after_adding.headers["ETag"] != before.headers["ETag"]  # new data, new page
    admin = create_user(session, "chief", "correct horse battery staple")
    for response_id in excluded:
        queries.add_flag(session, response_id, "identical_burst", "test")
        record_decision(
            session, response_id=response_id, exclude=True, reason="Phiếu thử", user_id=admin.id
        )
    session.commit()
    after = client.get(
        "/cong-khai/2025-Q1", headers={"If-None-Match": after_adding.headers["ETag"]}
    )
    assert after.status_code == 200  # the exclusion changed the fingerprint: not 304
    html = after.get_data(as_text=True)
    assert "QWE-555" not in html and "chief" not in html
    rows = assert_no_small_group_has_a_figure(html)
    assert rows["Dịch vụ hành chính công"][1] == "45"  # 40 + 5, the 2 excluded left out


def test_future_current_and_malformed_quarters_are_refused(
    client: FlaskClient, quarter: SmallProvince
):
    current = quarter_of(today_in_vietnam()).key
    for path in (f"/cong-khai/{current}", "/cong-khai/2099-Q1", f"/cong-khai/{current}.pdf"):
        answer_ = client.get(path)
        assert answer_.status_code == 404, path
        html = answer_.get_data(as_text=True)
        assert "chưa kết thúc" in html and "has not ended" in html
        assert (
            "Cache-Control" not in answer_.headers
            or "public" not in answer_.headers["Cache-Control"]
        )
    year = client.get("/cong-khai/2025")
    assert year.status_code == 404 and "theo quý" in year.get_data(as_text=True)
    for garbage in ("/cong-khai/abc", "/cong-khai/2025-Q9", "/cong-khai/%3Cscript%3E.pdf"):
        refused = client.get(garbage)
        assert refused.status_code == 400, garbage
        assert "Kỳ báo cáo không hợp lệ" in refused.get_data(as_text=True)
        assert "<script>" not in refused.get_data(as_text=True)


def test_pages_may_be_kept_by_caches_and_revalidate(client: FlaskClient, quarter: SmallProvince):
    for path in ("/cong-khai/2025-Q1", "/cong-khai/2025-Q1.pdf"):
        first = client.get(path)
        assert first.headers["Cache-Control"] == f"public, max-age={quarterly.MAX_AGE}"
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    english = client.get("/cong-khai/2025-Q1?lang=en")
    assert english.headers["ETag"] != client.get("/cong-khai/2025-Q1").headers["ETag"]
    assert client.get("/cong-khai/").headers["Cache-Control"].startswith("public, max-age=")


def test_the_page_is_the_same_for_a_signed_in_official(
    client: FlaskClient, session: Session, quarter: SmallProvince
):
    """Nothing of an official's scope or account reaches a public page (so caches may share it)."""
    anonymous = client.get("/cong-khai/2025-Q1").get_data(as_text=True)
    create_user(session, "health.viewer", "correct horse battery staple", "viewer", sector="health")
    session.commit()
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    signed_in = client.post(
        "/admin/sign-in",
        data={
            "csrf_token": token.group(1),
            "username": "health.viewer",
            "password": "correct horse battery staple",
        },
    )
    assert signed_in.status_code == 302
    assert client.get("/cong-khai/2025-Q1").get_data(as_text=True) == anonymous


def test_the_index_lists_ended_quarters_newest_first(
    client: FlaskClient, session: Session, quarter: SmallProvince
):
    answer(session, quarter.desk, 3, month=8, tag="q3")
    today = today_in_vietnam()
    answer(session, quarter.desk, 1, month=today.month, year=today.year, tag="now")
    html = client.get("/cong-khai/").get_data(as_text=True)
    links = re.findall(r'href="/cong-khai/(\d{4}-Q\d)\?lang=vi"', html)
    assert links[:2] == ["2025-Q3", "2025-Q1"]
    assert quarter_of(today).key not in links  # the current quarter is not published yet
    assert "2025-Q2" not in links  # no response in it


def test_the_public_pages_can_be_switched_off(app: Flask, client: FlaskClient, quarter):
    app.config["PUBLIC_REPORTS_ENABLED"] = False
    for path in ("/cong-khai/", "/cong-khai/2025-Q1", "/cong-khai/2025-Q1.pdf"):
        refused = client.get(path)
        assert refused.status_code == 404
        assert "chưa công bố báo cáo công khai" in refused.get_data(as_text=True)


def test_public_reports_are_off_by_default_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from survey.config import load_settings

    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("PUBLIC_REPORTS_ENABLED", raising=False)
    assert (
        load_settings(str(tmp_path), {"SURVEY_ENV": "production"})["PUBLIC_REPORTS_ENABLED"]
        is False
    )
    assert (
        load_settings(str(tmp_path), {"SURVEY_ENV": "development"})["PUBLIC_REPORTS_ENABLED"]
        is True
    )
    monkeypatch.setenv("PUBLIC_REPORTS_ENABLED", "true")
    assert (
        load_settings(str(tmp_path), {"SURVEY_ENV": "production"})["PUBLIC_REPORTS_ENABLED"] is True
    )


def test_reading_the_public_report_is_rate_limited(database_url: str):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_PUBLIC_REPORT_PER_ADDRESS": "2 per minute",
        }
    )
    try:
        client = app.test_client()
        assert [client.get("/cong-khai/").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        app.extensions["survey.engine"].dispose()


# --------------------------------------------------------------------------------------------
# flask publish-report


def test_publish_report_writes_self_contained_files_without_comments_or_small_groups(
    runner: FlaskCliRunner, quarter: SmallProvince, tmp_path: Path
):
    out = tmp_path / "portal"
    result = runner.invoke(args=["publish-report", "--period", "2025-Q1", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "cong-khai-2025-Q1.en.html",
        "cong-khai-2025-Q1.en.pdf",
        "cong-khai-2025-Q1.html",
        "cong-khai-2025-Q1.pdf",
    ]
    for page in ("cong-khai-2025-Q1.html", "cong-khai-2025-Q1.en.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "<style>" in html and "/static/" not in html and "<link" not in html
        assert 'href="cong-khai-2025-Q1' in html  # the PDF and the other language, beside it
        assert_no_small_group_has_a_figure(html)
        for comment in COMMENTS:
            assert comment not in html
    for pdf in ("cong-khai-2025-Q1.pdf", "cong-khai-2025-Q1.en.pdf"):
        text = " ".join(pdf_text((out / pdf).read_bytes(), tmp_path).split())
        assert "Xã Nà Nhạn" in text
        for comment in COMMENTS:
            assert comment not in text

    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = runner.invoke(args=["publish-report", "--period", "2025-Q1", str(out)])
    assert again.exit_code == 0 and "0 of 4 files written" in again.output
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_publish_report_takes_the_last_ended_quarter_and_refuses_the_current_one(
    runner: FlaskCliRunner, seeded: SmallProvince, tmp_path: Path
):
    result = runner.invoke(args=["publish-report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    latest = last_ended_quarter(today_in_vietnam()).key
    assert (tmp_path / f"cong-khai-{latest}.html").is_file()
    current = quarter_of(today_in_vietnam()).key
    refused = runner.invoke(args=["publish-report", "--period", current, str(tmp_path / "x")])
    assert refused.exit_code == 1
    assert "has not ended" in refused.output and "chưa kết thúc" in refused.output
    assert not (tmp_path / "x").exists()
