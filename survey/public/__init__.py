"""Pages citizens see: the questionnaire behind each QR code."""

from flask import Blueprint

public_blueprint = Blueprint("public", __name__)

from survey.public import views  # noqa: E402,F401  (routes register on import)
