"""export of responses in the layout the analysis engine reads."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.orm import Session

from survey.services.exports import LEADING_COLUMNS, responses_table, write_responses_csv
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from tests import factories
from tests.factories import SmallProvince

VN = dt.timezone(dt.timedelta(hours=7))


def _answer(session: Session, code: str, overall: int, when: dt.datetime, key: str) -> None:
    point, questionnaire = open_service_point(session, code)
    answers: dict[str, int | None] = {item.code: 4 for item in questionnaire.items}
    for item in questionnaire.items:
        if item.allows_not_applicable:
            answers[item.code] = None
    answers["overall"] = overall
    submit_response(
        session,
        point=point,
        questionnaire=questionnaire,
        answers=answers,
        idempotency_key=key,
        channel="qr",
        submitted_at=when,
    )


def test_export_has_reference_layout_weights_and_blank_not_applicable(
    session: Session, seeded: SmallProvince, tmp_path
):
    factories.volume(session, seeded.desk, dt.date(2025, 1, 1), 100)
    factories.volume(session, seeded.desk, dt.date(2025, 2, 1), 50)
    factories.volume(session, seeded.desk, dt.date(2025, 4, 1), 30)
    session.commit()
    # Three answers in Q1, one in Q2 (23:30 on 31 March UTC is 1 April in Vietnam).
    for index, day in enumerate(
        (
            dt.datetime(2025, 1, 5, 9, tzinfo=VN),
            dt.datetime(2025, 2, 5, 9, tzinfo=VN),
            dt.datetime(2025, 3, 5, 9, tzinfo=VN),
        )
    ):
        _answer(session, seeded.desk.public_code, 5 - index, day, f"export-key-{index:06d}")
    _answer(
        session,
        seeded.desk.public_code,
        2,
        dt.datetime(2025, 3, 31, 23, 30, tzinfo=dt.UTC),
        "export-key-q2-0001",
    )
    _answer(
        session,
        seeded.counter.public_code,
        4,
        dt.datetime(2025, 1, 9, tzinfo=VN),
        "export-key-health1",
    )

    table = responses_table(session)
    assert list(table.columns[: len(LEADING_COLUMNS)]) == LEADING_COLUMNS
    assert "q_overall" in table.columns and table.columns[-1] == "comment"
    desk = table[table["service_point"] == seeded.desk.public_code].set_index("period")
    q1 = desk.loc["2025Q1"]
    assert list(q1["volume"]) == [150, 150, 150]
    assert list(q1["weight"]) == [50.0, 50.0, 50.0]
    assert desk.loc[["2025Q2"], "weight"].tolist() == [30.0]
    assert desk.loc[["2025Q2"], "stratum"].tolist() == [f"{seeded.desk.public_code}|2025Q2"]
    assert desk["q_results"].isna().all()  # not applicable stays blank
    assert sorted(desk["q_overall"].tolist()) == [2, 3, 4, 5]
    # A point without recorded volumes has no weight rather than an invented one.
    counter = table[table["service_point"] == seeded.counter.public_code]
    assert counter["volume"].isna().all() and counter["q_staff_courtesy"].tolist() == [4]
    assert counter["q_procedures"].isna().all()  # not an item of the health form

    path = tmp_path / "responses.csv"
    write_responses_csv(table, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    again = pd.read_csv(path, encoding="utf-8-sig")
    assert len(again) == 5 and again.loc[again["q_results"].isna()].shape[0] == 5

    only_q2 = responses_table(session, dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    assert only_q2["q_overall"].tolist() == [2]


def test_export_of_empty_database_has_the_columns(session: Session, seeded: SmallProvince):
    table = responses_table(session)
    assert table.empty and "q_overall" in table.columns and "weight" in table.columns
