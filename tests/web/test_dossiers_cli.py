"""Dossier commands: messages and exit codes, never tracebacks."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from survey.storage.models import Dossier
from tests.factories import SmallProvince, count_rows
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
    assert count_rows(session, Dossier) == 2


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
    assert count_rows(session, Dossier) == 0
    missing = runner.invoke(args=["import-dossiers", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "There is no file" in missing.output


def test_dossier_slip_writes_qr_and_pdf_and_explains_bad_codes(
    runner: FlaskCliRunner, seeded: SmallProvince, session: Session, tmp_path: Path
):
    from tests.qr_decode import decode_png

    path = tmp_path / "dossiers.csv"
    path.write_bytes(csv(row(seeded.desk.public_code)))
    runner.invoke(args=["import-dossiers", str(path)])
    result = runner.invoke(
        args=["dossier-slip", "h40.123.45-260126-010001", "--out", str(tmp_path / "slips")]
    )
    assert result.exit_code == 0, result.output
    png = tmp_path / "slips" / "H40.123.45-260126-010001.png"
    [url] = decode_png(png.read_bytes())
    assert url.startswith("https://survey.example.vn/d/") and "H40" not in url
    assert (tmp_path / "slips" / "H40.123.45-260126-010001.pdf").read_bytes()[:4] == b"%PDF"
    assert (tmp_path / "slips" / "H40.123.45-260126-010001.svg").exists()
    again = runner.invoke(
        args=["dossier-slip", "H40.123.45-260126-010001", "--out", str(tmp_path), "--format", "png"]
    )
    assert decode_png((tmp_path / "H40.123.45-260126-010001.png").read_bytes()) == [url]
    assert again.exit_code == 0
    bad = runner.invoke(args=["dossier-slip", "H40.123.45-260230-010001"])
    assert bad.exit_code == 1 and "not a real date" in bad.output
    unknown = runner.invoke(args=["dossier-slip", "H40.123.45-260126-019999"])
    assert unknown.exit_code == 1 and "No dossier with this code" in unknown.output
    assert "Traceback" not in bad.output + unknown.output


def test_invitations_and_unlinking_from_the_command_line(
    runner: FlaskCliRunner, seeded: SmallProvince, session: Session, tmp_path: Path
):
    from sqlalchemy import select

    from survey.storage.models import Dossier, DossierRating

    path = tmp_path / "dossiers.csv"
    path.write_bytes(
        csv(row(seeded.desk.public_code, status="returned", returned_at="2026-11-20T10:00"))
    )
    runner.invoke(args=["import-dossiers", str(path)])
    out = tmp_path / "sms.csv"
    sent = runner.invoke(args=["dossier-invitations", str(out), "--channel", "sms"])
    assert sent.exit_code == 0 and "Wrote 1 invitations for sms" in sent.output
    assert "/d/" in out.read_text(encoding="utf-8-sig")
    again = runner.invoke(args=["dossier-invitations", str(out)])
    assert "Wrote 0 invitations" in again.output
    dossier = session.scalars(select(Dossier)).one()
    session.add(DossierRating(dossier_id=dossier.id, overall=4))
    session.commit()
    unlinked = runner.invoke(args=["unlink-dossier-ratings", "--yes", "--before", "2027-01-01"])
    assert unlinked.exit_code == 0 and "Unlinked 0 dossier ratings" in unlinked.output
    bad = runner.invoke(args=["unlink-dossier-ratings", "--yes", "--before", "soon"])
    assert bad.exit_code == 2
