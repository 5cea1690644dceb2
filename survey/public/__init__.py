"""Pages citizens see: the questionnaire behind each QR code."""

from flask import Blueprint

public_blueprint = Blueprint("public", __name__)
