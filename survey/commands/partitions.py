"""``create-partitions``: keep ``response``'s monthly partitions ahead (PostgreSQL; cron, monthly).

Migration 0011 partitions ``response`` by Vietnam month and makes the next 24 months; this command
makes the ones still missing (and moves any rows waiting in the default partition into their
month's new partition). Running it again changes nothing. On SQLite it says so and does nothing.
"""

from __future__ import annotations

import click
from flask import Flask

from survey.extensions import get_session, one_transaction
from survey.services.local_time import today_in_vietnam
from survey.services.partitions import create_partitions


def register(app: Flask) -> None:
    @app.cli.command("create-partitions")
    @click.option(
        "--months",
        type=click.IntRange(0, 120),
        default=24,
        show_default=True,
        help="Make partitions up to this many months after the current one.",
    )
    @one_transaction
    def create_partitions_command(months: int) -> None:
        """Create the missing monthly partitions of responses (PostgreSQL; run monthly)."""
        run = create_partitions(get_session(), months=months, today=today_in_vietnam())
        if not run.partitioned:
            click.echo("Responses are not partitioned on this database (SQLite): nothing to do.")
            return
        if not run.created:
            click.echo(f"Every month up to {months} months ahead has its partition already.")
            return
        click.echo(f"Created {len(run.created)} partitions: {', '.join(run.names)}.")
        if run.moved:
            click.echo(f"Moved {run.moved} responses out of the default partition.")
