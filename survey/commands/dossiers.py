"""Dossier commands: ``import-dossiers``, ``dossier-slip``, ``dossier-invitations``,
``official-scores``, ``unlink-dossier-ratings``.

Errors are one message and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
import pandas as pd
from flask import Flask, current_app
from flask.cli import with_appcontext

from survey.extensions import get_session, one_transaction
from survey.services import spreadsheets
from survey.services.dossiers.importing import import_dossiers
from survey.services.dossiers.links import pending_invitations
from survey.services.dossiers.official import official_scores
from survey.services.dossiers.rating import unlink_ratings
from survey.services.dossiers.settings import DossierSettings
from survey.services.dossiers.slips import FORMATS, dossier_for_slip, make_slip, slip_file
from survey.services.errors import DomainError
from survey.services.importing import ImportRefused

PROBLEMS_SHOWN = 50


def _estimated_rows(path: Path) -> int | None:
    """Lines in a CSV file less its header (a quick count for the progress bar); None for XLSX."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4)
            if head.startswith(b"PK\x03\x04"):
                return None
            stream.seek(0)
            newline = b"\n\x00" if head[:2] == b"\xff\xfe" else b"\n"
            lines = 0
            while chunk := stream.read(1 << 20):
                lines += chunk.count(newline)
    except OSError:
        return None
    return max(lines - 1, 0)


def _refusal(refused: ImportRefused) -> click.ClickException:
    report = refused.report
    lines = [refused.message_en]
    lines += [f"  {problem.describe('en')}" for problem in report.problems[:PROBLEMS_SHOWN]]
    if report.problem_count > PROBLEMS_SHOWN:
        lines.append(f"  … and {report.problem_count - PROBLEMS_SHOWN} more problems.")
    return click.ClickException("\n".join(lines))


@click.command("import-dossiers")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@one_transaction
def import_dossiers_command(file: Path) -> None:
    """Import the dossier list exported from the one-stop system (CSV or XLSX).

    All or nothing: any problem refuses the whole file and lists row, column and reason. Importing
    a later export of the same dossiers updates their progress; the same file twice changes
    nothing.
    """
    if not file.is_file():
        raise click.ClickException(f"There is no file {file}.")
    total = _estimated_rows(file)
    shown = {"rows": 0}
    with click.progressbar(
        length=total or 0, label="Reading dossiers", file=sys.stderr, show_pos=True
    ) as bar:

        def progress(phase: str, rows: int) -> None:
            if phase == "reading":
                if total:
                    bar.update(min(rows, total) - shown["rows"])
                    shown["rows"] = min(rows, total)
                elif rows - shown["rows"] >= 100_000:
                    click.echo(f"  {rows} rows read", err=True)
                    shown["rows"] = rows
            else:
                click.echo(f"\n{phase.capitalize()} {rows} rows…", err=True)

        try:
            report = import_dossiers(get_session(), file, progress=progress)
        except ImportRefused as refused:
            raise _refusal(refused) from None
        except DomainError as error:
            raise click.ClickException(error.message_en) from None
    click.echo(f"Imported {report.rows} rows from {file.name}. {report.summary('en')}")


