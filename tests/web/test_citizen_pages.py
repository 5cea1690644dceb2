"""What every citizen and kiosk page has in common: drawn icons (no emoji) and compressed responses.

Debian's Chromium, like many phones and tablets, has no emoji font: an emoji is drawn as an empty
box. Icons on these pages are inline SVG (templates/public/_faces.html, _thanks_icon.html).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.factories import SmallProvince

ROOT = Path(__file__).resolve().parents[2]
# Pictographs and the joiners and selectors that build emoji sequences (Unicode's Emoji and
# Extended_Pictographic blocks). Arrows, dashes and the ellipsis are plain text in every font.
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001fffd\u2600-\u27bf\u2b00-\u2bff"
    "\u231a\u231b\u23e9-\u23fa\u24c2\u3030\u303d\u3297\u3299\ufe0f\u200d\u20e3]"
)
CITIZEN_SOURCES = (
    "templates/base.html",
    "templates/errors/error.html",
    "templates/public",
    "templates/kiosk",
    "templates/dossiers/rate.html",
    "templates/dossiers/rated.html",
    "templates/dossiers/thanks.html",
    "static/css/public.css",
    "static/kiosk",
)


def _emoji_in(text: str) -> list[str]:
    return sorted({f"U+{ord(match.group()):04X}" for match in EMOJI.finditer(text)})


def test_the_pattern_finds_emoji_and_spares_plain_symbols() -> None:
    pictographs = "Cảm ơn \U0001f64f \u2705 \u2b50 \U0001f44d\U0001f3fd"  # 🙏 ✅ ⭐ 👍🏽
    assert _emoji_in(pictographs) == ["U+1F3FD", "U+1F44D", "U+1F64F", "U+2705", "U+2B50"]
    assert _emoji_in("Không hài lòng — → … © 50%") == []


@pytest.mark.parametrize("language", ["vi", "en"])
def test_citizen_and_kiosk_pages_draw_their_icons(
    client: FlaskClient, seeded: SmallProvince, language: str
) -> None:
    code = seeded.desk.public_code
    pages = [
        "/",
        f"/s/{code}",
        f"/s/{code}/thanks",
        "/s/NO-SUCH-CODE",
        "/kiosk/",
        "/kiosk/pair",
        "/kiosk/sw.js",
        "/kiosk/manifest.webmanifest",
        "/static/css/public.css",
        "/static/kiosk/kiosk.css",
        "/static/kiosk/kiosk.js",
    ]
    found = {}
    for page in pages:
        with client.get(f"{page}?lang={language}") as response:
            assert response.status_code in (200, 404), page
            emoji = _emoji_in(response.get_data(as_text=True))
        if emoji:
            found[page] = emoji
    assert not found, f"emoji on citizen pages (a box without an emoji font): {found}"
    with client.get(f"/s/{code}/thanks?lang={language}") as thanks:
        html = thanks.get_data(as_text=True)
    assert re.search(r'<svg class="thanks-icon"[^>]*aria-hidden="true"', html)


def test_citizen_templates_and_scripts_hold_no_emoji() -> None:
    """The sources too, for the pages a test does not reach (a dossier's thank-you page)."""
    found = {}
    for name in CITIZEN_SOURCES:
        path = ROOT / name
        for file in sorted(path.rglob("*") if path.is_dir() else [path]):
            if file.suffix in {".html", ".js", ".css"}:
                emoji = _emoji_in(file.read_text(encoding="utf-8"))
                if emoji:
                    found[str(file.relative_to(ROOT))] = emoji
    assert not found, found
