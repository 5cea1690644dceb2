"""Tables written as files officials open in Excel or LibreOffice, safe against formula injection.

Anonymous comments (and, later, names typed by officials) end up in cells. A cell whose text
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
spreadsheet programs (``=HYPERLINK(...)`` phishing, ``+cmd|' /C calc'!A0`` DDE). Following the
OWASP guidance on CSV injection (https://owasp.org/www-community/attacks/CSV_Injection):

* CSV: every text cell that would start such a formula (after any leading spaces, which the
  programs skip; full-width ``＝＋－＠`` too, which some of them fold) is prefixed with ``'``,
  which the programs show as text and do not evaluate.
* XLSX: every text cell is written as a string cell (openpyxl would otherwise store text starting
  with ``=`` as a live formula), and risky ones carry the "quote prefix" style, so that editing the
  cell and pressing Enter does not turn it into a formula either. Their text is kept unchanged.

Numbers stay numbers in both. In XLSX, columns may carry an Excel number format (shares as
``0.0%`` cells holding the share, counts as ``#,##0``, times as ``dd/mm/yyyy hh:mm`` date-time
cells); every sheet has a bold, frozen header row with filters and columns wide enough to read.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT = "0.0%"
COUNT = "#,##0"
DATE_TIME = "dd/mm/yyyy hh:mm"
WIDEST, NARROWEST, SAMPLED_ROWS = 60, 8, 500


def starts_formula(value: object) -> bool:
    """Whether a spreadsheet program could read this text as the start of a formula."""
    if not isinstance(value, str) or not value:
        return False
    if value[0] in FORMULA_STARTS:
        return True
    stripped = value.lstrip(" \u00a0\u3000")
    return bool(stripped) and stripped[0] in FORMULA_STARTS


def neutralise_text(value: object) -> object:
    """``'`` before a text that would start a formula; any other value unchanged."""
    return "'" + value if starts_formula(value) and isinstance(value, str) else value


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells cannot start a formula (for CSV)."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise_text)
    safe.columns = [neutralise_text(str(name)) for name in safe.columns]
    return safe


def csv_bytes(table: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel then shows Vietnamese correctly), formulas neutralised."""
    text: str = neutralise_formulas(table).to_csv(index=False)
    return text.encode("utf-8-sig")


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """``csv_bytes`` written to a file."""
    neutralise_formulas(table).to_csv(path, index=False, encoding="utf-8-sig")


def xlsx_bytes(
    sheets: Mapping[str, pd.DataFrame], formats: Mapping[str, str] | None = None
) -> bytes:
    """One worksheet per table (name → table); text is always a string cell, never a formula.
    ``formats`` gives a column (by name, in any sheet) an Excel number format."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in sheets.items():
            table.to_excel(writer, sheet_name=name, index=False)
        for worksheet in writer.book.worksheets:  # before the writer saves the workbook
            for row in worksheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and (
                        cell.data_type == "f" or starts_formula(cell.value)
                    ):
                        cell.data_type = "s"
                        cell.quotePrefix = True
            _lay_out(worksheet, formats or {})
    return buffer.getvalue()


def _lay_out(worksheet: Worksheet, formats: Mapping[str, str]) -> None:
    """Bold frozen header with filters, number formats by column, readable column widths."""
    if worksheet.max_row < 1 or worksheet.max_column < 1:
        return
    worksheet.freeze_panes = "A2"
    worksheet.auto_filter.ref = worksheet.dimensions
    for column in worksheet.iter_cols(min_row=1, max_row=min(worksheet.max_row, SAMPLED_ROWS)):
        header = column[0]
        header.font = Font(bold=True)
        number_format = formats.get(str(header.value))
        if number_format:
            for cell in worksheet.iter_rows(
                min_row=2, min_col=header.column, max_col=header.column
            ):
                cell[0].number_format = number_format
        lengths = [len(str(header.value or ""))]
        lengths += [
            len(number_format) if number_format else len(str(cell.value))
            for cell in column[1:]
            if cell.value is not None
        ]
        width = min(max(max(lengths) + 2, NARROWEST), WIDEST)
        worksheet.column_dimensions[get_column_letter(header.column)].width = width
