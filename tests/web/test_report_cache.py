"""Reports and charts in the shared store: the PDF's progress steps and the PDF itself may land on
different workers (two app instances on one Redis, as two gunicorn workers or two servers are)
without the report being computed more than once; new data gives a new key; a tampered entry or a
missing Redis costs time, never a wrong or failed page.

Redis: ``TEST_REDIS_URL`` (scripts/test.sh), else a ``redis-server`` started here, else skipped
(failed with ``REQUIRE_REDIS``) — the fixture of tests/web/test_rate_limits.py.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import create_app
from survey.services import report_charts, reporting
from survey.services.accounts import create_user
from survey.services.filing import print_charts
from survey.services.setup.volumes import import_volumes
from tests.factories import SmallProvince
from tests.web.test_rate_limits import _free_port, redis_url  # noqa: F401 — the fixture
from tests.web.test_report_scope import PASSWORD, province  # noqa: F401 — the fixture

MADE: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while MADE:
        MADE.pop().extensions["survey.engine"].dispose()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many reports were computed and chart sets drawn, whichever app instance did it."""
    counted = {"reports": 0, "charts": 0}
    build, draw = reporting.compute_report, report_charts.build_charts

    def counting_build(*args: Any, **kwargs: Any) -> reporting.ScopeReport:
        counted["reports"] += 1
        return build(*args, **kwargs)

    def counting_draw(*args: Any) -> report_charts.ReportCharts:
        counted["charts"] += 1
        return draw(*args)

    monkeypatch.setattr(reporting, "compute_report", counting_build)
    monkeypatch.setattr(report_charts, "build_charts", counting_draw)
    draw_for_print = print_charts.print_charts

    def counting_print(*args: Any, **kwargs: Any) -> list[print_charts.PrintChart]:
        counted["charts"] += 1  # the PDF's charts, drawn for paper
        return draw_for_print(*args, **kwargs)

    monkeypatch.setattr(print_charts, "print_charts", counting_print)
    return counted


def _worker(database_url: str, **settings: Any) -> Flask:
    """One app instance, as one gunicorn worker makes it."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **settings})
    MADE.append(app)
    return app


def _signed_in(app: Flask, username: str = "chief") -> FlaskClient:
    client = app.test_client()
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/admin/sign-in",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 302
    return client


@pytest.fixture
def chief(session: Session, province: SmallProvince) -> str:  # noqa: F811 — the fixture
    create_user(session, "chief", PASSWORD, role="province_admin")
    session.commit()  # the workers are other app instances: they read what is committed
    return "chief"


def _shared(url: str) -> dict[str, str]:
    return {"RATELIMIT_STORAGE_URI": url, "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}


REPORT = "/reports/province/all"
QUERY = "?period=2025-Q1"


def _prepare_then_pdf(first: FlaskClient, second: FlaskClient) -> bytes:
    """The page's progress bar: the two steps on one worker, the PDF on another."""
    assert first.get(f"{REPORT}/prepare{QUERY}&step=report").json == {
        "step": "report",
        "responses": 105,
    }
    assert first.get(f"{REPORT}/prepare{QUERY}&step=charts").status_code == 200
    pdf = second.get(f"{REPORT}/report.pdf{QUERY}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    return pdf.data


def test_the_pdf_on_a_second_worker_computes_nothing(
    database_url: str,
    chief: str,
    redis_url: str,  # noqa: F811 — the fixture
    calls: dict[str, int],
):
    settings = _shared(redis_url)
    first = _signed_in(_worker(database_url, **settings))
    second = _signed_in(_worker(database_url, **settings))  # made after: its own store object
    _prepare_then_pdf(first, second)
    assert calls == {"reports": 1, "charts": 1}
    # The page itself reads the same report; its screen charts are drawn once, on either worker.
    assert second.get(f"{REPORT}{QUERY}").status_code == 200
    assert first.get(f"{REPORT}{QUERY}").status_code == 200
    assert calls == {"reports": 1, "charts": 2}
    namespace = f"{settings['RATELIMIT_KEY_PREFIX']}:report-cache:*"
    stored = redis.Redis.from_url(redis_url).keys(namespace)
    assert len(stored) == 3  # the report, its print charts and its screen charts, sealed
    assert all(0 < redis.Redis.from_url(redis_url).ttl(key) <= 3600 for key in stored)


def test_without_a_shared_store_each_worker_computes_its_own(
    database_url: str, chief: str, calls: dict[str, int]
):
    """The control: with per-process stores (``memory://``), the same test computes twice."""
    first = _signed_in(_worker(database_url, RATELIMIT_STORAGE_URI="memory://"))
    second = _signed_in(_worker(database_url, RATELIMIT_STORAGE_URI="memory://"))
    _prepare_then_pdf(first, second)
    assert calls == {"reports": 2, "charts": 2}


def test_a_volume_import_between_the_steps_gives_a_fresh_report(
    database_url: str,
    session: Session,
    chief: str,
    province: SmallProvince,  # noqa: F811 — the fixture
    redis_url: str,  # noqa: F811 — the fixture
    calls: dict[str, int],
):
    settings = _shared(redis_url)
    first = _signed_in(_worker(database_url, **settings))
    second = _signed_in(_worker(database_url, **settings))
    first.get(f"{REPORT}/prepare{QUERY}&step=report")
    assert calls["reports"] == 1
    body = f"service_point_code,month,citizens_served\n{province.desk.code},2025-03,900\n"
    import_volumes(session, body.encode(), today=dt.date(2025, 12, 31))
    session.commit()  # as the import's request would
    assert second.get(f"{REPORT}/report.pdf{QUERY}").status_code == 200
    assert calls == {"reports": 2, "charts": 1}  # the new volumes: a new key, computed again


def test_a_tampered_entry_is_computed_again(
    database_url: str,
    chief: str,
    redis_url: str,  # noqa: F811 — the fixture
    calls: dict[str, int],
):
    settings = _shared(redis_url)
    first = _signed_in(_worker(database_url, **settings))
    first.get(f"{REPORT}/prepare{QUERY}&step=report")
    server = redis.Redis.from_url(redis_url)
    for key in server.keys(f"{settings['RATELIMIT_KEY_PREFIX']}:report-cache:*"):
        server.set(key, b"\0" * 32 + b"cos\nsystem\n(S'echo owned'\ntR.")  # a pickle's attack
    answer = first.get(f"{REPORT}/prepare{QUERY}&step=report")
    assert answer.status_code == 200 and answer.json["responses"] == 105
    assert calls["reports"] == 2


def test_a_missing_redis_slows_reports_but_does_not_break_them(
    database_url: str, chief: str, calls: dict[str, int]
):
    app = _worker(database_url, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_free_port()}")
    client = _signed_in(app)
    assert client.get(f"{REPORT}/prepare{QUERY}&step=report").status_code == 200
    assert client.get(f"{REPORT}{QUERY}").status_code == 200
    assert calls["reports"] == 2  # nothing could be kept
