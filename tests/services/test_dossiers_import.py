"""Importing the one-stop system's dossier list: all or nothing, idempotent, progress audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.dossiers.importing import import_dossiers, normalise_status, parse_moment
from survey.services.importing import ImportRefused
from survey.storage import queries
from survey.storage.models import AuditEvent, Dossier, Staff
from tests.factories import SmallProvince, count_rows

HEADER = "dossier_code,service_point_code,procedure,received_at,due_at,returned_at,status,clerk_id"
VN = dt.timezone(dt.timedelta(hours=7))


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def row(point: str, code: str = "H40.123.45-260126-010001", **fields: str) -> str:
    values = {
        "procedure": "Cấp bản sao trích lục hộ tịch",
        "received_at": "2026-01-26T08:30",
        "due_at": "2026-01-28T17:00",
        "returned_at": "",
        "status": "đang xử lý",
        "clerk_id": "CB001",
    }
    values.update(fields)
    return ",".join(
        [
            code,
            point,
            values["procedure"],
            values["received_at"],
            values["due_at"],
            values["returned_at"],
            values["status"],
            values["clerk_id"],
        ]
    )


def problems(refused: pytest.ExceptionInfo[ImportRefused]) -> list[str]:
    return [p.describe("en") for p in refused.value.report.problems]


def test_a_first_import_stores_dossiers_and_unknown_clerks(session: Session, seeded: SmallProvince):
    desk = seeded.desk.public_code
    report = import_dossiers(
        session,
        csv(
            row(desk),
            row(
                desk,
                "H40.123.45-260126-010002",
                status="đã trả kết quả",
                returned_at="2026-01-27T10:00:00+07:00",
                clerk_id="CB002",
            ),
            row(seeded.counter.public_code, "H40.123.45-260126-010003", clerk_id=""),
        ),
        filename="dossiers.csv",
    )
    assert report.added == {"dossier": 3, "staff": 2}
    assert report.changed == {"dossier": 0} and report.unchanged == {"dossier": 0}
    stored = {d.code: d for d in session.scalars(select(Dossier))}
    first = stored["H40.123.45-260126-010001"]
    assert first.received_at == dt.datetime(2026, 1, 26, 1, 30, tzinfo=dt.UTC)
    assert first.received_month == dt.date(2026, 1, 1)
    assert first.status == "processing" and first.returned_at is None
    assert first.staff is not None and first.staff.clerk_code == "CB001"
    assert first.staff.name is None  # to be named later
    assert first.staff.service_point_id == seeded.desk.id
    assert stored["H40.123.45-260126-010002"].status == "returned"
    assert stored["H40.123.45-260126-010003"].staff is None
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["dossiers.imported"]


def test_the_same_file_twice_changes_nothing(session: Session, seeded: SmallProvince):
    body = csv(row(seeded.desk.public_code, due_at="2099-12-31"))  # a due time may be ahead
    import_dossiers(session, body)
    again = import_dossiers(session, body)
    assert again.added == {"dossier": 0} and again.unchanged == {"dossier": 1}
    assert count_rows(session, Dossier) == 1
    assert len(session.scalars(select(Staff)).all()) == 1


def test_a_later_export_updates_progress_and_the_change_is_audited(
    session: Session, seeded: SmallProvince
):
    desk = seeded.desk.public_code
    import_dossiers(session, csv(row(desk)))
    report = import_dossiers(
        session,
        csv(row(desk, status="returned", returned_at="2026-01-29T09:00", clerk_id="CB009")),
    )
    assert report.changed == {"dossier": 1} and report.added == {"dossier": 0, "staff": 1}
    dossier = session.scalars(select(Dossier)).one()
    session.refresh(dossier)
    assert dossier.status == "returned"
    assert dossier.returned_at == dt.datetime(2026, 1, 29, 2, 0, tzinfo=dt.UTC)
    assert dossier.staff is not None and dossier.staff.clerk_code == "CB009"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "dossiers.progress_updated")
    ).one()
    change = event.details["H40.123.45-260126-010001"]
    assert change["status"] == ["processing", "returned"]
    assert change["returned_at"] == [None, "2026-01-29T09:00+07:00"]
    assert change["clerk_id"] == ["CB001", "CB009"]
    assert "procedure" not in change


def test_another_point_or_receipt_time_for_a_stored_code_is_a_conflict(
    session: Session, seeded: SmallProvince
):
    import_dossiers(session, csv(row(seeded.desk.public_code)))
    with pytest.raises(ImportRefused) as refused:
        import_dossiers(session, csv(row(seeded.counter.public_code)))
    [found] = problems(refused)
    assert "row 2" in found and "is stored with service point" in found
    with pytest.raises(ImportRefused) as refused:
        import_dossiers(session, csv(row(seeded.desk.public_code, received_at="2026-01-26T09:00")))
    [found] = problems(refused)
    assert "row 2" in found and "received at 2026-01-26 08:30" in found
    dossier = session.scalars(select(Dossier)).one()
    assert dossier.service_point_id == seeded.desk.id  # nothing changed


def test_a_code_twice_in_one_file_must_have_the_same_content(
    session: Session, seeded: SmallProvince
):
    desk = seeded.desk.public_code
    same = import_dossiers(session, csv(row(desk), row(desk)))
    assert same.added == {"dossier": 1, "staff": 1} and count_rows(session, Dossier) == 1
    with pytest.raises(ImportRefused) as refused:
        import_dossiers(
            session,
            csv(
                row(desk, "H40.123.45-260126-010007"),
                row(desk, "H40.123.45-260126-010007", status="received"),
            ),
        )
    assert problems(refused) == [
        'row 3, column dossier_code, value "H40.123.45-260126-010007": This dossier code is '
        "already on row 2 with different content; list each dossier once."
    ]
    assert count_rows(session, Dossier) == 1


@pytest.mark.parametrize(
    ("fields", "column", "message"),
    [
        ({"code": "H40.123.45-260126"}, "dossier_code", "three parts"),
        ({"code": "H40.123.45-260230-010001"}, "dossier_code", "not a real date"),
        ({"point": "NO-SUCH-POINT"}, "service_point_code", "No service point within your scope"),
        ({"received_at": "26/01/2026 08:30"}, "received_at", "ISO 8601"),
        ({"received_at": ""}, "received_at", "missing"),
        ({"received_at": "2026-01-27T08:30"}, "received_at", "not the day in the dossier code"),
        (
            {"status": "returned", "returned_at": "2026-01-25T08:00"},
            "returned_at",
            "returned before it was received",
        ),
        ({"due_at": "2026-01-20"}, "due_at", "before the receipt time"),
        ({"status": "returned"}, "returned_at", "needs the time it was returned"),
        ({"returned_at": "2026-01-27T08:00"}, "status", "not returned, yet"),
        ({"status": "done"}, "status", "must be one of"),
        ({"procedure": ""}, "procedure", "missing"),
        ({"procedure": "x" * 301}, "procedure", "longer than 300"),
        ({"clerk_id": "c" * 65}, "clerk_id", "longer than 64"),
        (
            {"code": "H40.123.45-360126-010001", "received_at": "2036-01-26T08:30"},
            "received_at",
            "in the future",
        ),
    ],
)
def test_bad_rows_refuse_the_file_with_row_column_and_reason(
    session: Session, seeded: SmallProvince, fields: dict[str, str], column: str, message: str
):
    point = fields.pop("point", seeded.desk.public_code)
    code = fields.pop("code", "H40.123.45-260126-010001")
    good = row(seeded.desk.public_code, "H40.123.45-260126-010009")
    with pytest.raises(ImportRefused) as refused:
        import_dossiers(session, csv(good, row(point, code, **fields)))
    found = problems(refused)
    assert any(p.startswith("row 3") and f"column {column}" in p and message in p for p in found), (
        found
    )
    assert all(p.message_vi for p in refused.value.report.problems)
    assert count_rows(session, Dossier) == 0  # the good row is not stored either
    assert session.scalars(select(Staff)).all() == []


def test_header_problems_and_an_empty_list(session: Session, seeded: SmallProvince):
    with pytest.raises(ImportRefused) as refused:
        import_dossiers(session, b"dossier_code,service_point_code\nX,Y\n")
    assert any("required column is missing" in p for p in problems(refused))
    with pytest.raises(ImportRefused) as refused:
        import_dossiers(session, csv())
    assert problems(refused) == ["The file has no dossier rows."]


def test_xlsx_with_date_cells_and_english_statuses(
    session: Session, seeded: SmallProvince, tmp_path: Path
):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "H40.123.45-260126-010001",
            seeded.desk.public_code,
            "Chứng thực",
            dt.datetime(2026, 1, 26, 8, 30),
            dt.datetime(2026, 1, 26, 16, 0),
            dt.datetime(2026, 1, 26, 15, 0),
            "Returned",
            1234,
        ]
    )
    path = tmp_path / "dossiers.xlsx"
    book.save(path)
    report = import_dossiers(session, path)
    assert report.added["dossier"] == 1
    dossier = session.scalars(select(Dossier)).one()
    assert dossier.status == "returned" and dossier.staff and dossier.staff.clerk_code == "1234"


def test_status_words_and_times():
    assert normalise_status("  ĐÃ  HUỶ ") == "cancelled"
    assert normalise_status("đã hủy") == "cancelled"
    assert normalise_status("Đã trả kết quả") == "returned"
    assert normalise_status("đang xử lý") == "processing"
    assert normalise_status("Đã tiếp nhận") == "received"
    assert normalise_status("xong") is None
    utc = dt.UTC
    assert parse_moment("2026-01-26T08:30") == dt.datetime(2026, 1, 26, 1, 30, tzinfo=utc)
    assert parse_moment("2026-01-26 08:30:00Z") == dt.datetime(2026, 1, 26, 8, 30, tzinfo=utc)
    assert parse_moment("2026-02-05", end_of_day=True) == dt.datetime(
        2026, 2, 5, 16, 59, 59, tzinfo=utc
    )
    assert parse_moment("") is None
    for bad in ("26/01/2026", "tomorrow", "2026-13-01T08:00", "1999-01-01T00:00"):
        with pytest.raises(ValueError):
            parse_moment(bad)


def test_dossier_counts_become_volumes_where_none_was_entered(
    session: Session, seeded: SmallProvince
):
    from survey.services.exports import responses_table
    from survey.services.responses import submit_response
    from tests.factories import volume

    desk = seeded.desk.public_code
    rows = [row(desk, f"H40.123.45-260126-01000{i}") for i in range(1, 6)]  # 5 in January
    rows += [  # 2 in February, where an official entered 40 citizens by hand
        row(desk, f"H40.123.45-260203-01000{i}", received_at="2026-02-03T09:00", due_at="")
        for i in range(1, 3)
    ]
    import_dossiers(session, csv(*rows))
    volume(session, seeded.desk, dt.date(2026, 2, 1), 40)
    questionnaire = queries.active_questionnaire(session, "administrative")
    assert questionnaire is not None
    submit_response(
        session,
        point=seeded.desk,
        questionnaire=questionnaire,
        answers={item.code: 4 for item in questionnaire.items},
        idempotency_key="volume-fallback-0001",
        channel="qr",
        submitted_at=dt.datetime(2026, 2, 10, 3, 0, tzinfo=dt.UTC),
    )
    table = responses_table(session, dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert table["volume"].tolist() == [45]  # 5 dossiers (January) + 40 entered (February)
