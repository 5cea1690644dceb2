"""Shared extension objects, bound to the app in create_app, and the database session's life.

One transaction per request or command
    Services flush (to get ids, to meet the database's constraints early) but never commit: the
    request, or the command, that called them owns the transaction and ends it once.

    * A request: ``_end_request_transaction`` (an ``after_request`` hook) commits when the
      response is a success (status below 400) and discards everything otherwise (an error page,
      a form sent back with 4xx, a refused import). It is an ``after_request`` hook, not a
      teardown, because it must run *before* the response leaves: a commit that fails (the
      database restarting, a constraint met only at commit) becomes the error page of that
      failure, so a citizen or a kiosk is never told "stored" about an answer that was not. A
      teardown runs after the response is made and its errors are only logged.
    * ``_close_session`` (``teardown_appcontext``) then closes the session whatever happened,
      also when an exception skipped the hook: what was not committed is gone.
    * A command: ``one_transaction`` wraps every ``flask`` command and commits once when it
      returns; an error (``click.ClickException`` included) leaves nothing behind.

    The few writes that must outlive a rolled-back request take a separate short transaction on
    purpose, named at the call: ``survey.storage.database.separate_transaction`` (a failed
    sign-in's back-off counter and audit event: that request answers 401 or 429).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from survey.storage.database import make_engine, make_session_factory

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()

C = TypeVar("C", bound=Callable[..., Any])
log = logging.getLogger(__name__)


def init_database(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["survey.engine"] = engine
    app.extensions["survey.sessions"] = make_session_factory(engine)
    reports_url = app.config.get("REPORTS_DATABASE_URL")
    if reports_url:
        report_engine = make_engine(reports_url, read_only=True)
        app.extensions["survey.report_engine"] = report_engine
        app.extensions["survey.report_sessions"] = make_session_factory(
            report_engine, read_only=True
        )
    app.teardown_appcontext(_close_session)


def commit_each_request(app: Flask) -> None:
    """Register the request's commit. Call it after every other ``after_request`` hook is
    registered: Flask runs them in reverse order, so this one runs first and an error page made
    from a failed commit still gets the security headers and cookies of the others."""
    app.after_request(_end_request_transaction)


def get_session() -> Session:
    """The session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["survey.sessions"]()
    return g.db_session


def get_report_session() -> Session:
    """The session that reports and their exports read from: on ``REPORTS_DATABASE_URL`` (a
    streaming replica; read-only, one snapshot per transaction) when it is set, else the request's
    main session (:func:`get_session`). Never write through it: audit records and every other
    change go through :func:`get_session`."""
    factory = current_app.extensions.get("survey.report_sessions")
    if factory is None:
        return get_session()
    if "report_session" not in g:
        g.report_session = factory()
    return g.report_session


def _close_session(_exception: BaseException | None) -> None:
    for name in ("db_session", "report_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def discard_changes() -> None:
    """Throw away what this request or command has written so far (it is not committed).

    For a view that catches a service's refusal and then reads the database to show the page
    again, or still answers with a success (a redirect with a flashed message): the page shows
    what is stored, and nothing the service flushed before refusing is committed."""
    session = g.get("db_session")
    if session is not None:
        _discard(session)


def _discard(session: Session) -> None:
    # ``close`` rather than ``rollback``: both end the transaction without committing, but a
    # rollback also expires every object the session loaded, among them the questionnaires that
    # survey/services/questionnaires.py keeps for the whole process; ``close`` detaches them as
    # they were loaded. The session opens a new transaction if it is used again.
    try:
        session.close()
    except Exception:  # the rollback itself failed: the error page already says what happened
        log.warning("a failed request could not be rolled back; its connection is dropped")
        _give_up_connection(session)


def _end_request_transaction(response: Response) -> Response:
    session = g.get("db_session")
    if session is None:
        return response
    if response.status_code >= 400:
        _discard(session)
        return response
    try:
        session.commit()
    except Exception as error:  # answered by the error handlers, as a view's error would be
        _give_up_connection(session)
        return current_app.make_response(current_app.handle_user_exception(error))
    return response


def _give_up_connection(session: Session) -> None:
    """When ending the transaction failed: drop the session's connection rather than hand it
    back to the pool. Its state is unknown (SQLite keeps a transaction open when its COMMIT
    fails), and the next request to take it from the pool must not find this one's writes."""
    session.invalidate()


def one_transaction(command: C) -> C:
    """Every CLI command's callback (inside its app context): the command's writes are committed
    once, when it returns; an exception — a ``click.ClickException`` or ``SystemExit`` included —
    discards them. Long imports are therefore all-or-nothing, like a request."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            result = command(*args, **kwargs)
        except BaseException:
            discard_changes()
            raise
        session = g.get("db_session")
        if session is not None:
            try:
                session.commit()
            except BaseException:
                _give_up_connection(session)
                raise
        return result

    run.one_transaction = True  # type: ignore[attr-defined]  # tests/web/test_transactions.py
    return run  # type: ignore[return-value]
