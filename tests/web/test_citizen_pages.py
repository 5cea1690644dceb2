"""What every citizen and kiosk page has in common: drawn icons (no emoji) and compressed responses.

Debian's Chromium, like many phones and tablets, has no emoji font: an emoji is drawn as an empty
box. Icons on these pages are inline SVG (templates/public/_faces.html, _thanks_icon.html).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import create_app
from survey.auth import public_route
from survey.services.accounts import create_user
from tests.conftest import form_fields
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


# --- Compression (survey/compression.py) --------------------------------------------------------

BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends


def _get(client: FlaskClient, url: str, accept: str | None) -> tuple[Any, bytes]:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    with client.get(url, headers=headers) as response:
        return response, response.get_data()


def _decoded(response: Any, body: bytes) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return brotli.decompress(body)
    assert encoding is None, encoding
    return body


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (BROWSER, "br"),
        ("gzip", "gzip"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("identity", None),
        (None, None),
    ],
)
def test_citizen_pages_and_their_files_are_compressed_as_the_browser_asks(
    client: FlaskClient, seeded: SmallProvince, accept: str | None, expected: str | None
) -> None:
    plain = {}
    for url in (f"/s/{seeded.desk.public_code}", "/static/css/public.css", "/kiosk/"):
        response, body = _get(client, url, None)
        plain[url] = body
    for url in [*plain, "/static/kiosk/kiosk.js", "/kiosk/sw.js"]:
        response, body = _get(client, url, accept)
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == expected, url
        assert "Accept-Encoding" in response.headers.get("Vary", ""), url
        assert response.content_length == len(body)
        if url in plain and url != f"/s/{seeded.desk.public_code}":  # the form's ids differ
            assert _decoded(response, body) == plain[url]
        else:
            assert _decoded(response, body).startswith((b"<!doctype html>", b"/*", b"/* "))


def test_a_compressed_static_file_still_answers_if_none_match(client: FlaskClient) -> None:
    response, _ = _get(client, "/static/kiosk/kiosk.css", "gzip")
    etag = response.headers["ETag"]
    with client.get(
        "/static/kiosk/kiosk.css", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    ) as again:
        assert again.status_code == 304


def test_small_already_compressed_and_streamed_responses_are_sent_as_they_are(
    app: Flask, client: FlaskClient
) -> None:
    """Under 1 KB there is nothing to gain; PNG, PDF and XLSX are compressed already; a stream
    (a long export) must keep flowing, not wait to be compressed whole."""
    filler = b"satisfaction " * 4000  # compresses very well: only the type should stop it
    files = {
        "png": "image/png",
        "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }

    @public_route
    def binary(kind: str) -> Response:
        return Response(filler, mimetype=files[kind])

    @public_route
    def small() -> Response:
        return Response("<p>" + "x" * 900 + "</p>", mimetype="text/html")

    @public_route
    def stream() -> Response:
        return Response((f"row {n}\n" for n in range(5000)), mimetype="text/csv")

    app.add_url_rule("/test-files/<kind>", view_func=binary)
    app.add_url_rule("/test-small", view_func=small)
    app.add_url_rule("/test-stream", view_func=stream)

    for kind in files:
        response, body = _get(client, f"/test-files/{kind}", BROWSER)
        assert "Content-Encoding" not in response.headers and body == filler, kind
    response, body = _get(client, "/test-small", BROWSER)
    assert "Content-Encoding" not in response.headers and len(body) == 907
    assert "Accept-Encoding" in response.headers["Vary"]
    with client.get("/test-stream", headers={"Accept-Encoding": BROWSER}) as streamed:
        assert streamed.is_streamed and "Content-Encoding" not in streamed.headers
        assert streamed.get_data().startswith(b"row 0\nrow 1\n")
    response, body = _get(client, "/static/kiosk/icon-192.png", BROWSER)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_a_signed_in_officials_html_is_not_compressed(
    client: FlaskClient, session: Session, seeded: SmallProvince
) -> None:
    """Its CSRF token sits beside text from the request: compressed, the sizes of many responses
    would leak it over HTTPS (BREACH). Its JSON, CSS and scripts are compressed."""
    create_user(session, "admin", "correct horse battery", "province_admin")
    session.commit()  # as the request that creates an account would
    fields = form_fields(client.get("/admin/sign-in").get_data(as_text=True))
    signed_in = client.post(
        "/admin/sign-in",
        data={**fields, "username": "admin", "password": "correct horse battery"},
    )
    assert signed_in.status_code == 302
    response, body = _get(client, "/admin/setup/agencies", BROWSER)
    assert response.status_code == 200 and b"csrf" in body.lower()
    assert "Content-Encoding" not in response.headers
    response, _ = _get(client, "/static/css/public.css", BROWSER)
    assert response.headers["Content-Encoding"] == "br"


def test_compression_can_be_left_to_a_proxy(database_url: str) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "COMPRESS_ENABLED": False})
    with app.test_client() as client:
        response, _ = _get(client, "/static/css/public.css", BROWSER)
    assert "Content-Encoding" not in response.headers
    app.extensions["survey.engine"].dispose()
