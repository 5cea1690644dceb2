"""Filed reports (survey/services/filing): the administrative layout of Decree 30/2020/NĐ-CP in the
PDF's text layer, chart text of at least 8 pt on A4, and the Word document holding the same tables
as the PDF and the indices export."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from survey.formatting import long_day, number, percent, percent_range
from survey.services.demo import load_demo_province
from survey.services.filing import default_details, file_report, pdf_report, word_report
from survey.services.filing.details import FilingDetails, initials, unprintable
from survey.services.filing.document import build_document
from survey.services.filing.layout import (
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MIN_CHART_TEXT_PT,
    TEXT_WIDTH_MM,
)
from survey.services.filing.pdf import render_pdf
from survey.services.filing.print_charts import placement_mm, print_charts
from survey.services.filing.word import render_docx
from survey.services.periods import parse_period
from survey.services.report_exports import indices_table
from survey.services.reporting import build_report

PT_PER_MM = 72 / 25.4
SIGNER = "Nguyễn Thị Hồng Nhung"


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo_province(session)
    return session


def _details(report, session: Session, language: str = "vi") -> FilingDetails:
    return dataclasses.replace(
        default_details(session, report, language, today=dt.date(2026, 2, 5)),
        number="15",
        authority="KT. GIÁM ĐỐC",
        signer_title="PHÓ GIÁM ĐỐC",
        signer_name=SIGNER,
    )


def _pdftotext(body: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (Debian poppler-utils) is needed to read the PDF's text layer")
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    found = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return found.stdout.decode()


def test_the_pdf_has_the_administrative_header_closing_and_sections(demo: Session, tmp_path: Path):
    report = build_report(demo, parse_period("2025"), "sector", "administrative", cache=None)
    body = file_report(demo, report, "vi", _details(report, demo), "pdf").body
    text = _pdftotext(body, tmp_path)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND TỈNH ĐIỆN BIÊN",  # the governing body: the province's People's Committee
        "SỞ NỘI VỤ",  # the issuing body: its Department of Home Affairs
        "Số: 15/BC-SNV",
        "Điện Biên, ngày 05 tháng 02 năm 2026",  # Decree 30 writes 05 and 02
        "BÁO CÁO",
        "Nơi nhận:",
        "- Lưu: VT, SNV.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        SIGNER,
        "1. Kết quả so với mục tiêu",
        "Bảng 1. Chỉ số hài lòng theo lĩnh vực",
        "Hình 1.",
        "Ý kiến của người dân, tổ chức",
        "Số ý kiến theo chủ đề",
        "Ghi chú phương pháp",
    ):
        assert expected in text, expected
    assert text.index("Nơi nhận:") > text.index("Ghi chú phương pháp")  # the closing is last
    reader = PdfReader(io.BytesIO(body))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("LiberationSerifBold" in font for font in fonts)
    assert any("LiberationSerifItalic" in font for font in fonts)


def _printed_text(body: bytes) -> list[tuple[str, float, float, int]]:
    """(text, printed size in pt, x in pt, page) of every piece of text in the PDF."""
    found: list[tuple[str, float, float, int]] = []
    for number_, page in enumerate(PdfReader(io.BytesIO(body)).pages, start=1):

        def visit(text, cm, tm, _font, size, page_number=number_):
            if not text.strip():
                return
            a, b, c, d, e, f = tm
            ca, cb, cc, cd, ce, _cf = cm
            # the text matrix times the graphics matrix (row vectors, as in PDF)
            m = (a * ca + b * cc, a * cb + b * cd, c * ca + d * cc, c * cb + d * cd)
            x = e * ca + f * cc + ce
            printed = size * (m[2] ** 2 + m[3] ** 2) ** 0.5
            found.append((text, printed, x, page_number))

        page.extract_text(visitor_text=visit)
    return found


def test_every_printed_text_is_8_pt_or_more_and_inside_the_margins(demo: Session):
    """The PDF read back: no text (charts included) prints below 8 pt, the body is 13 pt, and
    nothing starts left of the 30 mm margin."""
    report = build_report(demo, parse_period("2025"), "province", "", cache=None)
    body = pdf_report(report, "vi", _details(report, demo))
    pieces = _printed_text(body)
    assert min(size for _text, size, _x, _page in pieces) >= MIN_CHART_TEXT_PT - 0.05
    body_sizes = {round(size, 1) for text, size, _x, _page in pieces if "Phạm vi:" in text}
    assert body_sizes == {13.0}  # the body (Decree 30: 13–14 pt)
    titles = {round(size, 1) for text, size, _x, _page in pieces if "BÁO CÁO" in text}
    assert titles == {14.0}
    left = MARGIN_LEFT_MM * PT_PER_MM
    assert min(x for _text, _size, x, _page in pieces) >= left - 1
    assert max(x for _text, _size, x, _page in pieces) <= (210 - MARGIN_RIGHT_MM) * PT_PER_MM


def _smallest_printed_pt(svg: str, placed_width_mm: float) -> float:
    """Computed from the SVG itself: its smallest font size (user units) × placed width / the
    drawing's width (user units), in points."""
    root = ET.fromstring(svg)  # noqa: S314  (our own chart, not outside input)
    drawing_width = float(root.attrib["viewBox"].split()[2])
    sizes = [
        float(re.sub(r"[a-z]+$", "", element.attrib["font-size"]))
        for element in root.iter()
        if "font-size" in element.attrib
    ]
    assert sizes, "a chart without text"
    return min(sizes) * placed_width_mm * PT_PER_MM / drawing_width


