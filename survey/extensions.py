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
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["survey.sessions"]()
    return g.db_session


def _close_session(_exception: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
