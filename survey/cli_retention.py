"""``flask purge-comments``: blank raw comments older than ``COMMENT_RETENTION_DAYS``.

Answers and the response itself stay (the indices do not change); only the free text goes. Run it
daily from cron or a systemd timer. Each run that blanks something is written to the audit log.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from survey.extensions import get_session, one_transaction
from survey.services import audit
from survey.storage import queries
from survey.storage.models import utc_now


def purge_comments_older_than(days: int, *, dry_run: bool = False) -> int:
    """Blank the comments of responses submitted more than ``days`` days ago; return how many."""
    session = get_session()
    cutoff = utc_now() - dt.timedelta(days=days)
    if dry_run:
        return queries.count_comments_before(session, cutoff)
    purged = queries.clear_comments_before(session, cutoff)
    if purged:
        audit.record(
            session,
            None,
            "comments.purged",
            "responses",
            {"count": purged, "older_than_days": days, "cutoff": cutoff.isoformat()},
        )
    return purged


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
    count = purge_comments_older_than(days, dry_run=dry_run)
    verb = "Would blank" if dry_run else "Blanked"
    click.echo(f"{verb} {count} comments of responses older than {days} days.")


def register_retention_commands(app: Flask) -> None:
    app.cli.add_command(purge_comments)