def test_chart_text_prints_at_8_pt_or_more_on_a4(demo: Session):
    """Every chart of the province's report (75 agencies: the comparison chart is split), placed
    at its printed width, has no text under 8 pt; long charts are split, not shrunk."""
    report = build_report(demo, parse_period("2025"), "province", "", cache=None)
    charts = print_charts(report, "vi")
    assert len(charts) >= 5
    assert max(chart.parts for chart in charts) > 1  # the agencies' chart is split
    for chart in charts:
        width, _height = placement_mm(chart.svg)
        assert width == pytest.approx(TEXT_WIDTH_MM)  # full text width: none shrunk to fit
        assert _smallest_printed_pt(chart.svg, width) >= MIN_CHART_TEXT_PT, chart.title


def _docx_tables(body: bytes) -> list[list[list[str]]]:
    document = docx.Document(io.BytesIO(body))
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


def test_the_word_document_holds_the_same_tables_as_the_pdf_and_the_indices_export(
    demo: Session, tmp_path: Path
):
    report = build_report(demo, parse_period("2025-Q3"), "sector", "health", cache=None)
    details = _details(report, demo)
    charts = print_charts(report, "vi", raster=True)
    filed = build_document(report, details, "vi", charts)
    body = render_docx(filed)
    document = docx.Document(io.BytesIO(body))
    tables = _docx_tables(body)

    header, *data, closing = tables  # borderless layout tables around the data tables
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header[0][1]
    assert "Độc lập - Tự do - Hạnh phúc" in header[0][1]
    assert "Số: 15/BC-SNV" in header[0][0] and "SỞ NỘI VỤ" in header[0][0]
    assert "Nơi nhận:" in closing[0][0] and SIGNER in closing[0][1]
    assert "KT. GIÁM ĐỐC" in closing[0][1]

    expected = filed.tables()
    assert len(data) == len(expected)
    for table, model in zip(data, expected, strict=True):
        assert table[0] == list(model.header)
        assert [tuple(row) for row in table[1:]] == list(model.rows)
    for table in document.tables[1:-1]:  # the header row repeats on every page
        assert table.rows[0]._tr.xpath("./w:trPr/w:tblHeader")
    assert len(document.inline_shapes) == len(charts)

    pdf_text = _pdftotext(render_pdf(filed), tmp_path)
    for model in expected:
        for row in model.rows:
            for cell in row:
                assert " ".join(cell.split()) in " ".join(pdf_text.split()), cell

    by_name = {row[0]: row for row in data[1][1:]}  # the agencies' table
    indices = indices_table(report, "vi")
    agencies = indices[indices["level"] == "agency"]
    assert len(by_name) == len(agencies)
    for record in agencies.itertuples():
        row = by_name[record.name]
        assert row[1] == number(record.n, "vi")
        if record.status == "ok":
            assert row[2] == percent(record.estimate, "vi")
            assert row[3] == percent_range(record.ci_low, record.ci_high, "vi")


