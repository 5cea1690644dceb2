"""The public quarterly report: ``/cong-khai/`` (no sign-in), its pages and PDFs."""

from flask import Blueprint

publication_blueprint = Blueprint("publication", __name__)

from survey.publication import views  # noqa: E402,F401  (routes register on import)
