"""Compressed responses (Flask-Compress): brotli when the browser accepts it, otherwise gzip.

A citizen on a slow mobile connection loads the form in a few kilobytes (tests/web/
test_public_form.py measures it as served). What is compressed, and what is not:

* Text (HTML, CSS, JavaScript, JSON, SVG, CSV) of at least ``COMPRESS_MIN_SIZE`` bytes (1 KB:
  below one network packet there is nothing to gain). Every response says ``Vary:
  Accept-Encoding``, so a cache never hands a compressed body to a client that did not ask.
* Not PNG, PDF or XLSX (compressed already), nor a response that already has a
  ``Content-Encoding``.
* Not a streamed response: it keeps flowing as it is made (``COMPRESS_STREAMS`` off). Static
  files are the exception: Flask sends them as a stream, so a compressible one (at most
  ``STATIC_BUFFER_LIMIT``) is read into memory first and compressed like any other text.
* Not the HTML of a signed-in official's page: it holds the session's CSRF token next to text
  taken from the request (filters, searches), which compression would let an eavesdropper guess
  byte by byte from the sizes of many responses (the BREACH attack on HTTPS).

Behind a reverse proxy that compresses, set ``COMPRESS_ENABLED=false`` to leave it to the proxy.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from flask_compress import Compress
from flask_login import current_user

COMPRESSIBLE = (
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
)
STATIC_BUFFER_LIMIT = 1024 * 1024
DEFAULTS: dict[str, Any] = {
    "COMPRESS_ENABLED": True,
    "COMPRESS_MIMETYPES": list(COMPRESSIBLE),
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_LEVEL": 6,  # gzip
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_MIN_SIZE": 1024,
    "COMPRESS_STREAMS": False,
    "COMPRESS_REGISTER": False,  # compress_response below decides, then calls Flask-Compress
}


def init_app(app: Flask) -> None:
    """Register before every other ``after_request`` handler: Flask runs them in reverse order,
    so the body is compressed last, once its headers and content are final."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    if not app.config["COMPRESS_ENABLED"]:
        return
    compress = Compress()
    compress.init_app(app)
    app.extensions["survey.compress"] = compress
    app.after_request(compress_response)


def compress_response(response: Response) -> Response:
    if response.mimetype == "text/html" and current_user.is_authenticated:
        return response
    if request.endpoint == "static":
        _read_static_file(response)
    compress: Compress = current_app.extensions["survey.compress"]
    return compress.after_request(response)


def _read_static_file(response: Response) -> None:
    """A compressible static file, read whole so that it can be compressed (sent unread, it
    would stay uncompressed as every streamed response)."""
    size = response.content_length
    if (
        response.status_code == 200
        and response.is_streamed
        and response.mimetype in COMPRESSIBLE
        and size is not None
        and size <= STATIC_BUFFER_LIMIT
    ):
        response.direct_passthrough = False
        response.set_data(response.get_data())
