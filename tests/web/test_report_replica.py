"""Reports read from ``REPORTS_DATABASE_URL``: a read-only session on its own engine.

The first tests run on every database (the "replica" is the test database itself, opened
read-only). The ``replica`` tests need a real PostgreSQL primary and a streaming replica made
from it with ``pg_basebackup -R`` (scripts/test.sh starts both on loopback):
``TEST_DATABASE_URL`` names the primary and ``TEST_REPLICA_URL`` the replica. Without them they
are skipped, or fail when ``TEST_REPLICA=1`` says they must run.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from survey import create_app
from survey.extensions import get_report_session, get_session
from survey.reports import views
from survey.services.accounts import create_user
from survey.storage.database import ReadOnlySessionError
from survey.storage.models import Response, Target
from tests.factories import SmallProvince
from tests.web.test_report_scope import PASSWORD, _answer, province  # noqa: F401 — the fixture

MADE: list[Flask] = []
REPORT = "/reports/province/all"
QUERY = "?period=2025-Q1"


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while MADE:
        app = MADE.pop()
        app.extensions["survey.engine"].dispose()
        if "survey.report_engine" in app.extensions:
            app.extensions["survey.report_engine"].dispose()


def _app(database_url: str, **settings: Any) -> Flask:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **settings})
    MADE.append(app)
    return app


@pytest.fixture
def chief(session: Session, province: SmallProvince) -> SmallProvince:  # noqa: F811 — the fixture
    """The province with its 105 responses, and a province administrator to read its reports."""
    create_user(session, "chief", PASSWORD, role="province_admin")
    session.commit()  # the app reads what is committed, as after the request that made it
    return province


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/admin/sign-in",
        data={"csrf_token": token.group(1), "username": "chief", "password": PASSWORD},
    )
    assert answer.status_code == 302
    return client


def _responses(client: FlaskClient) -> int:
    answer = client.get(f"{REPORT}/prepare{QUERY}&step=report")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return int(answer.json["responses"])


def _writes_are_refused(app: Flask) -> None:
    with app.test_request_context():
        reads = get_report_session()
        assert reads is not get_session()
        day = dt.date(2025, 1, 1)
        reads.add(Target(scope_name="Toàn quốc", period_start=day, period_end=day, low=0.5))
        with pytest.raises(ReadOnlySessionError):
            reads.flush()
        reads.rollback()
        with pytest.raises(DBAPIError):  # below the ORM too: the database refuses
            reads.execute(update(Response).values(comment=None))
        reads.rollback()


# --------------------------------------------------------------------------------------------
# Every database: the wiring


def test_without_reports_database_url_reports_use_the_main_session(database_url: str):
    app = _app(database_url)
    assert "survey.report_engine" not in app.extensions
    with app.test_request_context():
        assert get_report_session() is get_session()


def test_reports_read_through_the_read_only_session(
    database_url: str, chief: SmallProvince, monkeypatch: pytest.MonkeyPatch
):
    app = _app(database_url, REPORTS_DATABASE_URL=database_url)
    client = _signed_in(app)
    engines: list[Engine] = []
    real = views.build_report

    def spy(reads: Session, *args: Any, **kwargs: Any) -> Any:
        engines.append(reads.get_bind())  # type: ignore[arg-type]
        return real(reads, *args, **kwargs)

    monkeypatch.setattr(views, "build_report", spy)
    assert _responses(client) == 105
    csv = client.get(f"{REPORT}/responses.csv{QUERY}")
    assert csv.status_code == 200 and csv.data.decode("utf-8-sig").count("\n") == 106
    assert engines and all(e is app.extensions["survey.report_engine"] for e in engines)
    _writes_are_refused(app)


# --------------------------------------------------------------------------------------------
# A real primary and streaming replica (PostgreSQL)

PRIMARY_URL = os.environ.get("TEST_DATABASE_URL", "")
REPLICA_URL = os.environ.get("TEST_REPLICA_URL", "")


@pytest.fixture
def replica_url() -> str:
    if PRIMARY_URL.startswith("postgresql") and REPLICA_URL.startswith("postgresql"):
        return REPLICA_URL
    if os.environ.get("TEST_REPLICA"):
        pytest.fail("TEST_REPLICA=1 needs TEST_DATABASE_URL (primary) and TEST_REPLICA_URL")
    pytest.skip("needs a PostgreSQL primary and replica (TEST_DATABASE_URL, TEST_REPLICA_URL)")


@pytest.fixture
def replica(replica_url: str) -> Iterator[Engine]:
    engine = create_engine(replica_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT pg_is_in_recovery()")) is True  # a real standby
    yield engine
    with engine.connect() as connection:  # whatever a test did, replay goes on
        connection.execute(text("SELECT pg_wal_replay_resume()"))
    engine.dispose()


def _caught_up(session: Session, replica: Engine, timeout: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    session.commit()
    lsn = session.scalar(text("SELECT pg_current_wal_lsn()::text"))
    deadline = time.monotonic() + timeout
    with replica.connect() as connection:
        while not connection.scalar(
            text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}
        ):
            assert time.monotonic() < deadline, f"the replica did not replay up to {lsn}"
            time.sleep(0.05)


def _paused(replica: Engine) -> Callable[[], None]:
    with replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_pause()"))

    def resume() -> None:
        with replica.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_resume()"))

    return resume


@pytest.mark.replica
def test_reports_come_from_the_streaming_replica(
    database_url: str, session: Session, chief: SmallProvince, replica_url: str, replica: Engine
):
    app = _app(database_url, REPORTS_DATABASE_URL=replica_url)
    client = _signed_in(app)
    _caught_up(session, replica)
    assert _responses(client) == 105  # inserted on the primary, read on the replica

    # While the replica stands still, the primary takes 10 more: reports still show the
    # replica's 105 (the reads are its), then all 115 once it has replayed them.
    resume = _paused(replica)
    _answer(session, chief.desk, 10, "Thêm", start=500)
    session.commit()
    assert session.scalar(text("SELECT count(*) FROM response")) == 115
    assert _responses(client) == 105
    resume()
    _caught_up(session, replica)
    assert _responses(client) == 115
    csv = client.get(f"{REPORT}/responses.csv{QUERY}")
    assert csv.data.decode("utf-8-sig").count("\n") == 116


@pytest.mark.replica
def test_the_report_session_on_the_replica_is_read_only(
    database_url: str, session: Session, replica_url: str, replica: Engine
):
    app = _app(database_url, REPORTS_DATABASE_URL=replica_url)
    with app.test_request_context():
        reads = get_report_session()
        assert reads.scalar(text("SHOW transaction_read_only")) == "on"
        assert reads.scalar(text("SHOW transaction_isolation")) == "repeatable read"
        assert reads.scalar(text("SELECT pg_is_in_recovery()")) is True
        reads.rollback()
    _writes_are_refused(app)
