"""Dossier pages: the citizen's rating behind ``/d/<token>`` and the officials' pages under
``/admin/dossiers`` (import, slips, invitations, official figures, complaints, clerks)."""

from flask import Blueprint

dossiers_blueprint = Blueprint("dossiers", __name__)

from survey.dossiers import admin_views, views  # noqa: E402,F401  (routes register on import)
