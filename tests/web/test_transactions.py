"""One transaction per request or command (survey/extensions.py): services flush, the request or
the command commits once, and a failure leaves nothing behind.

Each test reads the database back through a session of its own (``fresh``), as another request
would: only what was committed is there. They run on SQLite and, with ``TEST_DATABASE_URL``, on
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from survey.services import kiosks
from survey.services.accounts import create_user
from survey.services.errors import InvalidAnswers
from survey.services.kiosks import pair_kiosk, register_kiosk
from survey.services.questionnaires import open_service_point
from survey.storage.models import (
    Answer,
    AuditEvent,
    Kiosk,
    Response,
    ResponseFlag,
    SignInThrottle,
    User,
)
from tests.conftest import form_fields
from tests.factories import SmallProvince

PAIRED = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
PASSWORD = "correct horse battery"


@pytest.fixture
def fresh(app: Flask) -> Iterator[Session]:
    """Another session: it sees what was committed, nothing else."""
    other: Session = app.extensions["survey.sessions"]()
    yield other
    other.close()


def _count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def token(session: Session, seeded: SmallProvince) -> str:
    pairing = register_kiosk(
        session, service_point_id=seeded.desk.id, label="Quầy 1", user_id=None, now=PAIRED
    )
    token = pair_kiosk(session, pairing.code, now=PAIRED).token
    session.commit()  # the test plays the request that registered and paired the kiosk
    return token


def _kiosk_answer(session: Session, seeded: SmallProvince, **fields: Any) -> dict[str, Any]:
    _point, questionnaire = open_service_point(session, seeded.desk.public_code)
    return {
        "client_id": str(uuid.uuid4()),
        "answers": {item.code: 4 for item in questionnaire.items},
        "comment": None,
        "language": "vi",
        "device_time": (PAIRED + dt.timedelta(hours=2)).isoformat(),
        "questionnaire_id": questionnaire.id,
        **fields,
    }


class Recorder:
    """The SQL statements and the commits of an engine while it listens."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.commits = 0

    def statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(" ".join(statement.split()))

    def commit(self, _conn: Any) -> None:
        self.commits += 1

    def writing(self, table: str) -> list[str]:
        """The statements that insert into or update ``table`` (not a table named like it)."""
        pattern = re.compile(rf"\b(INSERT INTO|UPDATE) {table}\b(?!_)", re.IGNORECASE)
        return [s for s in self.statements if pattern.search(s)]


@pytest.fixture
def recorder(app: Flask) -> Iterator[Recorder]:
    engine = app.extensions["survey.engine"]
    recording = Recorder()
    event.listen(engine, "before_cursor_execute", recording.statement)
    event.listen(engine, "commit", recording.commit)
    yield recording
    event.remove(engine, "before_cursor_execute", recording.statement)
    event.remove(engine, "commit", recording.commit)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- a kiosk answer ------------------------------------------------------------------------------


def test_a_kiosk_answer_is_one_insert_with_its_flags_in_one_commit(
    client: FlaskClient,
    session: Session,
    seeded: SmallProvince,
    token: str,
    recorder: Recorder,
    fresh: Session,
):
    # A device time a day ahead of the server: stored with the arrival time and flagged.
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    payload = _kiosk_answer(session, seeded, device_time=ahead.isoformat())
    answer = client.post("/kiosk/api/responses", json=payload, headers=_auth(token))
    assert answer.status_code == 201, answer.get_json()

    (insert,) = recorder.writing("response")  # one INSERT, never an UPDATE afterwards
    assert insert.upper().startswith(("INSERT INTO RESPONSE", "WITH NEW_RESPONSE AS (INSERT"))
    assert "kiosk_id" in insert and "device_time" in insert
    if fresh.get_bind().dialect.name == "postgresql":
        assert "INSERT INTO answer" in insert  # the answers travel in the same statement
    assert len(recorder.writing("response_flag")) == 1
    assert len(recorder.writing("kiosk")) == 1  # its last-seen time
    assert recorder.commits == 1

    stored = fresh.scalar(select(Response))
    assert stored is not None and stored.kiosk_id is not None
    assert stored.device_time == stored.submitted_at  # the arrival time, as the flag says
    flags = fresh.scalars(select(ResponseFlag.kind)).all()
    assert flags == ["implausible_time"]


def test_a_replayed_kiosk_answer_changes_nothing(
    client: FlaskClient,
    session: Session,
    seeded: SmallProvince,
    token: str,
    recorder: Recorder,
    fresh: Session,
):
    payload = _kiosk_answer(session, seeded)
    first = client.post("/kiosk/api/responses", json=payload, headers=_auth(token))
    assert first.status_code == 201
    answers = _count(fresh, Answer)
    recorder.statements.clear()
    again = client.post("/kiosk/api/responses", json=payload, headers=_auth(token))
    assert again.status_code == 200
    assert again.get_json()["response_id"] == first.get_json()["response_id"]
    # The same INSERT is tried and inserts nothing (ON CONFLICT DO NOTHING); nothing is updated.
    (insert,) = recorder.writing("response")
    assert "ON CONFLICT" in insert.upper()
    assert not [s for s in recorder.statements if s.upper().startswith("UPDATE RESPONSE")]
    assert not recorder.writing("response_flag")
    assert _count(fresh, Response) == 1 and _count(fresh, Answer) == answers


