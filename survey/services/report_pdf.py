"""The printable report (fpdf2, DejaVu Sans for Vietnamese): cover, summary, charts, tables,
method note."""

from __future__ import annotations

import io
import re

from fpdf import FPDF
from fpdf.fonts import FontFace

from analysis.summaries import format_number, format_percent
from survey.services.local_time import today_in_vietnam
from survey.services.qr import FONT_DIR
from survey.services.report_charts import ReportCharts
from survey.services.reports import IndexLine, ScopeReport

TEXT = {
    "vi": {
        "kind": "BÁO CÁO KẾT QUẢ ĐO LƯỜNG SỰ HÀI LÒNG CỦA NGƯỜI DÂN, TỔ CHỨC",
        "scope": "Phạm vi",
        "period": "Kỳ báo cáo",
        "made": "Ngày lập",
        "responses": "Số phiếu hợp lệ",
        "summary": "1. Kết quả so với mục tiêu",
        "charts": "2. Biểu đồ",
        "tables": "3. Bảng số liệu",
        "method": "4. Ghi chú phương pháp",
        "unit": "Đơn vị",
        "share": "Tỷ lệ hài lòng",
        "ci": "KTC 95%",
        "verdict": "Kết luận",
        "coverage": "Điểm phục vụ chưa đủ phiếu để kết luận",
        "comparison": "So sánh giữa các đơn vị",
        "change": "Thay đổi so với kỳ trước",
        "none": "Chưa có phiếu nào trong kỳ này.",
        "page": "Trang",
    },
    "en": {
        "kind": "REPORT ON CITIZEN AND ORGANISATION SATISFACTION",
        "scope": "Scope",
        "period": "Period",
        "made": "Prepared on",
        "responses": "Valid responses",
        "summary": "1. Results against targets",
        "charts": "2. Charts",
        "tables": "3. Tables",
        "method": "4. Method note",
        "unit": "Unit",
        "share": "Share satisfied",
        "ci": "95% CI",
        "verdict": "Verdict",
        "coverage": "Service points with too few responses to conclude",
        "comparison": "Comparison between units",
        "change": "Change since the previous period",
        "none": "No responses in this period.",
        "page": "Page",
    },
}
VERDICTS = {
    "vi": {
        "met": "Đạt",
        "not_met": "Chưa đạt",
        "undetermined": "Chưa kết luận được",
        "within_band": "Trong khoảng",
        "above_band": "Cao hơn khoảng",
        "below_band": "Thấp hơn khoảng",
    },
    "en": {
        "met": "Met",
        "not_met": "Not met",
        "undetermined": "Not yet distinguishable",
        "within_band": "Within band",
        "above_band": "Above band",
        "below_band": "Below band",
    },
}


