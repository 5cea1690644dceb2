"""Pages for signed-in officials, under ``/admin``.

Two blueprints: ``admin`` (views.py, account_views.py, comment_views.py, setup_views.py) and
``kiosk_admin`` (kiosk_views.py: kiosks and flagged responses). The factory (survey/__init__.py)
imports those modules and mounts both.
"""

from flask import Blueprint

admin_blueprint = Blueprint("admin", __name__)
kiosk_admin_blueprint = Blueprint("kiosk_admin", __name__)
