"""Fixtures layered as in Flask's tutorial: database → app → client/runner.

The schema is built by running the Alembic migrations, on SQLite by default or on the server named
by ``TEST_DATABASE_URL`` (CI sets it to a real PostgreSQL). Every test starts from empty tables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session

from survey import create_app
from survey.services.questionnaires import seed_questionnaires
from survey.storage.database import upgrade_database
from survey.storage.models import Base
from tests import factories

# Every property test explores the same examples on every run (tests/analysis, the fuzzers in
# tests/web): a red CI must mean a change broke something, not that a new random draw found an
# old edge. Explore more by hand with HYPOTHESIS_PROFILE=explore.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _drop_everything(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _drop_everything(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade_database(url)
    return url


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": "https://survey.example.vn",
            "SESSION_COOKIE_SECURE": False,  # the test client speaks plain HTTP
        }
    )
    yield app
    engine = app.extensions["survey.engine"]
    with engine.begin() as connection:
        _let_this_transaction_empty_the_audit_log(connection)
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


def _let_this_transaction_empty_the_audit_log(connection: Connection) -> None:
    """Tests only: the database refuses DELETE on ``audit_event`` (migrations 0003, 0004), so the
    cleanup between tests steps around the triggers the way a DBA would, inside its own
    transaction; the application has no such path.

    PostgreSQL: ``SET LOCAL session_replication_role = replica`` (superuser only) disables
    ordinary triggers until the transaction ends. SQLite has no such switch: the DELETE trigger
    is dropped and made again from its own SQL in the same transaction.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        return
    triggers = connection.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'audit_event' AND sql LIKE '%BEFORE DELETE%'"
        )
    ).all()
    if not triggers:
        return
    connection.execute(text("DELETE FROM alembic_version WHERE 0"))  # opens the transaction
    for name, _sql in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    connection.execute(text("DELETE FROM audit_event"))
    for _name, sql in triggers:
        connection.execute(text(sql))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session of the test's own; requests made by the test client open theirs."""
    test_session: Session = app.extensions["survey.sessions"]()
    yield test_session
    test_session.close()


@pytest.fixture
def seeded(session: Session) -> factories.SmallProvince:
    """Questionnaires plus a small province: one agency per sector and a retired commune."""
    seed_questionnaires(session)
    province = factories.small_province(session)
    session.commit()
    return province


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields (CSRF token, submission id) of a rendered form."""
    fields = {}
    for name in ("csrf_token", "submission_id"):
        match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
            rf'type="hidden" name="{name}" value="([^"]*)"', html
        )
        if match:
            fields[name] = match.group(1)
    return fields
