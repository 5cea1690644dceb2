"""Paper and legacy surveys: the template, an all-or-nothing import, and re-imports that add
nothing."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.services.errors import InvalidInput
from survey.services.exports import responses_table
from survey.services.importing import ImportRefused
from survey.services.setup.paper import (
    import_responses,
    parse_moment,
    response_template,
    template_columns,
)
from survey.services.setup.questionnaires import questionnaire_by_reference
from survey.storage.models import Answer, Response

NOW = dt.datetime(2025, 12, 31, tzinfo=dt.UTC)


@pytest.fixture
def questionnaire(session: Session, seeded):
    return questionnaire_by_reference(session, "administrative:1")


def _file(questionnaire, rows: list[list[str]]) -> bytes:
    lines = [",".join(template_columns(questionnaire))] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _row(code: str, when: str = "2025-08-03 08:30", values: str = "5,4,4,5,,3,4", comment=""):
    return [code, when, *values.split(","), comment]


def _count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_template_has_one_column_per_item(session: Session, questionnaire):
    csv = response_template(session, questionnaire, "csv").decode("utf-8-sig")
    assert csv.strip() == (
        "service_point_code,submitted_at,q_access,q_procedures,q_staff_courtesy,"
        "q_staff_guidance,q_results,q_feedback,q_overall,comment"
    )
    book = openpyxl.load_workbook(io.BytesIO(response_template(session, questionnaire, "xlsx")))
    assert book.sheetnames == ["responses", "items", "service_points"]
    items = list(book["items"].values)
    assert items[5][:2] == ("q_results", "Kết quả được trả đúng hẹn và đúng quy định")
    codes = [row[0] for row in book["service_points"].values][1:]
    assert codes and all(code for code in codes)


def test_import_stores_paper_responses_and_the_same_file_again_adds_nothing(
    session: Session, seeded, questionnaire
):
    code = seeded.desk.code
    source = _file(
        questionnaire,
        [_row(code), _row(code), _row(code, "03/08/2025", "3,3,3,3,3,3,3", "Chờ lâu")],
    )
    report = import_responses(session, source, questionnaire, filename="paper.csv", now=NOW)
    assert report.added == {"response": 3}
    assert _count(session, Response) == 3 and _count(session, Answer) == 21
    stored = session.scalars(select(Response).order_by(Response.id)).all()
    assert {r.channel for r in stored} == {"paper"}
    assert stored[0].submitted_at == dt.datetime(2025, 8, 3, 1, 30, tzinfo=dt.UTC)
    assert stored[2].comment == "Chờ lâu"

    again = import_responses(session, source, questionnaire, filename="paper.csv", now=NOW)
    assert again.added == {} and again.unchanged == {"response": 3}
    assert _count(session, Response) == 3

    extended = _file(questionnaire, [_row(code, "2025-08-04"), _row(code), _row(code)])
    third = import_responses(session, extended, questionnaire, now=NOW)
    assert third.added == {"response": 1} and third.unchanged == {"response": 2}

    table = responses_table(session)
    assert set(table["channel"]) == {"paper"}
    assert set(table["questionnaire"]) == {"administrative"}


def test_each_bad_cell_is_reported_and_nothing_is_stored(session: Session, seeded, questionnaire):
    desk = seeded.desk.code
    rows = [
        _row("NOWHERE"),
        _row(seeded.counter.code),  # a hospital counter: health sector
        _row(desk, "2025-13-01"),
        _row(desk, "2026-02-01"),  # after NOW
        _row(desk, values="6,4,4,5,,3,4"),
        _row(desk, values=",4,4,5,,3,4"),  # q_access does not allow "not applicable"
        _row(desk, comment="=HYPERLINK(1)"),
        _row(seeded.retired_desk.code, "2025-08-01"),  # the commune was retired on 1 July
        _row(desk),
    ]
    with pytest.raises(ImportRefused) as refused:
        import_responses(session, _file(questionnaire, rows), questionnaire, now=NOW)
    problems = [p.describe("en") for p in refused.value.report.problems]
    assert [p.split(":")[0] for p in problems] == [
        'row 2, column service_point_code, value "NOWHERE"',
        f'row 3, column service_point_code, value "{seeded.counter.code}"',
        'row 4, column submitted_at, value "2025-13-01"',
        'row 5, column submitted_at, value "2026-02-01"',
        'row 6, column q_access, value "6"',
        'row 7, column q_access, value ""',
        'row 8, column comment, value "=HYPERLINK(1)"',
        'row 9, column submitted_at, value "2025-08-01"',
    ]
    assert "health sector" in problems[1]
    assert refused.value.report.problems[0].message_vi.startswith("Không có điểm phục vụ")
    assert _count(session, Response) == 0


def test_wrong_columns_drafts_and_channels_are_refused(session: Session, seeded, questionnaire):
    with pytest.raises(ImportRefused) as refused:
        import_responses(
            session, b"service_point_code,submitted_at,q_access\nX,2025-01-01,5\n", questionnaire
        )
    assert any("required column" in p.message_en for p in refused.value.report.problems)
    with pytest.raises(InvalidInput):
        import_responses(session, b"", questionnaire, channel="qr")


def test_moments():
    vietnam = dt.timezone(dt.timedelta(hours=7))
    assert parse_moment("2025-07-03") == dt.datetime(2025, 7, 3, tzinfo=vietnam)
    assert parse_moment("03/07/2025 8:05") == dt.datetime(2025, 7, 3, 8, 5, tzinfo=vietnam)
    assert parse_moment("2025-07-03T08:30:00") == dt.datetime(2025, 7, 3, 8, 30, tzinfo=vietnam)
    assert parse_moment("2025-07-03T01:30:00Z") == dt.datetime(2025, 7, 3, 8, 30, tzinfo=vietnam)
    assert parse_moment("2025-07-03 08:30+0000") == dt.datetime(2025, 7, 3, 8, 30, tzinfo=dt.UTC)
    for bad in ("2025-02-30", "yesterday", "2025-07-03 25:00", "3.7.2025"):
        assert parse_moment(bad) is None
