"""The official 766 figures per agency, hand-computed, beside the survey's weighted estimate."""

from __future__ import annotations

import csv as csvlib
import datetime as dt
import io

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from survey.services.dossiers.official import CSV_COLUMNS, official_scores
from survey.services.responses import submit_response
from survey.storage import queries
from survey.storage.models import (
    Complaint,
    Dossier,
    DossierRating,
    ServicePoint,
)
from tests.factories import SmallProvince, volume

VN = dt.timezone(dt.timedelta(hours=7))
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def vn(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=VN)


def dossier(
    session: Session,
    point: ServicePoint,
    number: int,
    received: dt.datetime,
    due: dt.datetime | None,
    returned: dt.datetime | None = None,
    status: str | None = None,
) -> Dossier:
    record = Dossier(
        code=f"H40.123.45-{received:%y%m%d}-01{number:04d}",
        service_point=point,
        procedure="Chứng thực",
        received_at=received,
        received_month=received.date().replace(day=1),
        due_at=due,
        returned_at=returned,
        status=status or ("returned" if returned else "processing"),
        status_changed_at=received,
        imported_at=received,
    )
    session.add(record)
    session.flush()
    return record


def rate(session: Session, record: Dossier, overall: int) -> None:
    session.add(DossierRating(dossier_id=record.id, overall=overall))


def complaint(
    session: Session,
    point: ServicePoint,
    record: Dossier | None,
    opened: dt.datetime,
    due: dt.datetime,
    closed: dt.datetime | None = None,
    rating: int | None = None,
    source: str = "staff",
) -> None:
    session.add(
        Complaint(
            agency_id=point.agency_id,
            service_point=point,
            dossier_id=record.id if record else None,
            source=source,
            description="",
            opened_at=opened,
            due_at=due,
            closed_at=closed,
            handling_rating=rating,
        )
    )


@pytest.fixture
def march(session: Session, seeded: SmallProvince) -> SmallProvince:
    desk = seeded.desk
    d1 = dossier(session, desk, 1, vn(3, 2), vn(3, 5, 17), vn(3, 4))
    d2 = dossier(session, desk, 2, vn(3, 3), vn(3, 6, 17), vn(3, 9))  # late
    d3 = dossier(session, desk, 3, vn(3, 4), vn(3, 9, 17), vn(3, 6))
    d4 = dossier(session, desk, 4, vn(3, 5), vn(3, 20, 17))  # pending past due
    dossier(session, desk, 5, vn(3, 25), vn(4, 5, 17))  # pending, due after the period
    dossier(session, desk, 6, vn(3, 26), vn(3, 30, 17), vn(3, 27))  # nobody rated it
    dossier(session, desk, 7, vn(3, 27), vn(4, 2), status="cancelled")  # outside the ratios
    dossier(session, desk, 8, vn(2, 27), vn(3, 2))  # received in February
    dossier(session, seeded.school_office, 9, vn(3, 10), vn(3, 12), vn(3, 11))
    rate(session, d1, 5)
    rate(session, d2, 4)
    rate(session, d3, 1)
    complaint(session, desk, d3, vn(3, 7), vn(3, 17), vn(3, 15), rating=2, source="low_rating")
    complaint(session, desk, d4, vn(3, 21), vn(3, 31, 17))  # open past its due time
    complaint(session, desk, None, vn(3, 25), vn(4, 4, 17))  # open, not yet due
    volume(session, desk, dt.date(2026, 3, 1), 100)
    questionnaire = queries.active_questionnaire(session, "administrative")
    assert questionnaire is not None
    for i, overall in enumerate((5, 5, 4, 2)):
        answers = {item.code: 4 for item in questionnaire.items}
        answers["overall"] = overall
        submit_response(
            session,
            point=desk,
            questionnaire=questionnaire,
            answers=answers,
            idempotency_key=f"official-march-{i:04d}",
            channel="qr",
            submitted_at=vn(3, 10 + i).astimezone(dt.UTC),
        )
    session.commit()
    return seeded


