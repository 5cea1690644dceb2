"""Dossier pages: the citizen's rating behind ``/d/<token>`` and the officials' pages under
``/admin/dossiers`` (import, slips, invitations, official figures, complaints, clerks).

One blueprint, its routes in views.py (the citizen's) and admin_views.py (the officials')."""

from flask import Blueprint

dossiers_blueprint = Blueprint("dossiers", __name__)
