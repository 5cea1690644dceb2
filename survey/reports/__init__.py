"""Dashboards, printable reports and exports for officials."""

from flask import Blueprint

reports_blueprint = Blueprint("reports", __name__)

from survey.reports import views  # noqa: E402,F401  (routes register on import)
