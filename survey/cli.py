"""Command line (``flask --app wsgi <command>``): database, demo, accounts, QR codes, exports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Flask, current_app

from survey.cli_retention import register_retention_commands
from survey.commands import comments as comment_commands
from survey.commands import partitions as partition_commands
from survey.commands import publication as publication_commands
from survey.commands import reporting as reporting_commands
from survey.commands.dossiers import register_dossier_commands
from survey.commands.setup import register_setup_commands
from survey.extensions import get_session, one_transaction
from survey.services import qr
from survey.services.accounts import (
    ROLES,
    agency_id_by_code,
    create_user,
    reset_development_admin,
)
from survey.services.agencies import service_points_for_posters
from survey.services.demo import load_demo_province
from survey.services.errors import DomainError
from survey.services.exports import export_responses_file
from survey.services.integrity import IntegritySettings, default_scan_days, scan_for_anomalies
from survey.services.overview import count_responses
from survey.services.periods import FIRST_YEAR, LAST_YEAR
from survey.services.questionnaires import seed_questionnaires
from survey.services.service_points import open_points_of_sector
from survey.services.targets import seed_targets
from survey.storage.database import upgrade_database
from survey.storage.models import SECTORS

#: Rows between two progress lines of ``export-responses`` on stderr.
EXPORT_PROGRESS_ROWS = 100_000


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date like 2025-07-01.") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise click.BadParameter(f"'{value}': exports cover the years {FIRST_YEAR}–{LAST_YEAR}.")
    return day


def register_commands(app: Flask) -> None:
    register_retention_commands(app)
    comment_commands.register(app)
    partition_commands.register(app)
    publication_commands.register(app)
    reporting_commands.register(app)
    register_setup_commands(app)
    register_dossier_commands(app)

    @app.cli.command("init-db")
    @one_transaction
    def init_db() -> None:
        """Create or upgrade the database schema (Alembic) and seed questionnaires and targets."""
        upgrade_database(current_app.config["DATABASE_URL"])
        session = get_session()
        added = seed_questionnaires(session) + seed_targets(session)
        click.echo(f"Database is at the latest schema ({added} shipped records added).")

    @app.cli.command("load-demo")
    @one_transaction
    def load_demo() -> None:
        """Load the demo province (Điện Biên, 2025) unless it is already loaded."""
        upgrade_database(current_app.config["DATABASE_URL"])
        session = get_session()
        demo = load_demo_province(session)
        if demo.created:
            click.echo(f"Demo province loaded: {count_responses(session)} responses.")
        else:
            click.echo("Demo province already loaded; nothing added.")
        base = current_app.config["PUBLIC_BASE_URL"]
        click.echo("A few service-point URLs (open one on a phone):")
        for sector in ("administrative", "health", "education"):
            for point in open_points_of_sector(session, sector, limit=2):
                click.echo(
                    f"  {point.agency.name_vi} — {point.name_vi}: "
                    f"{qr.service_point_url(base, point)}"
                )

    @app.cli.command("create-admin")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), default="province_admin", show_default=True)
    @click.option(
        "--sector",
        type=click.Choice(SECTORS),
        help="The sector of a sector administrator or a sector viewer.",
    )
    @click.option(
        "--agency",
        "agency_code",
        metavar="CODE",
        help="The agency (its code) of an agency manager or an agency viewer; "
        "its sub-units are included.",
    )
    @click.password_option(help="Asked for when not given.")
    @one_transaction
    def create_admin(
        username: str, role: str, sector: str | None, agency_code: str | None, password: str
    ) -> None:
        """Create an official's account: a province administrator (the default), or a sector
        administrator (--sector), an agency manager (--agency) or a viewer (one of the two)."""
        session = get_session()
        try:
            agency_id = agency_id_by_code(session, agency_code) if agency_code else None
            user = create_user(
                session, username, password, role, sector=sector, scope_agency_id=agency_id
            )
        except DomainError as error:
            raise click.ClickException(error.message_en) from None
        scope = f" for {sector}" if sector else f" for {agency_code}" if agency_code else ""
        click.echo(f"User {user.username} created with role {role}{scope}.")

    @app.cli.command("dev-admin")
    @one_transaction
    def dev_admin() -> None:
        """Development only: (re)set the 'admin' account to a fresh password and print it."""
        if current_app.config["SURVEY_ENV"] != "development":
            raise click.ClickException("dev-admin works only with SURVEY_ENV=development.")
        password = reset_development_admin(get_session())
        click.echo(f"Development administrator: username 'admin', password '{password}'")

    @app.cli.command("export-qr")
    @click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--agency", "agency_code", help="Only this agency (its code).")
    @one_transaction
    def export_qr(out_dir: Path, agency_code: str | None) -> None:
        """Write a PNG and an SVG per service point and an A4 poster PDF per agency."""
        try:
            points = service_points_for_posters(get_session(), agency_code or None)
        except DomainError as error:
            raise click.ClickException(error.message_en) from None
        base = current_app.config["PUBLIC_BASE_URL"]
        out_dir.mkdir(parents=True, exist_ok=True)
        by_agency: dict[str, list] = {}
        for point in points:
            url = qr.service_point_url(base, point)
            (out_dir / f"{point.agency.code}_{point.public_code}.png").write_bytes(qr.qr_png(url))
            (out_dir / f"{point.agency.code}_{point.public_code}.svg").write_bytes(qr.qr_svg(url))
            by_agency.setdefault(point.agency.code, []).append(point)
        for code, agency_points in by_agency.items():
            (out_dir / f"{code}_posters.pdf").write_bytes(qr.poster_sheet_pdf(base, agency_points))
        click.echo(
            f"Wrote QR codes for {len(points)} service points of {len(by_agency)} "
            f"agencies to {out_dir}."
        )

    @app.cli.command("scan-anomalies")
    @click.option(
        "--days",
        type=click.IntRange(1, 3660),
        default=None,
        help="How many days back to check, at most 3660 (default: a week, and at least "
        "KIOSK_MAX_OFFLINE_DAYS + 1: 8).",
    )
    @one_transaction
    def scan_anomalies(days: int | None) -> None:
        """Flag bursts of identical answers, implausible rates and too-fast kiosk answers over a
        period (run daily, e.g. from cron; arrivals are flagged as they come)."""
        settings = IntegritySettings.from_config(current_app.config)
        end = dt.datetime.now(dt.UTC)
        result = scan_for_anomalies(
            get_session(),
            end - dt.timedelta(days=days or default_scan_days(settings)),
            end,
            settings,
        )
        click.echo(f"Checked {result.checked} responses; {result.flags_added} new flags.")

    @app.cli.command("export-responses")
    @click.argument("out_file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--from", "first_day", callback=_parse_day, help="First day, e.g. 2025-01-01.")
    @click.option("--to", "last_day", callback=_parse_day, help="Last day (inclusive).")
    @one_transaction
    def export_responses(
        out_file: Path, first_day: dt.date | None, last_day: dt.date | None
    ) -> None:
        """Write one row per response as CSV, in the layout `python -m analysis` reads
        (streamed: memory does not grow with the responses; progress on stderr)."""
        if first_day and last_day and last_day < first_day:
            raise click.BadParameter("--to is before --from.")
        shown = {"rows": 0}

        def progress(rows: int, total: int) -> None:
            if rows - shown["rows"] >= EXPORT_PROGRESS_ROWS:
                click.echo(f"  {rows} of {total} responses written", err=True)
                shown["rows"] = rows

        try:
            rows = export_responses_file(
                get_session(), out_file, first_day, last_day, progress=progress
            )
        except DomainError as error:
            raise click.ClickException(f"{error.message_en} / {error.message_vi}") from None
        click.echo(f"Wrote {rows} responses to {out_file}.")
