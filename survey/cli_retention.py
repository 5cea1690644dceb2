"""``flask purge-comments``: blank raw comments older than ``COMMENT_RETENTION_DAYS``.

Answers and the response itself stay (the indices do not change); only the free text goes. Run it
daily from cron or a systemd timer. Each run that blanks something is written to the audit log
(survey/services/comments/retention.py).
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from survey.extensions import get_session, one_transaction
from survey.services.comments.retention import purge_old_comments


@click.command("purge-comments")
@click.option("--days", type=click.IntRange(min=1), help="Override COMMENT_RETENTION_DAYS.")
@click.option("--dry-run", is_flag=True, help="Only count what would be blanked.")
@with_appcontext
@one_transaction
def purge_comments(days: int | None, dry_run: bool) -> None:
    """Blank raw comments older than COMMENT_RETENTION_DAYS (answers are kept)."""
    days = days or current_app.config.get("COMMENT_RETENTION_DAYS")
    if not days:
        raise click.ClickException(
            "No retention period: set COMMENT_RETENTION_DAYS (e.g. 365) or pass --days."
        )
    session = get_session()
    count = purge_old_comments(session, days, dry_run=dry_run)
    verb = "Would blank" if dry_run else "Blanked"
    click.echo(f"{verb} {count} comments of responses older than {days} days.")


def register_retention_commands(app: Flask) -> None:
    app.cli.add_command(purge_comments)
