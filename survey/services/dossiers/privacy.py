"""Masking what would identify a citizen or name a person in free text, and spotting comments
that name someone (held for review, see ``CommentReview``).

Phone numbers and e-mail addresses are masked by ``survey.services.responses.mask_personal_data``
(and dossier codes by ``survey.services.dossiers.codes.mask_dossier_codes``); this module adds the
12-digit citizen identity numbers (CCCD, and the personal identification number) and the check for
names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

ID_MASK = "[số định danh]"
_CITIZEN_ID = re.compile(r"(?<!\d)(?<!\d[.,])\d{3}[ .]?\d{3}[ .]?\d{6}(?!\d)(?![.,]\d)")
# "anh Tuấn", "chị Hoa", "cán bộ Nguyễn Văn A", "ông Bình", "cô Lan": a title before a capitalised
# word is how a comment names a person.
_TITLED = re.compile(
    r"(?<!\w)(?i:anh|chị|em|ông|bà|cô|chú|bác|cán bộ|công chức|nhân viên|viên chức)\s+(\w+)"
)


def mask_identifiers(text: str) -> str:
    """Replace 12-digit citizen identity numbers (with or without spaces or dots in 3-3-6)."""
    return _CITIZEN_ID.sub(ID_MASK, text)


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join(
        "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower().split()
    )


def names_a_person(text: str | None, staff_names: Iterable[str]) -> str | None:
    """Why the comment seems to name a person (a clerk's name, or a title before a name), or None.
    Names are compared without case or diacritics; a clerk is matched by the full name or by the
    last two words of it (how Vietnamese names are said)."""
    if not text:
        return None
    folded = f" {_folded(text)} "
    for name in staff_names:
        words = _folded(name).split()
        candidates = {" ".join(words)}
        if len(words) >= 3:
            candidates.add(" ".join(words[-2:]))
        for candidate in candidates:
            if candidate and f" {candidate} " in folded:
                return "staff_name"
    for match in _TITLED.finditer(text):
        if match.group(1)[:1].isupper():
            return "titled_name"
    return None
