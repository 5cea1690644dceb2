"""Command-line tools an administrator runs: database, demo, accounts, QR codes, exports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from survey.services.accounts import authenticate
from survey.storage import queries
from tests.factories import SmallProvince
from tests.qr_decode import decode_png


def test_init_db_is_repeatable_and_seeds(runner: FlaskCliRunner, session: Session):
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "latest schema" in first.output
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0 and "(0 shipped records added)" in second.output
    assert len(queries.all_questionnaires(session)) == 3
    assert len(queries.all_targets(session)) >= 10


def test_load_demo_twice_prints_urls_and_adds_nothing_the_second_time(
    runner: FlaskCliRunner, session: Session
):
    first = runner.invoke(args=["load-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo province loaded" in first.output
    assert first.output.count("https://survey.example.vn/s/") >= 3
    count = queries.count_responses(session)
    second = runner.invoke(args=["load-demo"])
    assert "already loaded" in second.output
    assert queries.count_responses(session) == count


def test_create_admin_and_bad_input(runner: FlaskCliRunner, session: Session):
    made = runner.invoke(args=["create-admin", "chief", "--password", "a-long-secret-1"])
    assert made.exit_code == 0, made.output
    assert authenticate(session, "chief", "a-long-secret-1") is not None
    again = runner.invoke(args=["create-admin", "chief", "--password", "a-long-secret-1"])
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["create-admin", "other", "--password", "short"])
    assert short.exit_code != 0 and "at least 12" in short.output
    assert "Traceback" not in short.output


def test_dev_admin_is_refused_outside_development(runner: FlaskCliRunner):
    refused = runner.invoke(args=["dev-admin"])
    assert refused.exit_code != 0 and "SURVEY_ENV=development" in refused.output


def test_export_qr_writes_decodable_codes_and_posters(
    runner: FlaskCliRunner, seeded: SmallProvince, tmp_path: Path
):
    result = runner.invoke(args=["export-qr", str(tmp_path), "--agency", "P-TP"])
    assert result.exit_code == 0, result.output
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == 2 and len(list(tmp_path.glob("*.svg"))) == 2
    decoded = {decode_png(path.read_bytes())[0] for path in pngs}
    assert decoded == {
        f"https://survey.example.vn/s/{seeded.desk.public_code}",
        f"https://survey.example.vn/s/{seeded.closed_desk.public_code}",
    }
    assert (tmp_path / "P-TP_posters.pdf").read_bytes().startswith(b"%PDF")
    unknown = runner.invoke(args=["export-qr", str(tmp_path), "--agency", "NOPE"])
    assert unknown.exit_code != 0 and "No agency has the code 'NOPE'" in unknown.output


def test_export_responses_writes_the_analysis_layout(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
):
    runner.invoke(args=["load-demo"])
    out = tmp_path / "responses.csv"
    result = runner.invoke(
        args=["export-responses", str(out), "--from", "2025-07-01", "--to", "2025-09-30"]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert set(table["period"]) == {"2025Q3"}
    assert {
        "response_id",
        "sector",
        "agency_level",
        "agency",
        "service_point",
        "stratum",
        "volume",
        "weight",
        "channel",
        "submitted_at",
        "q_overall",
    } <= set(table.columns)
    assert not (table["agency_level"] == "district").any()  # districts retired on 1 July 2025
    # weight = volume / responses at the point in the period
    per_point = table.groupby("stratum").agg(
        n=("weight", "size"), volume=("volume", "first"), weight=("weight", "first")
    )
    assert (per_point["weight"] * per_point["n"] - per_point["volume"]).abs().max() < 1e-9
    bad = runner.invoke(args=["export-responses", str(out), "--from", "1 July"])
    assert bad.exit_code != 0 and "not a date like 2025-07-01" in bad.output
    backwards = runner.invoke(
        args=["export-responses", str(out), "--from", "2025-09-01", "--to", "2025-08-01"]
    )
    assert backwards.exit_code != 0 and "before --from" in backwards.output


def test_scan_anomalies_reports_what_it_checked(runner: FlaskCliRunner, seeded: SmallProvince):
    result = runner.invoke(args=["scan-anomalies", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "Checked 0 responses; 0 new flags." in result.output
    bad = runner.invoke(args=["scan-anomalies", "--days", "0"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
