"""The public quarterly report: ``/cong-khai/`` (no sign-in), its pages and PDFs."""

from flask import Blueprint

publication_blueprint = Blueprint("publication", __name__)
