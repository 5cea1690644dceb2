"""English names of Vietnamese administrative units, for the official list and the demo.

The unit's own name stays as it is written, diacritics included; only the kind of unit in front of
it is translated and moved behind: "Xã Thanh Nưa" → "Thanh Nưa Commune", "Tỉnh Điện Biên" →
"Điện Biên Province". A name that starts with no known kind has no English name (None): English
pages then show the Vietnamese one.
"""

from __future__ import annotations

# The longer of two kinds sharing a first word comes first ("Thị trấn" before "Thị xã").
UNIT_KINDS = (
    ("Thành phố", "City"),
    ("Thị trấn", "Township"),
    ("Thị xã", "Town"),
    ("Đặc khu", "Special Zone"),
    ("Phường", "Ward"),
    ("Huyện", "District"),
    ("Quận", "District"),
    ("Tỉnh", "Province"),
    ("Xã", "Commune"),
)


def english_unit_name(name_vi: str) -> str | None:
    """``Phường Mường Thanh`` → ``Mường Thanh Ward``; None for a name of no known kind."""
    for kind_vi, kind_en in UNIT_KINDS:
        own = name_vi.removeprefix(kind_vi + " ").strip()
        if own and own != name_vi.strip():
            return f"{own} {kind_en}"
    return None
