"""Pages for signed-in officials."""

from flask import Blueprint

admin_blueprint = Blueprint("admin", __name__)

from survey.admin import comment_views, views  # noqa: E402,F401  (routes register on import)