def test_the_english_version_keeps_the_structure_in_english(demo: Session, tmp_path: Path):
    report = build_report(demo, parse_period("2025-Q4"), "sector", "education", cache=None)
    details = dataclasses.replace(
        default_details(demo, report, "en", today=dt.date(2026, 12, 5)), signer_name="Lo Van Binh"
    )
    body = pdf_report(report, "en", details)
    text = " ".join(_pdftotext(body, tmp_path).split())  # lines wrap in the narrow columns
    for expected in (
        "SOCIALIST REPUBLIC OF VIET NAM",
        "Independence - Freedom - Happiness",
        "PEOPLE'S COMMITTEE OF ĐIỆN BIÊN PROVINCE",  # English names keep their diacritics
        "DEPARTMENT OF HOME AFFAIRS",
        "No.:",
        "Điện Biên, 5 December 2026",
        "REPORT",
        "Recipients:",
        "Lo Van Binh",
        "Method note",
        "the Vietnamese version is the document that is",
    ):
        assert expected in text, expected
    assert body.startswith(b"%PDF")
    tables = _docx_tables(word_report(report, "en", details))
    assert tables[1][0][:3] == ["Sector", "n", "Share satisfied"]


def test_defaults_come_from_the_province_and_text_the_font_cannot_print_is_found(
    demo: Session,
):
    report = build_report(demo, parse_period("2025"), "province", "", cache=None)
    details = default_details(demo, report, "vi", today=dt.date(2026, 12, 5))
    assert details.issuing_body == "SỞ NỘI VỤ" and details.governing_body == "UBND TỈNH ĐIỆN BIÊN"
    assert details.place == "Điện Biên" and details.symbol == "BC-SNV" and details.number == ""
    assert details.number_line("vi").startswith("Số: ") and details.number_line("vi").endswith(
        "/BC-SNV"
    )
    assert details.recipient_lines("vi")[-1] == "- Lưu: VT, SNV."
    assert all(line.endswith(";") for line in details.recipient_lines("vi")[:-1])
    assert initials("Sở Lao động – Thương binh và Xã hội") == "SLDTBV"  # at most six letters
    assert unprintable("Sở Nội vụ, “Điện Biên” – ≥ 80%") == set()
    assert unprintable("a\x00b😀") == {"\ufffd", "😀"}
    # Without a session (the public report's compatibility path): no organisation names.
    blank = default_details(None, report, "vi", today=dt.date(2026, 1, 9))
    assert blank.issuing_body == "" and blank.place == ""


@pytest.mark.parametrize(
    ("day", "vi", "en"),
    [
        (dt.date(2026, 12, 5), "ngày 05 tháng 12 năm 2026", "5 December 2026"),
        (dt.date(2026, 2, 15), "ngày 15 tháng 02 năm 2026", "15 February 2026"),
        (dt.date(2026, 3, 1), "ngày 01 tháng 3 năm 2026", "1 March 2026"),
    ],
)
def test_the_place_date_line_follows_decree_30(day: dt.date, vi: str, en: str):
    assert long_day(day, "vi") == vi
    assert long_day(day, "en") == en


PPR_ORDER = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
    "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
    "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
    "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle",
    "rPr", "sectPr", "pPrChange",
)  # fmt: skip
TCPR_ORDER = (
    "cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
    "textDirection", "tcFitText", "vAlign", "hideMark",
)  # fmt: skip


