"""The page that prepares a filed report (its form, defaults and messages), the Word route, and the
Excel exports' number formats, frozen headers, codebooks and date-time cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import docx
import openpyxl
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from survey.storage.models import AuditEvent
from tests.conftest import form_fields
from tests.factories import SmallProvince, agency

PASSWORD = "tide-Marble-quiet-47-Lantern"
GOOD = {
    "governing_body": "UBND TỈNH THỬ NGHIỆM",
    "issuing_body": "SỞ NỘI VỤ",
    "number": "27",
    "symbol": "bc-snv",  # upper-cased by the form
    "place": "Thử Nghiệm",
    "date": "2026-02-05",
    "title": "Kết quả khảo sát sự hài lòng quý I năm 2025",
    "authority": "KT. GIÁM ĐỐC",
    "signer_title": "PHÓ GIÁM ĐỐC",
    "signer_name": "Lò Thị Mai",
    "recipients": "- Bộ Nội vụ;\nUBND tỉnh (để báo cáo)",
    "archive": "VT, SNV",
    "fmt": "pdf",
}


@pytest.fixture
def province(session: Session, seeded: SmallProvince) -> SmallProvince:
    agency(session, "P-NV", "Sở Nội vụ", parent=seeded.province)
    found, questionnaire = open_service_point(session, seeded.desk.public_code)
    for i in range(40):
        submit_response(
            session,
            point=found,
            questionnaire=questionnaire,
            answers={item.code: (2, 4, 5)[i % 3] for item in questionnaire.items},
            idempotency_key=f"filed-report-{i:06d}",
            channel="qr",
            comment="Thủ tục nhanh, cán bộ nhiệt tình" if i % 4 == 0 else None,
            submitted_at=dt.datetime(2025, 3, 1 + i % 28, 3, 15, tzinfo=dt.UTC),
        )
    session.commit()
    return seeded


def _sign_in(client: FlaskClient, session: Session, username: str) -> None:
    create_user(session, username, PASSWORD, role="province_admin")
    session.commit()  # as the request that creates an account would
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/admin/sign-in",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 302


URL = "/reports/sector/administrative/file?period=2025-Q1"


def _value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    return found.group(1) if found else ""


def test_the_form_opens_with_the_province_defaults(
    client: FlaskClient, session: Session, province: SmallProvince
):
    _sign_in(client, session, "chief.defaults")
    report_page = client.get("/reports/sector/administrative?period=2025-Q1").get_data(as_text=True)
    assert 'id="file-link"' in report_page and "/file?period=2025-Q1" in report_page
    page = client.get(URL).get_data(as_text=True)
    assert _value(page, "issuing_body") == "SỞ NỘI VỤ"
    assert _value(page, "governing_body") == "UBND TỈNH THỬ NGHIỆM"
    assert _value(page, "place") == "Thử Nghiệm"  # the province without "Tỉnh"
    assert _value(page, "symbol") == "BC-SNV"
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    assert _value(page, "date") == today.isoformat()  # Vietnam's today
    assert "Bộ Nội vụ (để báo cáo)" in page
    english = client.get(URL + "&lang=en").get_data(as_text=True)
    assert _value(english, "issuing_body") == "SỞ NỘI VỤ (EN)"  # the agency's English name
    assert "Prepare the filed report" in english


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_the_filled_form_gives_the_document_and_is_audited(
    client: FlaskClient, session: Session, province: SmallProvince, fmt: str
):
    _sign_in(client, session, f"chief.{fmt}")
    fields = form_fields(client.get(URL).get_data(as_text=True)) | GOOD | {"fmt": fmt}
    answer = client.post(URL, data=fields)
    assert answer.status_code == 200
    name = f"bao-cao-hai-long-sector-administrative-2025-Q1.{fmt}"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    if fmt == "pdf":
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.data)).pages)
    else:
        document = docx.Document(io.BytesIO(answer.data))
        text = "\n".join(
            [p.text for p in document.paragraphs]
            + [c.text for t in document.tables for r in t.rows for c in r.cells]
        )
    flat = " ".join(text.split())
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Số: 27/BC-SNV",
        "Thử Nghiệm, ngày 05 tháng 02 năm 2026",
        "Lò Thị Mai",
        "- Bộ Nội vụ;",  # the dash and the semicolon are the document's, not doubled
        "- UBND tỉnh (để báo cáo);",
        "- Lưu: VT, SNV.",
    ):
        assert expected in flat, expected
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.downloaded"))
    assert event.details["file"] == name and event.actor_name == f"chief.{fmt}"


BAD = [
    ({"issuing_body": ""}, "Vui lòng điền"),
    ({"signer_name": "   "}, "Vui lòng điền"),
    ({"symbol": "BC SNV!"}, "chữ in hoa"),
    ({"number": "15a"}, "chỉ gồm chữ số"),
    ({"date": "2026-02-30"}, "Ngày không hợp lệ"),
    ({"date": "1900-01-01"}, "từ 2000 đến 2100"),
    ({"title": "x" * 301}, "Tối đa 300 ký tự"),
    ({"signer_name": "Nguyễn 😀"}, "không in được"),
    ({"place": "Điện\x00Biên"}, "không in được"),
    ({"recipients": "\n".join(f"Nơi {i}" for i in range(16))}, "Tối đa 15 nơi nhận"),
    ({"recipients": "x" * 151}, "tối đa 150 ký tự"),
    ({"fmt": "exe"}, "Chọn PDF hoặc Word"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_input_is_refused_with_a_message_in_the_readers_language(
    client: FlaskClient,
    session: Session,
    province: SmallProvince,
    change: dict[str, str],
    message: str,
):
    _sign_in(client, session, "chief.bad")
    fields = form_fields(client.get(URL).get_data(as_text=True)) | GOOD | change
    answer = client.post(URL, data=fields)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert message in page, page[page.find('id="form-errors"') :][:800]
    assert 'role="alert"' in page and "Traceback" not in page
    english = client.post(URL + "&lang=en", data=fields)
    assert english.status_code == 422 and "Please correct the fields below" in english.get_data(
        as_text=True
    )


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.dictionaries(
        st.sampled_from(sorted(GOOD)),
        st.text(max_size=200) | st.sampled_from(["", " ", "2026-13-01", "99999999", "docx"]),
    )
)
def test_no_input_makes_the_form_fail_with_a_500(
    client: FlaskClient, session: Session, province: SmallProvince, values: dict[str, str]
):
    if client.get(URL).status_code != 200:  # the first example signs in; the others reuse it
        _sign_in(client, session, "chief.fuzz")
    fields = form_fields(client.get(URL).get_data(as_text=True)) | GOOD | values
    answer = client.post(URL, data=fields)
    assert answer.status_code in (200, 422), answer.get_data(as_text=True)[:500]


def test_the_plain_links_give_the_report_with_defaults(
    client: FlaskClient, session: Session, province: SmallProvince
):
    _sign_in(client, session, "chief.plain")
    pdf = client.get("/reports/sector/administrative/report.pdf?period=2025-Q1")
    assert pdf.status_code == 200 and pdf.headers["Content-Disposition"].startswith("inline;")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "SỞ NỘI VỤ" in text and "Nơi nhận" in text
    word = client.get("/reports/sector/administrative/report.docx?period=2025-Q1")
    assert word.status_code == 200
    assert word.mimetype.endswith("wordprocessingml.document")
    assert docx.Document(io.BytesIO(word.data)).tables
    files = [
        event.details["file"]
        for event in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export.downloaded")
        )
    ]
    assert [name.rsplit(".", 1)[1] for name in files] == ["pdf", "docx"]


def test_the_indices_workbook_has_formats_frozen_headers_filters_and_a_codebook(
    client: FlaskClient, session: Session, province: SmallProvince
):
    _sign_in(client, session, "chief.xlsx")
    body = client.get("/reports/sector/administrative/indices.xlsx?period=2025-Q1").data
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["indices", "codebook"]
    sheet = book["indices"]
    header = [cell.value for cell in sheet[1]]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == sheet.dimensions
    assert all(cell.font.bold for cell in sheet[1])
    row = {name: sheet.cell(row=2, column=i + 1) for i, name in enumerate(header)}
    assert row["level"].value == "scope"
    for share in ("estimate", "ci_low", "ci_high"):
        assert isinstance(row[share].value, float) and 0 <= row[share].value <= 1, share
        assert row[share].number_format == "0.0%"
    assert row["ci_low"].value < row["estimate"].value < row["ci_high"].value
    assert isinstance(row["n"].value, int) and row["n"].number_format == "#,##0"
    assert row["n"].value == 40
    width = sheet.column_dimensions[row["summary"].column_letter].width
    assert 20 <= width <= 60  # wide enough to read, never a page wide
    codebook = {r[0]: r[1] for r in book["codebook"].iter_rows(min_row=2, values_only=True)}
    assert set(header) <= set(codebook)
    assert codebook["ci_low"] == "Cận dưới khoảng tin cậy 95%"  # the reader's language
    english = openpyxl.load_workbook(
        io.BytesIO(
            client.get("/reports/sector/administrative/indices.xlsx?period=2025-Q1&lang=en").data
        )
    )
    meanings = dict(english["codebook"].iter_rows(min_row=2, values_only=True))
    assert meanings["ci_low"] == "Lower end of the 95% confidence interval"


def test_the_responses_workbook_has_real_date_time_cells_in_vietnam_time(
    client: FlaskClient, session: Session, province: SmallProvince
):
    _sign_in(client, session, "chief.times")
    url = "/reports/sector/administrative/responses"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{url}.xlsx?period=2025-Q1").data))
    sheet = book["responses"]
    header = [cell.value for cell in sheet[1]]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    times = [sheet.cell(row=r, column=header.index("submitted_at") + 1) for r in range(2, 42)]
    assert all(cell.is_date and isinstance(cell.value, dt.datetime) for cell in times)
    assert all(cell.number_format == "dd/mm/yyyy hh:mm" for cell in times)
    assert {cell.value.time() for cell in times} == {dt.time(10, 15)}  # 03:15 UTC is 10:15 there
    assert "codebook" in book.sheetnames
    volume = sheet.cell(row=2, column=header.index("volume") + 1)
    assert volume.number_format == "#,##0"
    # The CSV keeps the plain values as before (UTF-8 with BOM, ISO times with their offset).
    text = client.get(f"{url}.csv?period=2025-Q1").data.decode("utf-8-sig")
    (first, *_rest) = csv.DictReader(io.StringIO(text))
    assert first["submitted_at"].endswith("10:15:00+0700")