def _day(_ctx: click.Context, param: click.Parameter, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a day like 2026-01-31.") from None


@click.command("official-scores")
@click.option("--from", "first", required=True, callback=_day, help="First day, e.g. 2026-01-01.")
@click.option("--to", "last", required=True, callback=_day, help="Last day (inclusive).")
@click.option(
    "--format",
    "output",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="csv: one row per agency; json: also the reconciliation sentences.",
)
@with_appcontext
@one_transaction
def official_scores_command(first: dt.date, last: dt.date, output: str) -> None:
    """The Decision 766/QĐ-TTg ratios per agency beside the survey's weighted estimate.

    A dossier belongs to the period in which it was received; overdue = returned after its due
    time, or not returned and due before the end of the period or now, whichever is earlier.
    """
    if last < first:
        raise click.BadParameter("--to is before --from.")
    settings = DossierSettings.from_config(current_app.config)
    try:
        scores = official_scores(
            get_session(),
            first,
            last,
            min_n=current_app.config["MIN_RESPONSES_FOR_INDEX"],
            with_grade=settings.criteria_grade,
        )
    except DomainError as error:
        raise click.ClickException(error.message_en) from None
    table = scores.table()
    if output == "csv":
        click.echo(spreadsheets.neutralise_formulas(table).to_csv(index=False), nl=False)
        return
    records = json.loads(table.to_json(orient="records", force_ascii=False))
    for record, agency in zip(records, scores.agencies, strict=True):
        record["sentence_vi"] = agency.sentence("vi")
        record["sentence_en"] = agency.sentence("en")
    click.echo(json.dumps(records, ensure_ascii=False, indent=1))


@click.command("dossier-slip")
@click.argument("dossier_code")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write the files to.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice([*FORMATS, "all"]),
    default="all",
    show_default=True,
    help="png or svg: the QR code; pdf: the A6 slip to print with the receipt.",
)
@with_appcontext
@one_transaction
def dossier_slip_command(dossier_code: str, out_dir: Path, formats: str) -> None:
    """Write the rating QR (PNG/SVG) and A6 slip (PDF) of a dossier; the QR leads to its
    single-use link, never to its code."""
    session = get_session()
    try:
        settings = DossierSettings.from_config(current_app.config)
        dossier = dossier_for_slip(session, dossier_code)
        slip = make_slip(session, dossier, settings, current_app.config["PUBLIC_BASE_URL"])
    except DomainError as error:
        raise click.ClickException(error.message_en) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS if formats == "all" else (formats,):
        content, _mimetype = slip_file(slip, fmt, settings)
        path = out_dir / f"{slip.dossier.code}.{fmt}"
        path.write_bytes(content)
        click.echo(f"Wrote {path}")


@click.command("dossier-invitations")
@click.argument("out_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--channel", type=click.Choice(["sms", "zalo"]), default="sms", show_default=True)
@with_appcontext
@one_transaction
def dossier_invitations_command(out_file: Path, channel: str) -> None:
    """Write the rating links of returned dossiers not yet rated or sent, as CSV for the
    province's SMS or Zalo gateway; each link is listed once (marked as sent)."""
    session = get_session()
    settings = DossierSettings.from_config(current_app.config)
    rows = [
        {
            "dossier_code": pending.dossier_code,
            "service_point_code": pending.service_point_code,
            "returned_at": pending.returned_at.isoformat() if pending.returned_at else "",
            "link": pending.link,
            "expires_at": pending.expires_at.isoformat() if pending.expires_at else "",
        }
        for pending in pending_invitations(
            session, settings, current_app.config["PUBLIC_BASE_URL"], channel=channel
        )
    ]
    columns = ["dossier_code", "service_point_code", "returned_at", "link", "expires_at"]
    spreadsheets.write_csv(pd.DataFrame(rows, columns=columns), out_file)  # then marked as sent
    click.echo(f"Wrote {len(rows)} invitations for {channel} to {out_file}.")


@click.command("unlink-dossier-ratings")
@click.option(
    "--before",
    callback=lambda c, p, v: _day(c, p, v) if v else None,
    help="Only dossiers received before this day (default: all).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
@one_transaction
def unlink_dossier_ratings_command(before: dt.date | None, yes: bool) -> None:
    """Forget which survey response rated which dossier (the overall answer stays, so the
    official ratios and clerks' results still work). Cannot be undone."""
    if not yes:
        click.confirm("This cannot be undone. Continue?", abort=True)
    count = unlink_ratings(get_session(), before)
    click.echo(f"Unlinked {count} dossier ratings from their responses.")


def register_dossier_commands(app: Flask) -> None:
    for command in (
        import_dossiers_command,
        official_scores_command,
        dossier_slip_command,
        dossier_invitations_command,
        unlink_dossier_ratings_command,
    ):
        app.cli.add_command(command)
