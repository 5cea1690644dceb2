"""Reading the cells of set-up files: codes, names, sectors, levels, dates, months and counts.

Each reader returns the value or None after adding a problem (row, column, value, vi, en) to the
report, so that one pass over a file finds every fault at once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from survey.services.importing import ImportReport, Row
from survey.services.periods import FIRST_YEAR, LAST_YEAR
from survey.services.spreadsheets import starts_formula
from survey.storage.models import LEVELS, SECTORS

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
POINT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
NAME_MAX = 300

# What officials type, in either language, for a sector or a level.
SECTOR_ALIASES = {
    "administrative": "administrative",
    "hanh chinh": "administrative",
    "hanh chinh cong": "administrative",
    "health": "health",
    "y te": "health",
    "education": "education",
    "giao duc": "education",
}
LEVEL_ALIASES = {
    "province": "province",
    "tinh": "province",
    "cap tinh": "province",
    "district": "district",
    "huyen": "district",
    "cap huyen": "district",
    "commune": "commune",
    "xa": "commune",
    "cap xa": "commune",
    "phuong": "commune",
    "ward": "commune",
}


def fold(text: str) -> str:
    """Lower case without diacritics: ``Y tế`` → ``y te``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().replace("_", " ").split())


def month_label(month: dt.date) -> str:
    return f"{month:%Y-%m}"


class Cells:
    """The cells of one row, read with their checks; problems go to ``report``."""

    def __init__(self, row: Row, report: ImportReport) -> None:
        self.row = row
        self.report = report

    def problem(self, column: str, message_vi: str, message_en: str) -> None:
        self.report.problem(self.row.number, column, self.row[column], message_vi, message_en)

    def _not_formula(self, column: str) -> bool:
        if starts_formula(self.row[column]):
            self.problem(
                column,
                "Ô bắt đầu bằng =, +, - hoặc @ như một công thức bảng tính; hãy bỏ ký tự đó.",
                "The cell starts with =, +, - or @ like a spreadsheet formula; remove it.",
            )
            return False
        return True

    def code(self, column: str, *, required: bool = True, pattern: re.Pattern[str] = CODE) -> str:
        value = self.row[column]
        if not value:
            if required:
                self.problem(column, "Thiếu mã.", "The code is missing.")
            return ""
        if not self._not_formula(column):
            return ""
        if not pattern.fullmatch(value):
            self.problem(
                column,
                "Mã chỉ gồm chữ không dấu, chữ số, gạch ngang, gạch dưới (tối đa 64 ký tự).",
                "A code holds only letters without accents, digits, - and _ (64 at most).",
            )
            return ""
        return value

    def name(self, column: str, *, required: bool = True) -> str:
        value = " ".join(self.row[column].split())
        if not value:
            if required:
                self.problem(column, "Thiếu tên.", "The name is missing.")
            return ""
        if not self._not_formula(column):
            return ""
        if len(value) > NAME_MAX or any(ord(ch) < 32 for ch in value):
            self.problem(
                column,
                f"Tên quá dài (tối đa {NAME_MAX} ký tự) hoặc có ký tự điều khiển.",
                f"The name is too long (at most {NAME_MAX} characters) or holds control "
                "characters.",
            )
            return ""
        return value

    def choice(self, column: str, aliases: dict[str, str], allowed: tuple[str, ...]) -> str:
        value = self.row[column]
        found = aliases.get(fold(value))
        if found is None:
            self.problem(
                column,
                f"Giá trị không hợp lệ; dùng một trong: {', '.join(allowed)}.",
                f"Not a valid value; use one of: {', '.join(allowed)}.",
            )
            return ""
        return found

    def sector(self, column: str = "sector") -> str:
        return self.choice(column, SECTOR_ALIASES, SECTORS)

    def level(self, column: str = "level") -> str:
        return self.choice(column, LEVEL_ALIASES, LEVELS)

    def date(self, column: str, *, required: bool) -> dt.date | None:
        value = self.row[column]
        if not value:
            if required:
                self.problem(column, "Thiếu ngày.", "The date is missing.")
            return None
        day = parse_date(value)
        if day is None:
            self.problem(
                column,
                "Không phải ngày dạng 2025-07-01 hoặc 01/07/2025.",
                "Not a date like 2025-07-01 or 01/07/2025.",
            )
        elif not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.problem(
                column,
                f"Ngày phải trong các năm {FIRST_YEAR}–{LAST_YEAR}.",
                f"The date must lie in the years {FIRST_YEAR}–{LAST_YEAR}.",
            )
            return None
        return day

    def month(self, column: str = "month") -> dt.date | None:
        value = self.row[column]
        month = parse_month(value)
        if month is None:
            self.problem(
                column,
                "Không phải tháng dạng 2025-07 (năm-tháng).",
                "Not a month like 2025-07 (year-month).",
            )
        elif not FIRST_YEAR <= month.year <= LAST_YEAR:
            self.problem(
                column,
                f"Tháng phải trong các năm {FIRST_YEAR}–{LAST_YEAR}.",
                f"The month must lie in the years {FIRST_YEAR}–{LAST_YEAR}.",
            )
            return None
        return month

    def count(self, column: str) -> int | None:
        value = self.row[column]
        if not value.isascii() or not value.isdigit() or len(value) > 9:
            self.problem(
                column,
                "Cần một số nguyên không âm, chỉ gồm chữ số (không có dấu chấm, dấu phẩy).",
                "Expected a whole number of zero or more, digits only (no dots or commas).",
            )
            return None
        return int(value)


def parse_date(text: str) -> dt.date | None:
    """``2025-07-01``, ``2025-07-01T00:00:00`` (an Excel date cell) or ``01/07/2025``."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T00:00(:00)?)?", text):
            return dt.date.fromisoformat(text[:10])
        match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if match:
            return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None
    return None


def parse_month(text: str) -> dt.date | None:
    """``2025-07``, ``07/2025``, or the first of a month (``2025-07-01``, an Excel date cell)."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text) or re.fullmatch(r"(\d{1,2})/(\d{4})", text)
    if match:
        first, second = match.groups()
        year, month = (int(first), int(second)) if len(first) == 4 else (int(second), int(first))
        return dt.date(year, month, 1) if 1 <= month <= 12 else None
    day = parse_date(text)
    return day if day is not None and day.day == 1 else None
