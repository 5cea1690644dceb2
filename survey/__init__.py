"""The citizen-satisfaction web application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from survey.config import apply_instance_settings, load_settings

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
    if test_config is None:  # tests set what they need; a copy's own settings stay out of them
        apply_instance_settings(app.instance_path)
    app.config.update(load_settings(app.instance_path, test_config))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "translations")

    from survey import (
        auth,
        cli,
        compression,
        errors,
        extensions,
        i18n,
        ratelimit,
        report_cache,
        security,
        templating,
    )

    extensions.init_database(app)
    compression.init_app(app)  # first: its after_request handler runs last
    report_cache.init_app(app)  # reports and charts: Redis when the rate limits use it
    extensions.babel.init_app(app, locale_selector=i18n.select_language)
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    app.after_request(i18n.remember_language)
    register_blueprints(app)
    errors.register_error_handlers(app)
    ratelimit.init_app(app)  # after the blueprints: it wraps their views
    templating.register_templating(app)
    cli.register_commands(app)
    extensions.commit_each_request(app)  # last: its hook runs before the other after_request ones
    return app


def register_blueprints(app: Flask) -> None:
    """Mount every page of the application: each blueprint with its URL prefix and the modules
    holding its routes. A route module adds its views to its package's blueprint when it is
    imported; this is the one place that imports them for that."""
    from survey import admin, dossiers, kiosk, public, publication, reports
    from survey.admin import account_views, comment_views, kiosk_views, setup_views
    from survey.admin import views as admin_views
    from survey.dossiers import admin_views as dossier_admin_views
    from survey.dossiers import views as dossier_views
    from survey.kiosk import views as kiosk_device_views
    from survey.public import views as public_views
    from survey.publication import views as publication_views
    from survey.reports import views as report_views

    # (blueprint, URL prefix, route modules); the dossiers' routes are /d/… and /admin/dossiers/…
    mounted = (
        (public.public_blueprint, None, [public_views]),
        (admin.admin_blueprint, "/admin", [admin_views, account_views, comment_views, setup_views]),
        (admin.kiosk_admin_blueprint, "/admin", [kiosk_views]),
        (reports.reports_blueprint, "/reports", [report_views]),
        (kiosk.kiosk_blueprint, "/kiosk", [kiosk_device_views]),
        (dossiers.dossiers_blueprint, None, [dossier_views, dossier_admin_views]),
        (publication.publication_blueprint, None, [publication_views]),  # /cong-khai/
    )
    for blueprint, url_prefix, _route_modules in mounted:
        app.register_blueprint(blueprint, url_prefix=url_prefix)
