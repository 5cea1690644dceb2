"""Dossier commands: ``import-dossiers``, ``dossier-slip``, ``dossier-invitations``,
``official-scores``, ``unlink-dossier-ratings``.

Errors are one message and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from survey.extensions import get_session
from survey.services.dossiers.importing import import_dossiers
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


def register_dossier_commands(app: Flask) -> None:
    app.cli.add_command(import_dossiers_command)
