"""Dossier codes (mã số hồ sơ) in the national format, read and checked.

Circular 04/2025/TT-VPCP amends Article 13(3) of Circular 03/2025/TT-VPCP (which guides Decree
118/2025/NĐ-CP on the one-stop mechanism): from 25 January 2026 every administrative-procedure
dossier carries one code of the form ::

    MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX

* ``MX1X2.Y1Y2Y3.Z1Z2`` — the electronic identification code of the receiving agency (the levels
  of the agency code under Decision 20/2020/QĐ-TTg): ``M`` a capital letter and ``X1X2`` two
  digits (level 1), ``Y1Y2Y3`` three characters (level 2), ``Z1Z2`` two characters (level 3).
  The circular's text on which characters the lower levels may hold could not be confirmed, so
  they accept capital letters and digits;
* ``YYMMDD`` — the date the dossier was received (two digits each; 20YY), a real calendar date;
* ``AA`` — two digits naming the information system that issued the code;
* ``XXXX`` — the dossier's sequence number within that day, at least four digits (we accept up
  to ten).

Dossiers received before 25 January 2026 keep the code they were given under Article 19 of
Circular 01/2018/TT-VPCP, ``V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX`` (the agency code written from
the lowest level up, then the date and a four-digit daily sequence); such a code is accepted only
when its date is before that day, so that a year of dossiers across the change imports.

Codes are compared in capitals with surrounding spaces removed; nothing else is rewritten.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from survey.services.errors import DomainError

NATIONAL_FORMAT_FROM = dt.date(2026, 1, 25)
FORMAT_NATIONAL = "TT04/2025"
FORMAT_LEGACY = "TT01/2018"
EXAMPLE = "H40.123.45-260126-010042"

_NATIONAL = re.compile(
    r"(?P<agency>[A-Z][0-9]{2}\.[A-Z0-9]{3}\.[A-Z0-9]{2})-(?P<date>[0-9]{6})-"
    r"(?P<system>[0-9]{2})(?P<sequence>[0-9]{4,10})"
)
_LEGACY = re.compile(
    r"(?P<agency>[A-Z0-9]{3}\.[A-Z0-9]{2}\.[A-Z0-9]{2}\.[A-Z][0-9]{2})-(?P<date>[0-9]{6})-"
    r"(?P<sequence>[0-9]{4})"
)
# Anywhere in a text (a citizen's comment), either format, any case: for masking.
_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z][0-9]{2}\.[A-Za-z0-9]{3}\.[A-Za-z0-9]{2}-[0-9]{6}-[0-9]{6,12}"
    r"|[A-Za-z0-9]{3}\.[A-Za-z0-9]{2}\.[A-Za-z0-9]{2}\.[A-Za-z][0-9]{2}-[0-9]{6}-[0-9]{4})"
    r"(?![A-Za-z0-9])"
)
MASK = "[mã hồ sơ]"
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, kw_only=True)
class DossierCode:
    """A checked dossier code and its parts."""

    code: str
    agency_code: str  # the agency's electronic identification code as written in the code
    received_on: dt.date
    system: str | None  # AA of the national format; None for the former format
    sequence: str
    format: str  # FORMAT_NATIONAL or FORMAT_LEGACY


class InvalidDossierCode(DomainError):
    message_vi = f"Mã hồ sơ không đúng định dạng MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX (ví dụ {EXAMPLE})."
    message_en = (
        f"The dossier code is not in the form MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX (e.g. {EXAMPLE})."
    )


def normalise(text: str) -> str:
    return (text or "").strip().upper()


def _date(digits: str) -> dt.date | None:
    try:
        return dt.date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError:
        return None


def parse_dossier_code(text: str) -> DossierCode:
    """The parts of a dossier code, or ``InvalidDossierCode`` saying what is wrong (vi and en).

    Grammar: Circular 04/2025/TT-VPCP, amending Article 13(3) of Circular 03/2025/TT-VPCP (see the
    module docstring); the former Article 19 of Circular 01/2018/TT-VPCP for dossiers received
    before 25 January 2026.
    """
    code = normalise(text)
    if not code:
        raise InvalidDossierCode("Thiếu mã hồ sơ.", "The dossier code is missing.")
    if len(code) > 64 or _SPACE.search(code):
        raise InvalidDossierCode()
    national = _NATIONAL.fullmatch(code)
    legacy = None if national else _LEGACY.fullmatch(code)
    match = national or legacy
    if match is None:
        raise InvalidDossierCode(*_why(code))
    received_on = _date(match["date"])
    if received_on is None:
        raise InvalidDossierCode(
            f"Ngày tiếp nhận trong mã hồ sơ ({match['date']}, dạng YYMMDD) "
            "không phải ngày có thật.",
            f"The receipt date in the dossier code ({match['date']}, YYMMDD) is not a real date.",
        )
    if legacy is not None and received_on >= NATIONAL_FORMAT_FROM:
        raise InvalidDossierCode(
            "Hồ sơ tiếp nhận từ ngày 25/01/2026 phải mang mã theo Thông tư 04/2025/TT-VPCP "
            f"(MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX, ví dụ {EXAMPLE}).",
            "Dossiers received from 25 January 2026 carry a code under Circular 04/2025/TT-VPCP "
            f"(MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX, e.g. {EXAMPLE}).",
        )
    return DossierCode(
        code=code,
        agency_code=match["agency"],
        received_on=received_on,
        system=match["system"] if national else None,
        sequence=match["sequence"],
        format=FORMAT_NATIONAL if national else FORMAT_LEGACY,
    )


def _why(code: str) -> tuple[str, str]:
    """The most helpful reason a code does not match (for the row report)."""
    parts = code.split("-")
    if len(parts) != 3:
        return (
            "Mã hồ sơ phải có ba phần nối bằng dấu gạch ngang: mã cơ quan, ngày (YYMMDD), "
            f"mã hệ thống và số thứ tự (ví dụ {EXAMPLE}).",
            "A dossier code has three parts joined by hyphens: agency code, date (YYMMDD), "
            f"system and sequence (e.g. {EXAMPLE}).",
        )
    agency, date, tail = parts
    if not re.fullmatch(r"[A-Z][0-9]{2}\.[A-Z0-9]{3}\.[A-Z0-9]{2}", agency):
        return (
            f"Phần mã cơ quan “{agency}” không có dạng MX1X2.Y1Y2Y3.Z1Z2 (ví dụ H40.123.45).",
            f'The agency part "{agency}" is not of the form MX1X2.Y1Y2Y3.Z1Z2 (e.g. H40.123.45).',
        )
    if not re.fullmatch(r"[0-9]{6}", date):
        return (
            f"Phần ngày “{date}” phải gồm 6 chữ số YYMMDD.",
            f'The date part "{date}" must be 6 digits, YYMMDD.',
        )
    return (
        f"Phần cuối “{tail}” phải gồm 2 chữ số mã hệ thống và số thứ tự ít nhất 4 chữ số (AAXXXX).",
        f'The last part "{tail}" must be 2 digits for the system and a sequence of at least 4 '
        "digits (AAXXXX).",
    )


def mask_dossier_codes(text: str) -> str:
    """Replace every dossier code (either format, any case) in a free text with a placeholder:
    a code in a comment would tie the anonymous answers to a dossier and its citizen."""
    return _IN_TEXT.sub(MASK, text)
