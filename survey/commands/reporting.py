"""``roll-up-reports``: keep the reports' element roll-ups current (cron, e.g. every 15 minutes).

Reports are exact without it (a month whose roll-up is missing or stale is read from the
answers); with it, a dashboard reads one row per service point and month for its details.
"""

from __future__ import annotations

import click
from flask import Flask

from survey.extensions import get_session, one_transaction
from survey.services.reporting.rollup import roll_up


def register(app: Flask) -> None:
    @app.cli.command("roll-up-reports")
    @one_transaction
    def roll_up_reports() -> None:
        """Store the element indices' per-respondent sums of every service point and month
        whose stored sums are missing or stale (Cập nhật số liệu tổng hợp cho báo cáo)."""
        done = roll_up(get_session())
        click.echo(
            f"Đã cập nhật {done.rows} dòng tổng hợp của {done.months} tháng. / "
            f"Rolled up {done.rows} rows in {done.months} months."
        )