def method_note(report: ScopeReport, language: str) -> str:
    if language == "vi":
        text = (
            "Chỉ số chính là tỷ lệ người trả lời hài lòng (mức 4 hoặc 5 trên thang 5 mức) với câu "
            "hỏi hài lòng chung. Thiết kế mẫu tại quầy: mỗi điểm phục vụ trong mỗi quý là một "
            "tầng, "
            "người trả lời là mẫu ngẫu nhiên đơn giản của người được phục vụ, số lượt phục vụ là "
            "quy mô tổng thể; trọng số = số lượt phục vụ / số phiếu. Phương sai ước lượng bằng "
            "tuyến tính hóa Taylor (như gói survey của R); khoảng tin cậy 95% theo phương pháp "
            "logit với phân phối t theo bậc tự do của thiết kế; nhóm mà mọi người đều hài lòng "
            "(hoặc không ai hài lòng) dùng khoảng Korn–Graubard trên cỡ mẫu hiệu dụng. Kết luận "
            "so với mục tiêu: “đạt” khi cả khoảng tin cậy cao hơn mục tiêu, “chưa đạt” khi thấp "
            "hơn, còn lại là chưa kết luận được; giá trị p đi kèm là p một phía, tính từ chính "
            "khoảng tin cậy đó. Số phiếu cần thêm để kết luận được tính với giả định tỷ lệ hiện "
            "tại là đúng (xác suất kết luận 80%), không vượt quá số người được phục vụ chưa được "
            "khảo sát. Mức thay đổi so với kỳ trước là kỳ này trừ kỳ trước, kèm khoảng tin cậy "
            "của chính hiệu đó, và chỉ được báo cáo khi cả hai kỳ có ít nhất "
            f"{report.min_n} phiếu. Chỉ báo cáo số liệu khi có ít nhất "
            f"{report.min_n} phiếu. Chỉ số thành phần là tỷ lệ câu trả lời hài lòng trên các câu "
            "trả lời hợp lệ của từng nhóm tiêu chí; “không áp dụng” không tính vào mẫu số. Dữ liệu "
            "QR và kiosk là tự nguyện tham gia, không phải mẫu xác suất. Tầng chỉ có một phiếu "
            "(không ước lượng được phương sai trong tầng) được xử lý như tùy chọn "
            'survey.lonely.psu = "adjust" của R: độ lệch của tầng so với trung bình chung '
            "được tính vào phương sai, để khoảng tin cậy không bị hẹp đi."
        )
    else:
        text = (
            "The headline index is the share of respondents satisfied (4 or 5 on the five-point "
            "scale) on the overall question. Counter design: each service point in each quarter "
            "is a stratum, respondents a simple random sample of the citizens served, the service "
            "volume the population size; weights = volume / responses. Variances by Taylor "
            "linearisation (as R's survey package); 95% intervals on the logit scale with t on "
            "the design's degrees of freedom; a group where everyone (or no one) is satisfied gets "
            "a Korn–Graubard interval on the effective sample size. Against a target: “met” when "
            "the whole interval is above it, “not met” when below, otherwise not yet "
            "distinguishable; the p-value beside a verdict is one-sided and comes from that same "
            "interval. The responses still needed to decide assume the current share is the "
            "truth (80% chance of deciding) and never exceed the citizens served who were not "
            "surveyed. The change since the previous period is this period minus the previous "
            "one, with the interval of that difference, shown only when both periods have at "
            f"least {report.min_n} responses. Figures are shown only from {report.min_n} "
            "responses. Element "
            "indices are the share of satisfied answers among valid answers of each element; "
            "“not applicable” is left out of the denominator. QR and kiosk data are self-selected, "
            "not a probability sample. A stratum with a single response (no within-stratum "
            'variance to estimate) is treated as R\'s survey.lonely.psu = "adjust": its '
            "deviation from the overall mean counts in the variance, so that the interval is not "
            "made narrower."
        )
    if report.volume_note:
        text += " " + report.volume_note
    return text


class _ReportPDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, f"{self.footer_text} — {self.page_no()}", align="C")


def _percent_cells(line: IndexLine, language: str) -> tuple[str, str]:
    e = line.estimate
    if e.status != "ok" or e.estimate is None:
        return ("—", "—")
    ci = "—"
    if e.ci_low is not None and e.ci_high is not None:
        ci = (
            f"{format_number(100 * e.ci_low, 1, language)}–"
            f"{format_number(100 * e.ci_high, 1, language)}"
        )
    return format_percent(e.estimate, language), ci


