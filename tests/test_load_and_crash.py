"""The load and crash scenarios of ``benchmarks/load`` in short form, against real servers.

Each test starts ``gunicorn wsgi:app`` with the production settings on loopback (rate limits
lifted, as in the benchmark), lets a few clients submit the public form, and reads the database
back: every acknowledged submission is stored exactly once with the answers that were sent, and
every POST whose acknowledgement was lost is stored once after it is sent again.

The PostgreSQL test starts a throwaway server of its own (it must restart it with
``pg_ctl restart -m immediate``, which a shared server such as ``TEST_DATABASE_URL`` must not
suffer); it needs Debian's ``postgresql`` and fails rather than skips when ``TEST_DATABASE_URL``
is set (CI), where the server binaries are always installed. No timing is asserted here: the speed
goals live in ``python -m benchmarks.load``.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.load.scenario import LoadOptions, RunReport, run_scenario
from benchmarks.load.servers import GunicornSettings, postgres_bin_dir

SMALL = GunicornSettings(workers=2)


def _assert_exactly_once(report: RunReport) -> None:
    verification = report.verification
    assert verification is not None
    assert verification.acknowledged > 0
    assert verification.missing == 0, "acknowledged responses are missing"
    assert verification.duplicates == 0, "responses are stored twice"
    assert verification.mismatched == 0, "stored answers differ from the acknowledged ones"
    assert verification.unexplained == 0, "responses stored that nobody saw acknowledged"
    assert verification.stored_once == verification.acknowledged == verification.stored
    assert report.resent_acknowledged == report.resent_after_load
    assert report.duplicates_resent > 0
    assert report.duplicates_resent_acknowledged == report.duplicates_resent
    assert report.ok


def _assert_no_traceback_shown(report: RunReport) -> None:
    for outcome, seen in report.samples.items():
        assert "TRACEBACK" not in seen, f"{outcome}: {seen}"
        assert not outcome.startswith("HTTP 4"), f"a valid submission was rejected: {seen}"


def test_load_on_sqlite_acknowledges_only_what_is_stored_once() -> None:
    report = run_scenario(
        LoadOptions(engine="sqlite", seconds=2, clients=8, trivial_seconds=0, gunicorn=SMALL)
    )
    _assert_exactly_once(report)
    assert set(report.outcomes) == {"302 thank-you"}, report.samples
    assert report.unhandled_errors_logged == 0


def test_sigkill_of_gunicorn_on_sqlite_loses_no_acknowledged_response() -> None:
    report = run_scenario(
        LoadOptions(
            engine="sqlite", seconds=8, clients=8, crash=True, trivial_seconds=0, gunicorn=SMALL
        )
    )
    (kill,) = report.events
    assert kill.wall is not None, "the kill did not happen during the load"
    assert report.lost_acknowledgements > 0, "no POST was in flight or refused during the kill"
    _assert_exactly_once(report)
    _assert_no_traceback_shown(report)


def test_sigkill_and_immediate_database_restart_on_postgresql_lose_nothing() -> None:
    if postgres_bin_dir() is None:
        if os.environ.get("TEST_DATABASE_URL"):
            pytest.fail("TEST_DATABASE_URL is set but PostgreSQL's initdb is not installed")
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    report = run_scenario(
        LoadOptions(
            engine="postgresql",
            seconds=10,
            clients=8,
            crash=True,
            trivial_seconds=0,
            gunicorn=SMALL,
        )
    )
    kill, restart = report.events
    assert kill.wall is not None and restart.wall is not None
    assert report.lost_acknowledgements > 0
    _assert_exactly_once(report)
    _assert_no_traceback_shown(report)
