"""Security headers, cookie and request-size settings, and trusted proxies.

* ``Content-Security-Policy`` on HTML: scripts, styles, images, fonts and forms from this origin
  only; no inline script and no ``style`` attributes (the templates have none; a test checks);
  ``frame-ancestors 'none'``; ``upgrade-insecure-requests`` when served over HTTPS.
* ``Strict-Transport-Security`` when ``PUBLIC_BASE_URL`` is ``https://``.
* ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
  same-origin``, ``Permissions-Policy`` (no camera, microphone, location), ``Cross-Origin-Opener-
  Policy: same-origin``; pages for signed-in officials are ``Cache-Control: no-store``.
* Request size: ``MAX_CONTENT_LENGTH`` (whole body), ``MAX_FORM_MEMORY_SIZE`` (one field),
  ``MAX_FORM_PARTS`` (number of fields); larger requests get the friendly 413 page.
* Cookies: Secure when ``PUBLIC_BASE_URL`` is HTTPS, HttpOnly, SameSite=Lax (survey/config.py).
* Stack traces never reach users: survey/errors.py renders every error as a page.
* ``PROXY_FIX_X_FOR`` (number of trusted reverse proxies, default 0): then the client's address
  (rate limits) and scheme come from ``X-Forwarded-For``/``X-Forwarded-Proto``.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(response: Response, https: bool) -> Response:
    headers = response.headers
    if response.mimetype == "text/html":
        policy = CONTENT_SECURITY_POLICY + ("; upgrade-insecure-requests" if https else "")
        headers.setdefault("Content-Security-Policy", policy)
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    https = app.config["PUBLIC_BASE_URL"].startswith("https://")
    proxies = int(app.config.get("PROXY_FIX_X_FOR", 0) or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        security_headers(response, https)
        if request.path.startswith(("/admin", "/reports")) and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response
