"""The page of a filed report (Decree 30/2020/NĐ-CP, Appendix I): A4, margins, type sizes.

Both renderers (PDF and Word) read these numbers, so the two documents have the same page, and
the charts are drawn for the width they are printed at.
"""

from __future__ import annotations

from pathlib import Path

PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0
MARGIN_TOP_MM = 20.0  # Decree 30: 20–25 mm
MARGIN_BOTTOM_MM = 20.0  # 20–25 mm
MARGIN_LEFT_MM = 30.0  # 30–35 mm
MARGIN_RIGHT_MM = 15.0  # 15–20 mm
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM
# A chart and its caption stay on one page: the chart at most this tall.
CHART_MAX_HEIGHT_MM = PAGE_HEIGHT_MM - MARGIN_TOP_MM - MARGIN_BOTTOM_MM - 35.0

# The header block: issuing body on the left, national title and motto on the right.
LEFT_COLUMN_MM = 68.0
RIGHT_COLUMN_MM = TEXT_WIDTH_MM - LEFT_COLUMN_MM

# Type sizes in points (Decree 30: body 13–14, national title 12–13, motto 13–14, issuing body
# 12–13, recipients 11–12).
BODY_PT = 13.0
HEADER_PT = 12.5
MOTTO_PT = 13.0
TITLE_PT = 14.0
TABLE_PT = 11.0
RECIPIENTS_PT = 11.0
RECIPIENTS_LABEL_PT = 12.0
SIGNATURE_PT = 13.0
CAPTION_PT = 12.0
PAGE_NUMBER_PT = 13.0
MIN_CHART_TEXT_PT = 8.0  # no text in a printed chart smaller than this
FIRST_LINE_INDENT_MM = 12.7  # 1.27 cm
PARAGRAPH_AFTER_PT = 6.0

POINTS_PER_MM = 72 / 25.4
FONT_DIR = Path(__file__).resolve().parent / "fonts"
SERIF = "Liberation Serif"  # metrically compatible with Times New Roman (SIL OFL 1.1)
WORD_FONT = "Times New Roman"  # what Word offices in Vietnam have; Liberation Serif matches it
SERIF_FILES = {
    "": "LiberationSerif-Regular.ttf",
    "B": "LiberationSerif-Bold.ttf",
    "I": "LiberationSerif-Italic.ttf",
    "BI": "LiberationSerif-BoldItalic.ttf",
}
