"""Shared extension objects, bound to the app in create_app."""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from survey.storage.database import make_engine, make_session_factory

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


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
