"""What an office writes on a report before filing it: issuing body, number, place and date,
signer, recipients (Decree 30/2020/NĐ-CP, Appendix I), and sensible defaults for them.

Defaults come from the province's own organisation: the governing body is the province's People's
Committee, the issuing body its Department of Home Affairs (the department that runs the
satisfaction survey) when the organisation has one, the place the province's name and the date
today in Vietnam. The number is left blank, as on a draft: the clerk writes it in when the report
is registered.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from fontTools.ttLib import TTFont
from sqlalchemy.orm import Session

from survey.formatting import VIETNAM_TIME, long_day
from survey.services.filing.layout import FONT_DIR, SERIF_FILES
from survey.services.filing.wording import words
from survey.services.reporting import ScopeReport, load_hierarchy
from survey.storage.models import Agency

HOME_AFFAIRS = "so noi vu"  # the department's name without accents, in lower case
DEFAULT_RECIPIENTS = {
    "vi": ("Bộ Nội vụ (để báo cáo)", "UBND tỉnh (để báo cáo)", "Các cơ quan, đơn vị liên quan"),
    "en": (
        "Ministry of Home Affairs (to report)",
        "Provincial People's Committee (to report)",
        "Agencies and units concerned",
    ),
}
BLANK_NUMBER = "\u00a0" * 10  # room for the number the clerk writes in


@dataclass(frozen=True, kw_only=True)
class FilingDetails:
    """The fields of the filed report's header and closing, as the office entered them."""

    governing_body: str  # e.g. "UBND TỈNH ĐIỆN BIÊN" (may be empty)
    issuing_body: str  # e.g. "SỞ NỘI VỤ"
    number: str  # e.g. "15"; empty: left blank for the clerk
    symbol: str  # e.g. "BC-SNV"
    place: str  # e.g. "Điện Biên"
    date: dt.date
    title: str  # the subject line under "BÁO CÁO"
    authority: str  # e.g. "KT. GIÁM ĐỐC" (may be empty)
    signer_title: str  # e.g. "PHÓ GIÁM ĐỐC"
    signer_name: str  # may be empty on a draft
    recipients: tuple[str, ...]
    archive: str  # e.g. "VT, SNV"

    def number_line(self, language: str) -> str:
        """ "Số: 15/BC-SNV", or with room for the number when it is not given yet."""
        return f"{words(language)['number']} {self.number or BLANK_NUMBER}/{self.symbol}"

    def place_date(self, language: str) -> str:
        """ "Điện Biên, ngày 05 tháng 12 năm 2026" / "Điện Biên, 5 December 2026"."""
        return f"{self.place}, {long_day(self.date, language)}"

    def recipient_lines(self, language: str) -> list[str]:
        """Each recipient as "- …;", then "- Lưu: VT, …." (Decree 30's closing list)."""
        lines = [f"- {_bare(recipient)};" for recipient in self.recipients if _bare(recipient)]
        archive = _bare(self.archive) or "VT"
        return [*lines, f"- {words(language)['archive']}: {archive}."]


def _bare(text: str) -> str:
    """A recipient as typed, without the dash, semicolon or full stop the list adds itself."""
    return re.sub(r"^[\s\-–•]+|[\s;.,]+$", "", text)


@cache
def _printable_characters() -> frozenset[int]:
    """The characters of the document's font (every style has the same)."""
    return frozenset(TTFont(FONT_DIR / SERIF_FILES[""]).getBestCmap())


def unprintable(text: str) -> set[str]:
    """The characters of ``text`` the document cannot print: control characters (line breaks
    aside) and characters outside its font (emoji, scripts it does not cover)."""
    found = set()
    for character in text:
        if character in "\r\n":
            continue
        if unicodedata.category(character) in ("Cc", "Cs", "Co", "Cn"):
            found.add("\ufffd")  # shown as a replacement mark, not as the raw character
        elif ord(character) not in _printable_characters():
            found.add(character)
    return found


def plain(text: str) -> str:
    """Lower case without accents ("Sở Nội vụ" → "so noi vu")."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def initials(name: str, at_most: int = 6) -> str:
    """The capital initials of a body's name, for the document symbol: "Sở Nội vụ" → "SNV"."""
    letters = [word[0] for word in re.findall(r"[a-z0-9]+", plain(name))]
    return "".join(letters[:at_most]).upper()


def vietnam_today() -> dt.date:
    return dt.datetime.now(VIETNAM_TIME).date()


def _place(province: Agency | None, language: str) -> str:
    if province is None:
        return ""
    if language == "vi":
        return re.sub(r"^(Tỉnh|Thành phố|TP\.?)\s+", "", province.name_vi.strip())
    name = province.name_en.strip()
    return re.sub(r"\s+(Province|City)$|^(Province|City) of\s+", "", name)


def _home_affairs(province: Agency | None, agencies: list[Agency]) -> Agency | None:
    if province is None:
        return None
    found = [a for a in agencies if a.parent_id == province.id and plain(a.name_vi) == HOME_AFFAIRS]
    return found[0] if found else None


def default_title(report: ScopeReport, language: str) -> str:
    period = report.period.label(language)
    if language == "vi":
        period = period[:1].lower() + period[1:]
        return (
            "Kết quả đo lường sự hài lòng của người dân, tổ chức "
            f"({report.title(language)}, {period})"
        )
    return (
        "Results of measuring the satisfaction of citizens and organisations "
        f"({report.title(language)}, {period})"
    )


def default_details(
    session: Session | None, report: ScopeReport, language: str, today: dt.date | None = None
) -> FilingDetails:
    """The details an office would most often write, from the province's organisation (none
    without a session: the names are then left for the office to write)."""
    agencies: list[Agency] = []
    province = None
    if session is not None:
        hierarchy = load_hierarchy(session)
        agencies = list(hierarchy.agencies.values())
        province = hierarchy.province()
    department = _home_affairs(province, agencies)
    vi = language == "vi"
    governing = ""
    if province is not None:
        governing = (
            f"UBND {province.name_vi.upper()}"
            if vi
            else f"PEOPLE'S COMMITTEE OF {province.name_en.upper()}"
        )
    authority, signer = "", ""
    if department is not None:
        issuing = (department.name_vi if vi else department.name_en).upper()
        symbol_source = department.name_vi
        signer = "GIÁM ĐỐC" if vi else "DIRECTOR"
    else:  # no Department of Home Affairs in the organisation: the People's Committee itself
        issuing, governing = governing, ""
        symbol_source = "Ủy ban nhân dân" if province is not None else ""
        if province is not None:
            authority = "TM. ỦY BAN NHÂN DÂN" if vi else "ON BEHALF OF THE PEOPLE'S COMMITTEE"
            signer = "CHỦ TỊCH" if vi else "CHAIRPERSON"
    abbreviation = initials(symbol_source)
    return FilingDetails(
        governing_body=governing,
        issuing_body=issuing,
        number="",
        symbol=f"BC-{abbreviation}" if abbreviation else "BC",
        place=_place(province, language),
        date=today or vietnam_today(),
        title=default_title(report, language),
        authority=authority,
        signer_title=signer,
        signer_name="",
        recipients=DEFAULT_RECIPIENTS["vi" if vi else "en"],
        archive=f"VT, {abbreviation}" if abbreviation else "VT",
    )
