"""Real-browser fixtures: the app served on loopback, driven by headless Debian Chromium.

Every test in this folder is marked ``browser``. Without ``/usr/bin/chromium`` (or Playwright) the
tests are skipped, unless ``REQUIRE_BROWSER`` is set (CI), in which case they fail loudly.

The server reuses the ``app`` and ``seeded`` fixtures of ``tests/conftest.py``: the browser talks to
the same database as the test, so create data first, then open pages.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_DIR = Path(__file__).resolve().parent
SCREENSHOTS = BROWSER_DIR.parents[1] / "test-artifacts" / "screenshots"
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "vi-VN"}


# pyproject turns warnings into errors, and the warnings filters are process-wide, so a warning
# raised while the server thread renders a page becomes a 500. WTForms 3.3 deprecates the
# (value, label) tuples that survey/public/forms.py passes as RadioField choices; until the app
# passes SelectChoice objects, ignore exactly that warning here (reported to the lead).
def _browser_missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this folder's tests ``browser``; skip them when no browser is available."""
    missing = _browser_missing_reason()
    for item in items:
        if BROWSER_DIR not in Path(item.path).parents:
            continue
        item.add_marker(pytest.mark.browser)
        if missing and not os.environ.get("REQUIRE_BROWSER"):
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {missing}"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    missing = _browser_missing_reason()
    if missing:
        # Only reached when REQUIRE_BROWSER is set (otherwise the tests were skipped).
        pytest.fail(f"REQUIRE_BROWSER is set but the browser tests cannot run: {missing}")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Factory of browser contexts (phone by default), all closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        settings = {**PHONE, **options}
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_context: Callable[..., Any]) -> Any:
    """A page in a phone-sized, touch-screen context."""
    return new_context().new_page()


@dataclass
class LiveServer:
    app: Flask
    url: str
    province: factories.SmallProvince

    def form_url(self, point: Any = None) -> str:
        return f"{self.url}/s/{(point or self.province.desk).public_code}"


@pytest.fixture
def live_server(app: Flask, seeded: factories.SmallProvince) -> Iterator[LiveServer]:
    """The app on a free loopback port, in a background thread, for one test."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}", province=seeded)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """Save a full-page screenshot as test-artifacts/screenshots/<test>--<what>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def take(page: Any, what: str) -> Path:
        path = SCREENSHOTS / f"{test_name}--{what}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
