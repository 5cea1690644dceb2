"""Commands for comments and alerts: ``tag-comments`` (cron) and ``send-alerts``."""

from __future__ import annotations

import click
from flask import Flask

from survey.extensions import get_session
from survey.services.comments.tagging import BATCH, tag_all


def register(app: Flask) -> None:
    @app.cli.command("tag-comments")
    @click.option(
        "--limit", type=click.IntRange(1), default=None, help="Tag at most this many (all)."
    )
    @click.option(
        "--batch",
        type=click.IntRange(1, 10_000),
        default=BATCH,
        show_default=True,
        help="Comments per transaction.",
    )
    def tag_comments(limit: int | None, batch: int) -> None:
        """Tag comments with topics (those not yet tagged by the current lexicon); for cron."""
        run = tag_all(get_session(), limit=limit, batch=batch)
        click.echo(
            f"Tagged {run.tagged} comments with lexicon {run.version}; {run.remaining} left."
        )