def _in_schema_order(element, order: tuple[str, ...]) -> bool:
    names = [child.tag.rsplit("}", 1)[1] for child in element]
    positions = [order.index(name) for name in names]
    return positions == sorted(positions)


def _small_report(session: Session, seeded):
    from survey.services.questionnaires import open_service_point
    from survey.services.responses import submit_response

    for point in (seeded.desk, seeded.counter):
        found, questionnaire = open_service_point(session, point.public_code)
        for i in range(35):
            submit_response(
                session,
                point=found,
                questionnaire=questionnaire,
                answers={item.code: (2, 4, 5)[i % 3] for item in questionnaire.items},
                idempotency_key=f"small-{point.public_code}-{i:06d}",
                channel="qr",
                comment="Cán bộ nhiệt tình nhưng chờ lâu 😀" if i % 5 == 0 else None,
                submitted_at=dt.datetime(2025, 3, 1 + i % 28, 3, tzinfo=dt.UTC),
            )
    return build_report(session, parse_period("2025-Q1"), cache=None)


def test_the_word_file_keeps_the_schemas_element_order(session: Session, seeded):
    """Word refuses a file whose properties are out of the schema's order; the borders, rules
    and shading added by hand must sit where the schema puts them."""
    report = _small_report(session, seeded)
    body = word_report(report, "vi", _details(report, session))
    document = docx.Document(io.BytesIO(body))
    body_xml = document.element.body
    paragraphs = body_xml.xpath(".//w:pPr")
    assert any(p.xpath("./w:pBdr") for p in paragraphs)  # the rules under the header lines
    assert all(_in_schema_order(p, PPR_ORDER) for p in paragraphs)
    cells = body_xml.xpath(".//w:tcPr")
    assert any(c.xpath("./w:shd") for c in cells)
    assert all(_in_schema_order(c, TCPR_ORDER) for c in cells)


def test_a_report_without_comments_has_no_comments_section_and_the_old_entry_point_works(
    session: Session, seeded, tmp_path: Path
):
    """The public report removes comments and calls the renderer it always called
    (survey/services/report_pdf.render_pdf): no comment and no comments section, no names the
    office did not give, and emoji the font cannot print are left out of quoted comments."""
    from survey.services import report_pdf
    from survey.services.report_charts import charts_for

    report = _small_report(session, seeded)
    filed = pdf_report(report, "vi", _details(report, session))
    text = " ".join(_pdftotext(filed, tmp_path).split())
    assert "Cán bộ nhiệt tình nhưng chờ lâu" in text and "😀" not in text
    public = dataclasses.replace(report, comments=[])
    body = report_pdf.render_pdf(public, charts_for(public, "vi"), "vi")
    text = " ".join(_pdftotext(body, tmp_path).split())
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Ghi chú phương pháp" in text
    assert "Cán bộ nhiệt tình" not in text and "Ý kiến của người dân" not in text
    assert "4. Ghi chú phương pháp" in text  # the sections are renumbered


def test_pages_pdf_word_and_public_report_name_verdicts_with_one_vocabulary() -> None:
    """The web page (the ``verdict`` filter), the filed report and the public report read the
    verdict words from one table: "Within the band" everywhere, never "Within band"."""
    from survey.services.filing import wording
    from survey.services.publication import texts
    from survey.services.reporting.present import VERDICT_NAMES, verdict_name
    from survey.templating import verdict_word

    for language in ("vi", "en"):
        for verdict, word in VERDICT_NAMES[language].items():
            assert verdict_name(verdict, language) == word
            assert verdict_word(verdict, language) == word
            assert texts.verdict_name(verdict, language) == word
            assert wording.VERDICTS[language][verdict] == word
    assert verdict_name("within_band", "en") == "Within the band"
    assert verdict_name("within_band", "vi") == "Trong khoảng mục tiêu"
