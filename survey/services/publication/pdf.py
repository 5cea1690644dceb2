"""The public report as an A4 PDF (fpdf2, DejaVu Sans for Vietnamese), from a
:class:`~survey.services.publication.suppression.PublicReport` only.

It is not the official report's PDF (survey/services/report_pdf.py) fed a public view: that one
prints every group's exact n and lists the service points below the minimum with their counts,
which is precisely what a public report must not show. This one prints what the public view holds
and nothing else: figures of published groups, "< N" and the reason for withheld ones.

The same data give the same bytes (fixed creation date, no "printed on" line), so the scheduled
``flask publish-report`` rewrites nothing when nothing changed.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from fpdf import FPDF
from fpdf.fonts import FontFace

from survey.formatting import number, percent, percent_range
from survey.services.periods import parse_period
from survey.services.publication.suppression import (
    PublicLine,
    PublicReport,
    count_text,
    withheld_text,
)
from survey.services.publication.texts import document_title, method_note, verdict_name
from survey.services.qr import FONT_DIR
from survey.services.report_charts import ReportCharts

WORDS = {
    "vi": {
        "period": "Kỳ báo cáo",
        "headline": "1. Kết quả chung",
        "sectors": "2. Theo lĩnh vực",
        "agencies": "3. Theo cơ quan, đơn vị",
        "points": "3. Theo điểm phục vụ",
        "trend": "4. Xu hướng theo quý",
        "coverage": "5. Điểm phục vụ chưa đủ phiếu",
        "method": "6. Ghi chú phương pháp",
        "unit": "Đơn vị",
        "quarter": "Quý",
        "share": "Tỷ lệ hài lòng",
        "ci": "KTC 95%",
        "target": "Mục tiêu",
        "verdict": "Kết luận",
        "change": "Thay đổi so với quý trước",
        "nothing": "Quý này có dưới {n} phiếu nên không công bố số liệu.",
        "coverage_text": "{count} điểm phục vụ có dưới {n} phiếu trong quý; số liệu của các điểm "
        "này không được báo cáo riêng:",
        "comparison": "So sánh giữa các cơ quan trong từng lĩnh vực",
        "ranks_withheld": "Bảng xếp hạng không được công bố vì có đơn vị không công bố số liệu.",
    },
    "en": {
        "period": "Period",
        "headline": "1. Overall result",
        "sectors": "2. By sector",
        "agencies": "3. By agency",
        "points": "3. By service point",
        "trend": "4. Trend by quarter",
        "coverage": "5. Service points with too few responses",
        "method": "6. Method note",
        "unit": "Unit",
        "quarter": "Quarter",
        "share": "Share satisfied",
        "ci": "95% CI",
        "target": "Target",
        "verdict": "Verdict",
        "change": "Change since the previous quarter",
        "nothing": "This quarter has fewer than {n} responses, so no figures are published.",
        "coverage_text": "{count} service points had fewer than {n} responses in the quarter; "
        "they are not reported on their own:",
        "comparison": "Comparison between agencies within each sector",
        "ranks_withheld": "The league table is not published because some units are withheld.",
    },
}


class _PublicPDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, f"{self.footer_text} — {self.page_no()}", align="C")


def render_public_pdf(report: PublicReport, charts: ReportCharts, language: str) -> bytes:
    """The public report in one language (``vi`` or ``en``)."""
    language = "vi" if language == "vi" else "en"
    words = WORDS[language]
    pdf = _PublicPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu Sans", "", str(FONT_DIR / "DejaVuSans.ttf"))  # the charts' text
    period = report.period_label(language)
    last_day = parse_period(report.period_key).last
    pdf.set_creation_date(dt.datetime.combine(last_day, dt.time(23, 59), tzinfo=dt.UTC))
    pdf.set_title(f"{document_title(language)} — {report.title(language)} — {period}")
    pdf.set_lang(language)
    pdf.footer_text = f"{report.title(language)} · {period}"
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()

    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 7, document_title(language), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(0, 7, report.title(language), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 7, f"{words['period']}: {period}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    _heading(pdf, words["headline"])
    if not report.published:
        _paragraph(pdf, words["nothing"].format(n=report.minimum))
    else:
        _paragraph(pdf, report.headline.summary(language, report.minimum))
        change = report.change_summary(language)
        _paragraph(
            pdf, f"{words['change']}: {change}" if change else report.no_change_reason(language)
        )

    if report.published and report.sectors:
        _heading(pdf, words["sectors"])
        _table(pdf, report.sectors, report, language, words["unit"])
        if charts.sectors:
            _chart(pdf, charts.sectors)
        comparisons = report.comparison_texts(language)
        if comparisons:
            pdf.set_font("DejaVu", "B", 10)
            pdf.multi_cell(0, 6, words["comparison"], new_x="LMARGIN", new_y="NEXT")
            for sentence in comparisons:
                _paragraph(pdf, "• " + sentence, size=9)

    units = report.points or report.agencies
    if report.published and units:
        _heading(pdf, words["points"] if report.points else words["agencies"])
        _table(pdf, units, report, language, words["unit"])
        if report.ranks_withheld:
            _paragraph(pdf, words["ranks_withheld"], size=9)

    if report.trend:
        _heading(pdf, words["trend"])
        if charts.trend:
            _chart(pdf, charts.trend)
        _table(pdf, report.trend, report, language, words["quarter"])

    if report.coverage:
        _heading(pdf, words["coverage"])
        _paragraph(
            pdf,
            words["coverage_text"].format(
                count=number(len(report.coverage), language), n=report.minimum
            ),
            size=9,
        )
        for point in report.coverage:
            _paragraph(pdf, f"• {point.name(language)}: n < {report.minimum}", size=8, height=4.5)

    _heading(pdf, words["method"])
    for paragraph in method_note(report, language):
        _paragraph(pdf, paragraph, size=9)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)


def _paragraph(pdf: FPDF, text: str, size: float = 10, height: float = 5.5) -> None:
    pdf.set_font("DejaVu", "", size)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _cells(line: PublicLine, report: PublicReport, language: str) -> list[str]:
    """Share, interval, target and verdict of one line (withheld: the reason in the first)."""
    target = "—"
    if line.target_low is not None:
        target = percent(line.target_low, language, 0)
        if line.target_high is not None:
            target = percent_range(line.target_low, line.target_high, language, 0)
    e = line.estimate
    if e is None:
        return [withheld_text(line.suppressed, report.minimum, language), "", target, ""]
    if e.estimate is None:
        return ["—", "—", target, verdict_name(e.status, language)]
    verdict = verdict_name(line.verdict.verdict, language) if line.verdict else ""
    return [
        percent(e.estimate, language),
        percent_range(e.ci_low, e.ci_high, language),
        target,
        verdict,
    ]


def _table(
    pdf: FPDF, lines: list[PublicLine], report: PublicReport, language: str, first: str
) -> None:
    words = WORDS[language]
    pdf.set_font("DejaVu", "", 8)
    headings = FontFace(emphasis="BOLD", fill_color=(225, 232, 240))
    with pdf.table(
        col_widths=(64, 16, 22, 30, 20, 38),
        headings_style=headings,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
    ) as table:
        table.row([first, "n", words["share"], words["ci"], words["target"], words["verdict"]])
        for line in lines:
            share, ci, target, verdict = _cells(line, report, language)
            n = count_text(line, report.minimum)
            if line.n is not None:
                n = number(line.n, language)
            row = table.row()
            row.cell(line.name(language))
            row.cell(n)
            if line.estimate is None:
                row.cell(share, colspan=2, align="LEFT")
            else:
                row.cell(share)
                row.cell(ci)
            row.cell(target)
            row.cell(verdict)
    pdf.ln(3)


def _svg_aspect(svg: str) -> float:
    """Height over width of a matplotlib SVG (its width/height attributes are in points)."""
    width = re.search(r'width="([\d.]+)pt"', svg)
    height = re.search(r'height="([\d.]+)pt"', svg)
    if not width or not height:
        return 0.5
    return float(height.group(1)) / float(width.group(1))


def _chart(pdf: FPDF, svg: str) -> None:
    """A chart at most the text width (16 cm) wide, on a new page when it does not fit."""
    available = pdf.h - pdf.b_margin - pdf.t_margin
    width = 160.0
    height = width * _svg_aspect(svg)
    if height > available:
        width, height = available / _svg_aspect(svg), available
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()
    svg = re.sub(r"<(title|desc)>.*?</\1>", "", svg, flags=re.S)
    pdf.image(io.BytesIO(svg.encode()), x=(pdf.w - width) / 2, y=pdf.get_y(), w=width, h=height)
    pdf.set_y(pdf.get_y() + height + 4)
