"""The set-up commands: what they print, their exit status, and nothing stored on refusal."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.storage.models import Agency, ServiceVolume
from tests.services.test_setup import ORGANISATION


def test_import_organisation_twice_exits_0_and_changes_nothing(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
):
    path = tmp_path / "organisation.csv"
    path.write_text(ORGANISATION, encoding="utf-8")
    first = runner.invoke(args=["import-organisation", str(path)])
    assert first.exit_code == 0, first.output
    assert "Added: 5 agency, 4 service_point" in first.output
    assert "Thêm mới: 5 agency, 4 service_point" in first.output
    second = runner.invoke(args=["import-organisation", str(path)])
    assert second.exit_code == 0
    assert "Added: 0; changed: 0; unchanged: 5 agency, 4 service_point." in second.output


def test_refusal_prints_each_problem_in_both_languages_and_exits_1(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
):
    path = tmp_path / "organisation.csv"
    path.write_text(ORGANISATION + "\nZ,Zed,NOWHERE,administrative,commune,2004-01-01,,,,\n")
    result = runner.invoke(args=["import-organisation", str(path)])
    assert result.exit_code == 1
    assert (
        'row 8, column parent_code, value "NOWHERE": No unit has this parent code' in result.output
    )
    assert "dòng 8, cột parent_code, giá trị “NOWHERE”" in result.output
    assert "Traceback" not in result.output
    assert session.scalar(select(func.count()).select_from(Agency)) == 0
    missing = runner.invoke(args=["import-organisation", str(tmp_path / "absent.csv")])
    assert missing.exit_code == 1 and "There is no file" in missing.output


def test_import_volumes_and_list_questionnaires(
    runner: FlaskCliRunner, session: Session, seeded, tmp_path: Path
):
    path = tmp_path / "volumes.csv"
    path.write_text(
        f"service_point_code;month;citizens_served\n{seeded.desk.code};2025-07;120\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-volumes", str(path)])
    assert result.exit_code == 0, result.output
    assert "Added: 1 volume" in result.output
    assert session.scalar(select(func.count()).select_from(ServiceVolume)) == 1
    listing = runner.invoke(args=["questionnaires"])
    assert listing.exit_code == 0
    first = listing.output.splitlines()[0].split("\t")
    assert first[0] == "administrative:1" and first[1:3] == ["administrative", "active"]
    assert "overall" in first[3].split()


def test_response_template_and_import_responses(
    runner: FlaskCliRunner, session: Session, seeded, tmp_path: Path
):
    template = tmp_path / "paper.csv"
    written = runner.invoke(
        args=["response-template", str(template), "--questionnaire", "administrative:1"]
    )
    assert written.exit_code == 0, written.output
    header = template.read_text(encoding="utf-8-sig").strip()
    template.write_text(
        f"{header}\n{seeded.desk.code},2025-08-03 08:30,5,4,4,5,,3,4,\n", encoding="utf-8"
    )
    args = ["import-responses", str(template), "--questionnaire", "administrative:1"]
    first = runner.invoke(args=[*args, "--channel", "import"])
    assert first.exit_code == 0, first.output
    assert "Added: 1 response" in first.output
    second = runner.invoke(args=args)
    assert second.exit_code == 0 and "unchanged: 1 response" in second.output
    unknown = runner.invoke(args=["import-responses", str(template), "--questionnaire", "x:9"])
    assert unknown.exit_code == 1 and "No questionnaire has this code" in unknown.output
    wrong = runner.invoke(
        args=["response-template", str(tmp_path / "t.pdf"), "--questionnaire", "administrative:1"]
    )
    assert wrong.exit_code == 1 and ".csv or .xlsx" in wrong.output


def test_setup_province_from_the_official_list(runner: FlaskCliRunner, session: Session):
    listing = runner.invoke(args=["setup-province", "list"])
    assert listing.exit_code == 0 and "11\tTỉnh Điện Biên (11)" in listing.output
    assert len(listing.output.splitlines()) == 34
    first = runner.invoke(args=["setup-province", "11", "--no-desks"])
    assert first.exit_code == 0, first.output
    assert "Added: 46 agency;" in first.output
    ward = session.scalar(select(Agency).where(Agency.name_vi == "Phường Điện Biên Phủ"))
    assert ward.parent.code == "11" and ward.level == "commune" and len(ward.code) == 5
    again = runner.invoke(args=["setup-province", "11", "--no-desks"])
    assert "unchanged: 46 agency." in again.output
    unknown = runner.invoke(args=["setup-province", "99"])
    assert unknown.exit_code == 1 and "No province or city has the code" in unknown.output