def test_ratios_by_hand(session: Session, march: SmallProvince):
    scores = official_scores(session, *MARCH, min_n=2, now=vn(11, 1))
    assert [a.agency_code for a in scores.agencies] == ["P-TH", "P-TP"]
    school, desk = scores.agencies
    d = desk.dossiers
    # six dossiers (not the cancelled one, not February's); D3 is dissatisfied and complained
    # about, D4 complained about and overdue: three dossiers off, each once.
    assert (d.dossiers, d.rated, d.dissatisfied, d.complained, d.overdue) == (6, 3, 1, 2, 2)
    assert d.not_satisfied == 3 and d.ratio == pytest.approx(0.5)
    assert d.response_rate == pytest.approx(0.5)
    c = desk.complaints
    assert (c.complaints, c.on_time, c.overdue, c.dissatisfied) == (3, 1, 1, 1)
    assert c.ratio_on_time == pytest.approx(1 / 3)
    assert c.ratio_satisfaction == pytest.approx(1 / 3)
    assert desk.estimate is not None and desk.estimate.estimate == pytest.approx(0.75)
    assert desk.estimate.ci_low is not None and desk.estimate.ci_low < 0.75
    assert school.dossiers.ratio == 1.0 and school.complaints.ratio_on_time is None
    assert school.estimate is None
    assert desk.sentence("en").startswith("The official ratio (50.0%) counts as satisfied the")
    assert "33.3% of dossiers" in desk.sentence("en")  # D5 and D6, of six
    assert "75,0%" in desk.sentence("vi")


def test_cutoff_is_now_while_the_period_runs(session: Session, march: SmallProvince):
    # On 15 March, D4 (due 20 March) is not yet overdue; D2 was returned late already.
    scores = official_scores(session, *MARCH, min_n=2, now=vn(3, 15))
    desk = scores.agencies[1]
    assert desk.dossiers.overdue == 1


def test_scope_and_an_empty_period(session: Session, march: SmallProvince):
    scores = official_scores(
        session, *MARCH, visible_agency_ids=frozenset({march.school.id}), now=vn(11, 1)
    )
    assert [a.agency_code for a in scores.agencies] == ["P-TH"]
    none = official_scores(session, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert none.agencies == () and list(none.table().columns) == list(CSV_COLUMNS)


def test_official_scores_csv_has_the_columns_in_order(runner: FlaskCliRunner, march: SmallProvince):
    result = runner.invoke(
        args=["official-scores", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csvlib.DictReader(io.StringIO(result.output)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    desk = rows[1]
    assert desk["agency_code"] == "P-TP"
    assert (desk["dossiers"], desk["rated"], desk["dissatisfied"]) == ("6", "3", "1")
    assert (desk["complained"], desk["overdue"], desk["ratio_766_dossiers"]) == ("2", "2", "0.5")
    assert (desk["complaints"], desk["complaints_on_time"]) == ("3", "1")
    assert desk["ratio_766_complaints_on_time"] == "0.3333"
    assert desk["ratio_766_complaint_satisfaction"] == "0.3333"
    assert desk["response_rate"] == "0.5"
    assert desk["weighted_share_satisfied"] == ""  # 4 responses: under the minimum of 30
    school = rows[0]
    assert school["ratio_766_dossiers"] == "1.0" and school["ratio_766_complaints_on_time"] == ""


def test_official_scores_json_and_bad_days(runner: FlaskCliRunner, march: SmallProvince):
    result = runner.invoke(
        args=["official-scores", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json"]
    )
    assert result.exit_code == 0
    assert "Tỷ lệ chính thức" in result.output and "The official ratio" in result.output
    bad = runner.invoke(args=["official-scores", "--from", "1 March", "--to", "2026-03-31"])
    assert bad.exit_code == 2 and "not a day" in bad.output
    backwards = runner.invoke(
        args=["official-scores", "--from", "2026-03-31", "--to", "2026-03-01"]
    )
    assert backwards.exit_code == 2 and "before --from" in backwards.output
    far = runner.invoke(args=["official-scores", "--from", "0001-01-01", "--to", "2026-03-01"])
    assert far.exit_code == 1 and "Traceback" not in far.output
