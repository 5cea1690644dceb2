"""Dashboards, printable reports and exports for officials."""

from flask import Blueprint

reports_blueprint = Blueprint("reports", __name__)
