"""The filed report as an editable Word document (python-docx), for offices that edit before
signing: the same header, title, sections, tables, charts and closing as the PDF.

The header block and the closing are borderless two-column tables (as offices lay them out by
hand); the data tables are real Word tables whose header row repeats on every page; the charts
are PNG pictures of the same matplotlib figures as the PDF's SVGs, placed at the same width; the
page, margins and type sizes are the PDF's (``layout.py``), in Times New Roman. Page numbers sit
in the header from the second page.
"""

from __future__ import annotations

import io
import re

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from survey.services.filing.document import Figure, FiledDocument, Heading, Paragraph, Table
from survey.services.filing.layout import (
    BODY_PT,
    CAPTION_PT,
    FIRST_LINE_INDENT_MM,
    HEADER_PT,
    LEFT_COLUMN_MM,
    MARGIN_BOTTOM_MM,
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MARGIN_TOP_MM,
    MOTTO_PT,
    PAGE_HEIGHT_MM,
    PAGE_NUMBER_PT,
    PAGE_WIDTH_MM,
    PARAGRAPH_AFTER_PT,
    RECIPIENTS_LABEL_PT,
    RECIPIENTS_PT,
    RIGHT_COLUMN_MM,
    SIGNATURE_PT,
    TABLE_PT,
    TEXT_WIDTH_MM,
    TITLE_PT,
    WORD_FONT,
)
from survey.services.filing.print_charts import placement_mm

# Elements that follow w:pBdr in w:pPr, and w:shd in w:tcPr (ECMA-376 part 1, 17.3.1.26, 17.4.70).
AFTER_BORDERS = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
AFTER_SHADING = (
    "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark",
    "w:headers", "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange",
)  # fmt: skip
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CLOSING_LEFT_MM = 80.0
SIGNATURE_LINES = 4  # empty lines left for the signature and the seal
MM_PER_PT = 25.4 / 72
# Characters XML 1.0 (and so Word) cannot hold: dropped rather than failing the whole file.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _font(run_or_style: object, size: float, bold: bool = False, italic: bool = False) -> None:
    font = run_or_style.font  # type: ignore[attr-defined]
    font.name = WORD_FONT
    font.size = Pt(size)
    font.bold = bold
    font.italic = italic


def _text(
    paragraph: DocxParagraph,
    text: str,
    size: float,
    *,
    bold: bool = False,
    italic: bool = False,
    centred: bool = True,
    after: float = 0.0,
) -> DocxParagraph:
    run = paragraph.add_run(NOT_IN_XML.sub("", text))
    _font(run, size, bold, italic)
    run.font.color.rgb = RGBColor(0, 0, 0)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
    paragraph.paragraph_format.space_after = Pt(after)
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.first_line_indent = Mm(0)
    return paragraph


def _first(cell: _Cell) -> DocxParagraph:
    """The cell's first (empty) paragraph, then new ones."""
    paragraph: DocxParagraph = cell.paragraphs[0]
    return paragraph if not paragraph.text and not paragraph.runs else cell.add_paragraph()


def _rule(paragraph: DocxParagraph, column_mm: float, length_mm: float) -> None:
    """Make ``paragraph`` (empty) a thin centred rule ``length_mm`` long: its top border, with
    indents that leave exactly that width."""
    side = Mm(max((column_mm - length_mm) / 2, 0))
    paragraph.paragraph_format.left_indent = side
    paragraph.paragraph_format.right_indent = side
    paragraph.paragraph_format.space_after = Pt(0)
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for name, value in (
        ("w:val", "single"),
        ("w:sz", "6"),
        ("w:space", "1"),
        ("w:color", "000000"),
    ):
        top.set(qn(name), value)
    borders.append(top)
    # In the schema's order (Word refuses a file whose paragraph properties are out of order).
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *AFTER_BORDERS)
    _font(paragraph.add_run(""), 4)


def _text_width_mm(text: str, size: float, bold: bool) -> float:
    """An estimate of a line's printed width (Times: about half an em per character)."""
    return len(text) * size * (0.52 if bold else 0.47) * MM_PER_PT


def _borderless(document: DocxDocument, widths: tuple[float, ...]) -> DocxTable:
    table: DocxTable = document.add_table(rows=1, cols=len(widths))  # "Normal Table": no borders
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, width in zip(table.rows[0].cells, widths, strict=True):
        cell.width = Mm(width)
    return table


def _top_block(document: DocxDocument, filed: FiledDocument) -> None:
    table = _borderless(document, (LEFT_COLUMN_MM, RIGHT_COLUMN_MM))
    left, right = table.rows[0].cells
    if filed.governing_body:
        _text(_first(left), filed.governing_body, HEADER_PT)
    _text(_first(left), filed.issuing_body, HEADER_PT, bold=True)
    if filed.issuing_body:
        longest = max(filed.issuing_body.splitlines() or [""], key=len)
        length = min(max(0.4 * _text_width_mm(longest, HEADER_PT, True), 12.0), LEFT_COLUMN_MM)
        _rule(left.add_paragraph(), LEFT_COLUMN_MM, length)
    _text(left.add_paragraph(), filed.number_line, BODY_PT)
    _text(_first(right), filed.emblem, HEADER_PT, bold=True)
    _text(right.add_paragraph(), filed.motto, MOTTO_PT, bold=True)
    motto = min(_text_width_mm(filed.motto, MOTTO_PT, True), RIGHT_COLUMN_MM)
    _rule(right.add_paragraph(), RIGHT_COLUMN_MM, motto)
    _text(right.add_paragraph(), filed.place_date, BODY_PT, italic=True)


