"""The filed report as PDF (fpdf2), in the layout of Decree 30/2020/NĐ-CP, Appendix I.

Top block in two columns: the issuing body (governing body above, issuing body below in bold,
a short rule under it) and the document number on the left; the national title, the motto (with a
rule as long as it) and, on the number's line, the place and date in italics on the right. Then
the document type and the title, centred and bold; the body (13 pt, justified, first lines
indented); and at the end the recipients (left) and the signature block (right). A4 with the
decree's margins; page numbers centred in the top margin from page 2. Liberation Serif (metrically
Times New Roman, full Vietnamese coverage, SIL Open Font License) is embedded; the charts keep
their DejaVu Sans.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from fpdf import FPDF
from fpdf.enums import Align
from fpdf.fonts import FontFace

from survey.services.filing.document import Figure, FiledDocument, Heading, Paragraph, Table
from survey.services.filing.layout import (
    BODY_PT,
    CAPTION_PT,
    FIRST_LINE_INDENT_MM,
    FONT_DIR,
    HEADER_PT,
    LEFT_COLUMN_MM,
    MARGIN_BOTTOM_MM,
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MARGIN_TOP_MM,
    MOTTO_PT,
    PAGE_NUMBER_PT,
    PARAGRAPH_AFTER_PT,
    RECIPIENTS_LABEL_PT,
    RECIPIENTS_PT,
    RIGHT_COLUMN_MM,
    SERIF,
    SERIF_FILES,
    SIGNATURE_PT,
    TABLE_PT,
    TEXT_WIDTH_MM,
    TITLE_PT,
)
from survey.services.filing.print_charts import placement_mm
from survey.services.qr import FONT_DIR as CHART_FONT_DIR

MM_PER_PT = 25.4 / 72
LINE = 1.25  # line height as a multiple of the font size
SIGNATURE_SPACE_MM = 28.0  # room for the signature and the seal
CLOSING_LEFT_MM = 80.0


def _line_mm(points: float) -> float:
    return points * MM_PER_PT * LINE


class _FiledPDF(FPDF):
    def header(self) -> None:
        """Page numbers centred in the top margin, from the second page (Decree 30)."""
        if self.page_no() > 1:
            self.set_font(SERIF, "", PAGE_NUMBER_PT)
            self.set_xy(self.l_margin, 9)
            self.cell(self.epw, _line_mm(PAGE_NUMBER_PT), str(self.page_no()), align="C")
        self.set_y(self.t_margin)


def _new_pdf(title: str) -> _FiledPDF:
    pdf = _FiledPDF(orientation="P", unit="mm", format="A4")
    for style, filename in SERIF_FILES.items():
        pdf.add_font(SERIF, style, str(FONT_DIR / filename))
    pdf.add_font("DejaVu Sans", "", str(CHART_FONT_DIR / "DejaVuSans.ttf"))  # the charts' text
    pdf.add_font("DejaVu Sans", "B", str(CHART_FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(MARGIN_LEFT_MM, MARGIN_TOP_MM, MARGIN_RIGHT_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM_MM)
    pdf.set_title(title)
    pdf.set_creator("citizen-satisfaction")
    pdf.set_lang("vi")
    return pdf


def _centred_lines(pdf: FPDF, x: float, width: float, text: str, style: str, size: float) -> float:
    """Text centred in a column (wrapped); returns the width of its widest line."""
    pdf.set_font(SERIF, style, size)
    found = pdf.multi_cell(width, _line_mm(size), text, align="C", dry_run=True, output="LINES")
    lines = [str(line) for line in found] if isinstance(found, list) else [text]
    for line in lines:
        pdf.set_x(x)
        pdf.cell(width, _line_mm(size), line, align="C", new_x="LMARGIN", new_y="NEXT")
    return max((pdf.get_string_width(line) for line in lines), default=0.0)


def _rule(pdf: FPDF, x: float, width: float, length: float) -> None:
    """A thin solid rule of ``length`` centred in a column, just under the current line."""
    y = pdf.get_y() + 0.9
    pdf.set_line_width(0.3)
    pdf.line(x + (width - length) / 2, y, x + (width + length) / 2, y)
    pdf.set_y(y + 0.6)


def _top_block(pdf: FPDF, document: FiledDocument) -> None:
    left, right = pdf.l_margin, pdf.l_margin + LEFT_COLUMN_MM
    top = pdf.get_y()
    if document.governing_body:
        _centred_lines(pdf, left, LEFT_COLUMN_MM, document.governing_body, "", HEADER_PT)
    issuing = _centred_lines(pdf, left, LEFT_COLUMN_MM, document.issuing_body, "B", HEADER_PT)
    if document.issuing_body:
        _rule(pdf, left, LEFT_COLUMN_MM, max(0.4 * issuing, 12.0))  # 1/3 to 1/2 of the line
    left_end = pdf.get_y()

    pdf.set_y(top)
    _centred_lines(pdf, right, RIGHT_COLUMN_MM, document.emblem, "B", HEADER_PT)
    motto = _centred_lines(pdf, right, RIGHT_COLUMN_MM, document.motto, "B", MOTTO_PT)
    _rule(pdf, right, RIGHT_COLUMN_MM, motto)  # as long as the motto
    row = max(left_end, pdf.get_y()) + 2.5

    pdf.set_y(row)
    _centred_lines(pdf, left, LEFT_COLUMN_MM, document.number_line, "", BODY_PT)
    number_end = pdf.get_y()
    pdf.set_y(row)
    _centred_lines(pdf, right, RIGHT_COLUMN_MM, document.place_date, "I", BODY_PT)
    pdf.set_y(max(number_end, pdf.get_y()) + 8)


def _title(pdf: FPDF, document: FiledDocument) -> None:
    x, width = pdf.l_margin, TEXT_WIDTH_MM
    _centred_lines(pdf, x, width, document.kind, "B", TITLE_PT)
    title = _centred_lines(pdf, x, width - 20, document.title, "B", TITLE_PT)
    _rule(pdf, x, width - 20, max(0.4 * title, 20.0))
    if document.translation_note:
        pdf.ln(1.5)
        _centred_lines(pdf, x, width, document.translation_note, "I", RECIPIENTS_PT)
    pdf.ln(6)


def _paragraph(pdf: FPDF, block: Paragraph) -> None:
    size = RECIPIENTS_PT if block.small else BODY_PT
    pdf.set_font(SERIF, "", size)
    text = f"- {block.text}" if block.bullet else block.text
    with (
        pdf.text_columns(text_align="J", line_height=LINE, skip_leading_spaces=True) as columns,
        columns.paragraph(
            first_line_indent=FIRST_LINE_INDENT_MM, bottom_margin=PARAGRAPH_AFTER_PT * MM_PER_PT
        ) as paragraph,
    ):
        paragraph.write(text)


def _heading(pdf: FPDF, block: Heading) -> None:
    if pdf.get_y() + 3 * _line_mm(BODY_PT) > pdf.h - pdf.b_margin:
        pdf.add_page()  # never a heading alone at the foot of a page
    pdf.ln(2)
    pdf.set_font(SERIF, "B", BODY_PT)
    pdf.set_x(pdf.l_margin + FIRST_LINE_INDENT_MM)
    pdf.multi_cell(
        TEXT_WIDTH_MM - FIRST_LINE_INDENT_MM,
        _line_mm(BODY_PT),
        block.text,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(PARAGRAPH_AFTER_PT * MM_PER_PT)


def _caption(pdf: FPDF, text: str) -> None:
    pdf.set_font(SERIF, "B", CAPTION_PT)
    pdf.multi_cell(0, _line_mm(CAPTION_PT), text, align="C", new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, block: Table) -> None:
    if pdf.get_y() + 4 * _line_mm(TABLE_PT) + _line_mm(CAPTION_PT) > pdf.h - pdf.b_margin:
        pdf.add_page()  # the caption stays with the table's first rows
    _caption(pdf, block.caption)
    pdf.ln(1)
    pdf.set_font(SERIF, "", TABLE_PT)
    aligns = tuple(Align.R if numeric else Align.L for numeric in block.numeric)
    with pdf.table(
        col_widths=tuple(share * TEXT_WIDTH_MM for share in block.widths),
        width=TEXT_WIDTH_MM,
        align=Align.L,  # at the left margin (fpdf2 centres on the page otherwise)
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        text_align=aligns,
        line_height=_line_mm(TABLE_PT),
        padding=(0.8, 1.2),
    ) as table:
        header = table.row()
        for cell in block.header:
            header.cell(cell, align=Align.C)
        for cells in block.rows:
            table.row(list(cells))
    pdf.ln(PARAGRAPH_AFTER_PT * MM_PER_PT + 1)


def _figure(pdf: FPDF, block: Figure) -> None:
    width, height = placement_mm(block.chart.svg)
    if pdf.get_y() + height + 2 * _line_mm(CAPTION_PT) > pdf.h - pdf.b_margin:
        pdf.add_page()
    svg = for_fpdf(block.chart.svg)
    x = pdf.l_margin + (TEXT_WIDTH_MM - width) / 2
    pdf.image(io.BytesIO(svg.encode()), x=x, y=pdf.get_y(), w=width, h=height)
    pdf.set_y(pdf.get_y() + height + 1.5)
    _caption(pdf, block.caption)
    pdf.ln(PARAGRAPH_AFTER_PT * MM_PER_PT + 1)


def for_fpdf(svg: str) -> str:
    """The chart as fpdf2 should draw it: without <title> and <desc> (it has no use for them),
    and with font sizes in user units ("9" for matplotlib's "9px"). In an SVG a px is a user
    unit, but fpdf2 reads it as 0.75 pt and would print the text a quarter smaller."""
    svg = re.sub(r"<(title|desc)>.*?</\1>", "", svg, flags=re.S)
    return re.sub(r'font-size="([\d.]+)px"', r'font-size="\1"', svg)


def _closing(pdf: FPDF, document: FiledDocument) -> None:
    """Recipients on the left, the signature block on the right, kept on one page."""
    recipients_height = _line_mm(RECIPIENTS_LABEL_PT) + len(document.recipients) * _line_mm(
        RECIPIENTS_PT
    )
    signature_height = 3 * _line_mm(SIGNATURE_PT) + SIGNATURE_SPACE_MM
    if pdf.get_y() + 6 + max(recipients_height, signature_height) > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    left = pdf.l_margin
    pdf.set_font(SERIF, "BI", RECIPIENTS_LABEL_PT)
    pdf.set_x(left)
    pdf.cell(CLOSING_LEFT_MM, _line_mm(RECIPIENTS_LABEL_PT), document.recipients_label)
    pdf.ln(_line_mm(RECIPIENTS_LABEL_PT))
    pdf.set_font(SERIF, "", RECIPIENTS_PT)
    for line in document.recipients:
        pdf.set_x(left)
        pdf.multi_cell(
            CLOSING_LEFT_MM - 4, _line_mm(RECIPIENTS_PT), line, new_x="LMARGIN", new_y="NEXT"
        )
    recipients_end = pdf.get_y()

    x, width = left + CLOSING_LEFT_MM, TEXT_WIDTH_MM - CLOSING_LEFT_MM
    pdf.set_y(top)
    for text in (document.authority, document.signer_title):
        if text:
            _centred_lines(pdf, x, width, text, "B", SIGNATURE_PT)
    pdf.set_y(pdf.get_y() + SIGNATURE_SPACE_MM)
    if document.signer_name:
        _centred_lines(pdf, x, width, document.signer_name, "B", SIGNATURE_PT)
    pdf.set_y(max(recipients_end, pdf.get_y()))


def render_pdf(document: FiledDocument, progress: Callable[[str], None] | None = None) -> bytes:
    """The document as PDF bytes; ``progress`` hears "header", "body" and "closing"."""
    pdf = _new_pdf(f"{document.kind} — {document.title}")
    pdf.add_page()
    _top_block(pdf, document)
    _title(pdf, document)
    if progress:
        progress("header")
    for block in document.blocks:
        if isinstance(block, Heading):
            _heading(pdf, block)
        elif isinstance(block, Paragraph):
            _paragraph(pdf, block)
        elif isinstance(block, Table):
            _table(pdf, block)
        else:
            _figure(pdf, block)
    if progress:
        progress("body")
    _closing(pdf, document)
    if progress:
        progress("closing")
    return bytes(pdf.output())