# --- a request that fails writes nothing ---------------------------------------------------------


def _then(failure: BaseException) -> Any:
    """``submit_from_kiosk`` as it is, followed by ``failure``: its writes were flushed."""
    real = kiosks.submit_from_kiosk

    def stored_then_failed(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise failure

    return stored_then_failed


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (RuntimeError("a bug after the answer was flushed"), 500),
        (InvalidAnswers("Không hợp lệ.", "Not valid."), 422),
    ],
)
def test_a_request_that_fails_after_a_flush_leaves_nothing(
    client: FlaskClient,
    session: Session,
    seeded: SmallProvince,
    token: str,
    fresh: Session,
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
    status: int,
):
    monkeypatch.setattr("survey.kiosk.views.submit_from_kiosk", _then(failure))
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # an answer that is also flagged
    payload = _kiosk_answer(session, seeded, device_time=ahead.isoformat())
    answer = client.post("/kiosk/api/responses", json=payload, headers=_auth(token))
    assert answer.status_code == status
    assert _count(fresh, Response) == 0
    assert _count(fresh, ResponseFlag) == 0
    kiosk = fresh.scalar(select(Kiosk))
    assert kiosk is not None and kiosk.last_seen_at is None


def test_a_commit_that_fails_is_answered_as_a_failure_not_a_thank_you(
    app: Flask, client: FlaskClient, seeded: SmallProvince, fresh: Session
):
    page = client.get(f"/s/{seeded.desk.public_code}")
    fields = form_fields(page.get_data(as_text=True))
    answers = {
        "q_access": "5",
        "q_procedures": "4",
        "q_staff_courtesy": "4",
        "q_staff_guidance": "3",
        "q_results": "na",
        "q_feedback": "2",
        "q_overall": "4",
    }

    def database_went_away(_conn: Any) -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    engine = app.extensions["survey.engine"]
    event.listen(engine, "commit", database_went_away)
    try:
        posted = client.post(f"/s/{seeded.desk.public_code}", data={**fields, **answers})
    finally:
        event.remove(engine, "commit", database_went_away)
    # Not the redirect to the thank-you page: the "busy, send again" page, with its headers.
    assert posted.status_code == 503 and posted.headers["Retry-After"] == "5"
    assert "Content-Security-Policy" in posted.headers
    assert _count(fresh, Response) == 0
    again = client.post(f"/s/{seeded.desk.public_code}", data={**fields, **answers})
    assert again.status_code == 302  # sent again, stored once
    assert _count(fresh, Response) == 1


def test_a_failed_sign_in_is_kept_though_its_request_is_rolled_back(
    client: FlaskClient, session: Session, fresh: Session
):
    create_user(session, "officer", PASSWORD)
    session.commit()
    fields = form_fields(client.get("/admin/sign-in").get_data(as_text=True))
    refused = client.post(
        "/admin/sign-in", data={**fields, "username": "officer", "password": "not the password"}
    )
    assert refused.status_code == 401
    # A separate transaction on purpose (survey/services/accounts.py): the back-off counts it and
    # the audit log keeps it.
    failed = fresh.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in.failed")).all()
    assert len(failed) == 1 and failed[0].details["reason"] == "wrong_password"
    throttles = fresh.scalars(select(SignInThrottle)).all()
    assert throttles and all(row.failures == 1 for row in throttles)


# --- commands ------------------------------------------------------------------------------------


def test_every_command_commits_once(app: Flask):
    commands = app.cli.commands
    assert "init-db" in commands and "import-dossiers" in commands
    for name, command in commands.items():
        assert getattr(command.callback, "one_transaction", False), f"{name} is not wrapped"


def test_a_command_that_fails_after_a_flush_leaves_nothing(
    runner: FlaskCliRunner, fresh: Session, monkeypatch: pytest.MonkeyPatch
):
    real = create_user

    def created_then_failed(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise InvalidAnswers("Hỏng.", "Broken after the account was flushed.")

    monkeypatch.setattr("survey.cli.create_user", created_then_failed)
    failed = runner.invoke(args=["create-admin", "chief", "--password", "a-long-secret-1"])
    assert failed.exit_code != 0 and "Broken after" in failed.output
    assert _count(fresh, User) == 0
    assert _count(fresh, AuditEvent) == 0


def test_a_command_commits_when_it_succeeds(runner: FlaskCliRunner, fresh: Session):
    made = runner.invoke(args=["create-admin", "chief", "--password", "a-long-secret-1"])
    assert made.exit_code == 0, made.output
    assert fresh.scalar(select(User.username)) == "chief"
    assert fresh.scalar(select(AuditEvent.action)) == "user.created"