def _title(document: DocxDocument, filed: FiledDocument) -> None:
    _text(document.add_paragraph(), "", BODY_PT)
    _text(document.add_paragraph(), filed.kind, TITLE_PT, bold=True)
    _text(document.add_paragraph(), filed.title, TITLE_PT, bold=True)
    _rule(document.add_paragraph(), TEXT_WIDTH_MM, 45.0)
    if filed.translation_note:
        _text(document.add_paragraph(), filed.translation_note, RECIPIENTS_PT, italic=True)
    _text(document.add_paragraph(), "", BODY_PT)


def _heading(document: DocxDocument, block: Heading) -> None:
    paragraph = _text(
        document.add_paragraph(),
        block.text,
        BODY_PT,
        bold=True,
        centred=False,
        after=PARAGRAPH_AFTER_PT,
    )
    paragraph.paragraph_format.first_line_indent = Mm(FIRST_LINE_INDENT_MM)
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.paragraph_format.keep_with_next = True


def _paragraph(document: DocxDocument, block: Paragraph) -> None:
    size = RECIPIENTS_PT if block.small else BODY_PT
    text = f"- {block.text}" if block.bullet else block.text
    paragraph = _text(document.add_paragraph(), text, size, centred=False, after=PARAGRAPH_AFTER_PT)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = Mm(FIRST_LINE_INDENT_MM)


def _repeat_header(row: object) -> None:
    properties = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _shade(cell: _Cell) -> None:
    shading = OxmlElement("w:shd")
    for name, value in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", "E6E6E6")):
        shading.set(qn(name), value)
    cell._tc.get_or_add_tcPr().insert_element_before(shading, *AFTER_SHADING)


def _table(document: DocxDocument, block: Table) -> None:
    caption = _text(document.add_paragraph(), block.caption, CAPTION_PT, bold=True, after=3)
    caption.paragraph_format.keep_with_next = True
    table = document.add_table(rows=1 + len(block.rows), cols=len(block.header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Mm(share * TEXT_WIDTH_MM) for share in block.widths]
    for row_index, cells in enumerate((block.header, *block.rows)):
        row = table.rows[row_index]
        for column, (cell, text) in enumerate(zip(row.cells, cells, strict=True)):
            cell.width = widths[column]
            heading = row_index == 0
            paragraph = _text(cell.paragraphs[0], text, TABLE_PT, bold=heading, centred=heading)
            if not heading and block.numeric[column]:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if heading:
                _shade(cell)
    _repeat_header(table.rows[0])
    _text(document.add_paragraph(), "", 6)


def _figure(document: DocxDocument, block: Figure) -> None:
    if block.chart.png is None:
        return
    width, _height = placement_mm(block.chart.svg)
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run().add_picture(io.BytesIO(block.chart.png), width=Mm(width))
    _text(document.add_paragraph(), block.caption, CAPTION_PT, bold=True, after=PARAGRAPH_AFTER_PT)


def _closing(document: DocxDocument, filed: FiledDocument) -> None:
    _text(document.add_paragraph(), "", BODY_PT)
    table = _borderless(document, (CLOSING_LEFT_MM, TEXT_WIDTH_MM - CLOSING_LEFT_MM))
    left, right = table.rows[0].cells
    _text(
        _first(left),
        filed.recipients_label,
        RECIPIENTS_LABEL_PT,
        bold=True,
        italic=True,
        centred=False,
    )
    for line in filed.recipients:
        _text(left.add_paragraph(), line, RECIPIENTS_PT, centred=False)
    for text in (filed.authority, filed.signer_title):
        if text:
            _text(_first(right), text, SIGNATURE_PT, bold=True)
    for _ in range(SIGNATURE_LINES):
        _text(right.add_paragraph(), "", SIGNATURE_PT)
    _text(right.add_paragraph(), filed.signer_name, SIGNATURE_PT, bold=True)


def _page(document: DocxDocument) -> None:
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    section.header_distance = Mm(8)
    section.different_first_page_header_footer = True  # no number on the first page
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    _font(run, PAGE_NUMBER_PT)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    normal = document.styles["Normal"]
    _font(normal, BODY_PT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.1


def render_docx(filed: FiledDocument) -> bytes:
    """The document as a .docx file (the charts need PNGs: ``print_charts(..., raster=True)``)."""
    document = Document()
    document.core_properties.title = f"{filed.kind} — {filed.title}"
    document.core_properties.language = filed.language
    _page(document)
    _top_block(document, filed)
    _title(document, filed)
    for block in filed.blocks:
        if isinstance(block, Heading):
            _heading(document, block)
        elif isinstance(block, Paragraph):
            _paragraph(document, block)
        elif isinstance(block, Table):
            _table(document, block)
        else:
            _figure(document, block)
    _closing(document, filed)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