def render_pdf(
    report: ScopeReport, charts: ReportCharts, language: str, progress: list[str] | None = None
) -> bytes:
    words = TEXT[language]
    pdf = _ReportPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu Sans", "", str(FONT_DIR / "DejaVuSans.ttf"))  # the charts' text
    pdf.set_title(f"{words['kind']} — {report.title(language)}")
    pdf.footer_text = f"{report.title(language)} · {report.period.label(language)}"
    pdf.set_auto_page_break(True, margin=16)

    # Cover
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.ln(40)
    pdf.multi_cell(0, 9, words["kind"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("DejaVu", "", 12)
    for label, value in (
        (words["scope"], report.title(language)),
        (words["period"], report.period.label(language)),
        (
            words["responses"],
            f"{report.responses:,}".replace(",", ".")
            if language == "vi"
            else f"{report.responses:,}",
        ),
        (words["made"], today_in_vietnam().strftime("%d/%m/%Y")),
    ):
        pdf.multi_cell(0, 8, f"{label}: {value}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(
        0, 6, report.headline.summary(language, report.min_n), new_x="LMARGIN", new_y="NEXT"
    )

    # Summary against targets
    pdf.add_page()
    _heading(pdf, words["summary"])
    if report.responses == 0:
        pdf.multi_cell(0, 6, words["none"], new_x="LMARGIN", new_y="NEXT")
    for line in [report.headline, *report.sectors]:
        pdf.multi_cell(
            0, 6, "• " + line.summary(language, report.min_n), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(1)
    change = report.change_summary(language)
    if change:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 6, words["change"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 6, change, new_x="LMARGIN", new_y="NEXT")
    comparisons = report.comparison_summaries(language)
    if comparisons:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 6, words["comparison"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        for sentence in comparisons:
            pdf.multi_cell(0, 6, "• " + sentence, new_x="LMARGIN", new_y="NEXT")
    if progress is not None:
        progress.append("summary")

    # Charts
    images = [svg for svg in (charts.sectors, charts.trend, charts.comparison) if svg]
    images += list(charts.distributions.values())
    if images:
        pdf.add_page()
        _heading(pdf, words["charts"])
        for svg in images:
            _chart(pdf, svg)
    if progress is not None:
        progress.append("charts")

    # Tables
    pdf.add_page()
    _heading(pdf, words["tables"])
    lines = report.points if report.scope_kind == "agency" else report.agencies
    for group in (report.sectors, lines, report.quarters):
        if group:
            _table(pdf, group, language, report.min_n)
            pdf.ln(4)
    if report.coverage:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(
            0, 6, f"{words['coverage']} (n < {report.min_n})", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("DejaVu", "", 9)
        for point in report.coverage[:60]:
            agency = point.agency_vi if language == "vi" else point.agency_en
            desk = point.point_vi if language == "vi" else point.point_en
            pdf.multi_cell(
                0, 5, f"• {agency} — {desk}: n = {point.responses}", new_x="LMARGIN", new_y="NEXT"
            )
    if progress is not None:
        progress.append("tables")

    # Method
    pdf.ln(4)
    _heading(pdf, words["method"])
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, method_note(report, language), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font("DejaVu", "", 10)


def _svg_aspect(svg: str) -> float:
    """Height over width of a matplotlib SVG (its width/height attributes are in points)."""
    width = re.search(r'width="([\d.]+)pt"', svg)
    height = re.search(r'height="([\d.]+)pt"', svg)
    if not width or not height:
        return 0.5
    return float(height.group(1)) / float(width.group(1))


def _chart(pdf: FPDF, svg: str) -> None:
    """Place a chart at full text width, or shrink it to fit one page; new page when needed."""
    available = pdf.h - pdf.b_margin - pdf.t_margin
    width = 180.0
    height = width * _svg_aspect(svg)
    if height > available:
        width, height = available / _svg_aspect(svg), available
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()
    svg = re.sub(r"<(title|desc)>.*?</\1>", "", svg, flags=re.S)  # fpdf2 has no use for them
    pdf.image(io.BytesIO(svg.encode()), x=(pdf.w - width) / 2, y=pdf.get_y(), w=width, h=height)
    pdf.set_y(pdf.get_y() + height + 4)


def _table(pdf: FPDF, lines: list[IndexLine], language: str, min_n: int) -> None:
    words = TEXT[language]
    verdicts = VERDICTS[language]
    pdf.set_font("DejaVu", "", 8)
    headings = FontFace(emphasis="BOLD", fill_color=(225, 232, 240))
    with pdf.table(
        col_widths=(70, 14, 24, 30, 42),
        headings_style=headings,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
    ) as table:
        table.row([words["unit"], "n", words["share"], words["ci"], words["verdict"]])
        for line in lines:
            share, ci = _percent_cells(line, language)
            verdict = ""
            if line.estimate.status == "insufficient_data":
                verdict = (
                    "Chưa đủ phiếu (n < {})" if language == "vi" else "Too few responses (n < {})"
                ).format(min_n)
            elif line.verdict is not None:
                verdict = verdicts.get(line.verdict.verdict, line.verdict.verdict)
            table.row([line.name(language), str(line.estimate.n), share, ci, verdict])
