"""``publish-report``: the public quarterly report as files for a province's portal (cron).

Writes, for an ended quarter (the last one by default), the self-contained page and the PDF in
Vietnamese and in English::

    cong-khai-2025-Q3.html     cong-khai-2025-Q3.pdf
    cong-khai-2025-Q3.en.html  cong-khai-2025-Q3.en.pdf

Running it again with the same data changes no file (each is compared before it is replaced, and
replaced by a rename), so cron may run it every day; the first day of each quarter is enough.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from survey.extensions import get_session, one_transaction
from survey.publication.pages import render_page
from survey.services.errors import DomainError
from survey.services.local_time import today_in_vietnam
from survey.services.publication.quarterly import (
    PublicationSettings,
    file_names,
    public_charts,
    public_pdf,
    public_quarter,
    write_files,
)
from survey.services.publication.quarters import (
    ended_quarter,
    last_ended_quarter,
)

LANGUAGES = ("vi", "en")


def register(app: Flask) -> None:
    @app.cli.command("publish-report")
    @click.option(
        "--period",
        "period_key",
        default=None,
        metavar="QUARTER",
        help="An ended quarter, e.g. 2025-Q3 (default: the last quarter that has ended).",
    )
    @click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
    @one_transaction
    def publish_report(period_key: str | None, out_dir: Path) -> None:
        """Write an ended quarter's public report (page and PDF, Vietnamese and English) into
        OUT_DIR; unchanged files are left as they are. For cron on the first day of a quarter."""
        session = get_session()
        settings = PublicationSettings.from_config(current_app.config)
        today = today_in_vietnam()
        try:
            period = ended_quarter(period_key, today) if period_key else last_ended_quarter(today)
            report = public_quarter(session, period, settings)
        except DomainError as error:
            raise click.ClickException(f"{error.message_en}\n{error.message_vi}") from None
        files: dict[str, bytes] = {}
        # The templates run as in a request to the public address (context processors, filters).
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
            for language in LANGUAGES:
                page, pdf = file_names(report.period_key, language)
                other = file_names(report.period_key, "en" if language == "vi" else "vi")[0]
                charts = public_charts(report, language)
                html = render_page(
                    report,
                    charts,
                    language,
                    {"pdf": pdf, "other_language": other},
                    standalone=True,
                )
                files[page] = html.encode("utf-8")
                files[pdf] = public_pdf(report, language)
        try:
            written = write_files(out_dir, files)
        except OSError as error:
            raise click.ClickException(f"Could not write into {out_dir}: {error}") from None
        changed = sum(1 for file in written if file.changed)
        for file in written:
            click.echo(f"{'written  ' if file.changed else 'unchanged'} {file.path}")
        click.echo(
            f"Public report for {period.label('en')}: {changed} of {len(written)} files written."
        )
