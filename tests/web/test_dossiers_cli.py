"""Dossier commands: messages and exit codes, never tracebacks."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from survey.storage import queries
from tests.factories import SmallProvince
from tests.services.test_dossiers_import import csv, row


def test_import_dossiers_reports_counts_and_is_idempotent(
    runner: FlaskCliRunner, seeded: SmallProvince, session: Session, tmp_path: Path
):
    path = tmp_path / "dossiers.csv"
    path.write_bytes(
        csv(row(seeded.desk.public_code), row(seeded.desk.public_code, "H40.123.45-260126-010002"))
    )
    first = runner.invoke(args=["import-dossiers", str(path)])
    assert first.exit_code == 0, first.output
    assert "Imported 2 rows from dossiers.csv" in first.output
    assert "Added: 2 dossier, 1 staff" in first.output
    again = runner.invoke(args=["import-dossiers", str(path)])
    assert again.exit_code == 0 and "unchanged: 2 dossier" in again.output
    assert queries.count_dossiers(session) == 2


def test_import_dossiers_refusal_lists_rows_and_exits_non_zero(
    runner: FlaskCliRunner, seeded: SmallProvince, session: Session, tmp_path: Path
):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv(row(seeded.desk.public_code, "NOT-A-CODE"), row("UNKNOWN-POINT")))
    result = runner.invoke(args=["import-dossiers", str(path)])
    assert result.exit_code == 1
    assert "nothing was stored" in result.output
    assert "row 2, column dossier_code" in result.output
    assert "row 3, column service_point_code" in result.output
    assert "Traceback" not in result.output
    assert queries.count_dossiers(session) == 0
    missing = runner.invoke(args=["import-dossiers", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "There is no file" in missing.output
