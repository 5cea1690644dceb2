"""The citizen-satisfaction web application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from survey.config import load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory; ``test_config`` overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_settings(app.instance_path, test_config))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "translations")

    from survey import cli, errors, extensions, i18n, ratelimit, security, templating
    from survey.admin import account_views, admin_blueprint, setup_views  # noqa: F401 (routes)
    from survey.admin.kiosk_views import kiosk_admin_blueprint
    from survey.dossiers import dossiers_blueprint
    from survey.kiosk import kiosk_blueprint
    from survey.public import public_blueprint
    from survey.reports import reports_blueprint
    from survey.services import access

    extensions.init_database(app)
    extensions.babel.init_app(app, locale_selector=i18n.select_language)
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    access.init_app(app)
    security.init_app(app)
    app.after_request(i18n.remember_language)
    app.register_blueprint(public_blueprint)
    app.register_blueprint(admin_blueprint, url_prefix="/admin")
    app.register_blueprint(reports_blueprint, url_prefix="/reports")
    app.register_blueprint(kiosk_blueprint, url_prefix="/kiosk")
    app.register_blueprint(kiosk_admin_blueprint, url_prefix="/admin")
    app.register_blueprint(dossiers_blueprint)  # /d/<token> and /admin/dossiers/…
    errors.register_error_handlers(app)
    ratelimit.init_app(app)  # after the blueprints: it wraps their views
    templating.register_templating(app)
    cli.register_commands(app)
    extensions.commit_each_request(app)  # last: its hook runs before the other after_request ones
    return app
