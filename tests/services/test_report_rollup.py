"""The element roll-ups (survey/services/reporting/rollup.py): a report reads a month's element
sums from ``element_month`` while they match the monthly summaries, from the answers otherwise,
and is the same either way. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from survey.services.demo import load_demo_province
from survey.services.periods import parse_period
from survey.services.reporting import build_report
from survey.services.reporting.rollup import roll_up
from survey.services.responses import submit_response
from survey.storage import queries
from survey.storage import reporting as storage
from survey.storage.models import ElementMonth, Response


def _details(session: Session, key: str) -> list[Any]:
    report = build_report(session, parse_period(key), cache=None)
    return [dataclasses.asdict(detail) for detail in report.details]


def _scans(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The answer ranges each per-respondent query reads (None: the whole window)."""
    seen: list[Any] = []
    real = storage.respondent_sums

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("within"))
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "respondent_sums", spy)
    return seen


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo_province(session)
    session.commit()
    return session


def test_the_demo_is_rolled_up_and_its_details_read_no_answer(
    demo: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = demo.scalar(select(func.count()).select_from(ElementMonth))
    assert rows and rows > 0
    rolled = _details(demo, "2025")
    scans = _scans(monkeypatch)
    assert _details(demo, "2025") == rolled
    assert scans == []  # every month of the year came from the roll-ups
    demo.execute(delete(ElementMonth))
    assert _details(demo, "2025") == rolled  # from the answers: the same details
    assert scans and all(within == [] or within is None or len(within) > 0 for within in scans)


def test_a_new_response_makes_its_month_stale_until_the_next_roll_up(
    demo: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    point = queries.all_service_points(demo)[0]
    questionnaire = queries.active_questionnaire(demo, point.agency.sector)
    assert questionnaire is not None
    before = _details(demo, "2025-Q2")
    submit_response(
        demo,
        point=point,
        questionnaire=questionnaire,
        answers={item.code: 1 for item in questionnaire.items},
        idempotency_key="a" * 32,
        channel="qr",
        submitted_at=dt.datetime(2025, 5, 14, 3, tzinfo=dt.UTC),
    )
    demo.commit()
    scans = _scans(monkeypatch)
    after = _details(demo, "2025-Q2")
    assert after != before  # the new answers count at once, without a roll-up
    assert len(scans) >= 1 and all(s and len(s) == 1 for s in scans)  # May alone, live
    live = _details_without_rollups(demo, "2025-Q2")
    assert after == live
    done = roll_up(demo)
    demo.commit()
    assert done.rows >= 1 and done.months == 1
    scans.clear()
    assert _details(demo, "2025-Q2") == live
    assert scans == []


def test_an_excluded_response_and_a_blanked_answer_are_seen(demo: Session) -> None:
    first = demo.scalars(select(Response.id).order_by(Response.id).limit(40)).all()
    demo.execute(update(Response).where(Response.id.in_(first)).values(excluded=True))
    demo.commit()
    assert _details(demo, "2025") == _details_without_rollups(demo, "2025")


def _details_without_rollups(session: Session, key: str) -> list[Any]:
    kept = session.scalars(select(ElementMonth)).all()
    saved = [
        {
            c: getattr(row, c)
            for c in ("service_point_id", "month", "shape", "responses", "answers", "sums")
        }
        for row in kept
    ]
    session.execute(delete(ElementMonth))
    try:
        return _details(session, key)
    finally:
        for row in saved:
            session.add(ElementMonth(**row))
        session.flush()


def test_the_roll_up_command_reports_what_it_did(app: Flask, demo: Session) -> None:
    demo.execute(delete(ElementMonth))
    demo.commit()
    result = app.test_cli_runner().invoke(args=["roll-up-reports"])
    assert result.exit_code == 0, result.output
    assert "Rolled up" in result.output and "Đã cập nhật" in result.output
    assert demo.scalar(select(func.count()).select_from(ElementMonth))
    again = app.test_cli_runner().invoke(args=["roll-up-reports"])
    assert "Rolled up 0 rows in 0 months." in again.output
