"""Commands for comments and alerts: ``tag-comments`` (cron) and ``send-alerts``."""

from __future__ import annotations

import click
from flask import Flask, current_app

from survey.extensions import get_session, one_transaction
from survey.services.alerts import AlertSettings, alerts_for_period, digest, send_digest
from survey.services.comments.tagging import BATCH, tag_all
from survey.services.errors import DomainError
from survey.services.local_time import today_in_vietnam
from survey.services.periods import Period, ensure_supported, parse_period, quarter_of


def _last_complete_quarter() -> Period:
    return quarter_of(today_in_vietnam()).previous()


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
    @one_transaction
    def tag_comments(limit: int | None, batch: int) -> None:
        """Tag comments with topics (those not yet tagged by the current lexicon); for cron."""
        session = get_session()
        # Each batch is committed as it is stored, deliberately: a long run stopped halfway (cron's
        # timeout) keeps what it did, and no comment stays locked for the whole run.
        run = tag_all(session, limit=limit, batch=batch, after_batch=session.commit)
        click.echo(
            f"Tagged {run.tagged} comments with lexicon {run.version}; {run.remaining} left."
        )

    @app.cli.command("send-alerts")
    @click.option(
        "--period",
        "period_key",
        default=None,
        help="2025-Q3, 2025-H2, 2025 … (default: the last complete quarter).",
    )
    @click.option("--to", "extra", multiple=True, help="A recipient (repeat; adds to ALERT_TO).")
    @click.option("--dry-run", is_flag=True, help="Print the digest; send nothing.")
    @click.option("--send-empty", is_flag=True, help="Send a digest even when there is no alert.")
    @one_transaction
    def send_alerts(
        period_key: str | None, extra: tuple[str, ...], dry_run: bool, send_empty: bool
    ) -> None:
        """E-mail the agencies significantly below target or fallen since the previous period."""
        session = get_session()
        config = current_app.config
        try:
            period = ensure_supported(parse_period(period_key)) if period_key else None
            settings = AlertSettings.from_config(config, instance_path=current_app.instance_path)
        except DomainError as error:
            raise click.ClickException(error.message_en) from None
        period = period or _last_complete_quarter()
        alerts = alerts_for_period(session, period, min_n=config["MIN_RESPONSES_FOR_INDEX"])
        recipients = [*settings.recipients, *(a.strip() for a in extra if a.strip())]
        link = f"{config['PUBLIC_BASE_URL']}/reports/province/all?period={period.key}"
        if dry_run:
            message = digest(alerts, settings.from_address, recipients or ["-"], link=link)
            click.echo(f"Subject: {message['Subject']}\n\n{message.get_content()}")
            return
        if not alerts and not send_empty:
            click.echo(f"No alerts for {period.label('en')}; nothing sent.")
            return
        try:
            where = send_digest(session, alerts, settings, recipients, link=link)
        except DomainError as error:
            raise click.ClickException(error.message_en) from None
        except OSError as error:  # smtplib's connection and protocol errors
            raise click.ClickException(f"The digest could not be sent: {error}") from None
        click.echo(
            f"Sent alerts for {period.label('en')} ({len(alerts.alerts)} agencies) "
            f"to {len(recipients)} recipients via {where}."
        )
