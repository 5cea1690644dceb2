"""Setting up a province from files: organisation and volumes (all or nothing, idempotent)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.services.importing import ImportRefused
from survey.services.setup.organisation import REQUIRED, import_organisation
from survey.services.setup.volumes import enter_volumes, import_volumes, volume_coverage
from survey.storage import queries
from survey.storage.models import Agency, AuditEvent, Response, ServiceVolume, utc_now

HEADER = ",".join(REQUIRED)
PROVINCE = "DB,Tỉnh Điện Biên,,administrative,province,2004-01-01,,,,"
CENTRE = "DB-TTHCC,Trung tâm Phục vụ hành chính công,DB,hành chính,tỉnh,2004-01-01,,,"
ORGANISATION = "\n".join(
    [
        HEADER,
        PROVINCE,
        CENTRE + "TTHCC-Q1,Quầy số 1",
        CENTRE + "TTHCC-Q2,Quầy số 2",
        "DB-MT,Phường Mường Thanh,DB,administrative,commune,01/07/2025,,,MT-1,Bộ phận một cửa",
        "DB-H1,Huyện Điện Biên,DB,administrative,district,2004-01-01,2025-07-01,DB-MT,,",
        "DB-BV,Bệnh viện Đa khoa tỉnh,DB,y tế,province,2004-01-01,,,BV-KB,Khoa Khám bệnh",
    ]
)


def _csv(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode()


def _problems(source: bytes, importer=import_organisation, **options) -> list[str]:
    with pytest.raises(ImportRefused) as refused:
        importer(options.pop("session"), source, filename="file.csv", **options)
    return [p.describe("en") for p in refused.value.report.problems]


def _count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_organisation_is_added_then_a_second_run_changes_nothing(session: Session):
    report = import_organisation(session, ORGANISATION.encode(), filename="org.csv")
    assert report.added == {"agency": 5, "service_point": 4}
    centre = queries.agency_by_code(session, "DB-TTHCC")
    assert centre.parent.code == "DB" and centre.sector == "administrative"
    district = queries.agency_by_code(session, "DB-H1")
    assert district.valid_to == dt.date(2025, 7, 1) and district.successor.code == "DB-MT"
    assert queries.agency_by_code(session, "DB-MT").valid_from == dt.date(2025, 7, 1)
    points = queries.service_points_by_code(session)
    assert points["TTHCC-Q2"].agency.code == "DB-TTHCC" and points["TTHCC-Q2"].active
    assert points["TTHCC-Q2"].public_code != "TTHCC-Q2"  # the QR's code stays unguessable

    again = import_organisation(session, ORGANISATION.encode(), filename="org.csv")
    assert again.added == {} and again.changed == {}
    assert again.unchanged == {"agency": 5, "service_point": 4}
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "organisation.imported"))
    assert len(events.all()) == 2


def test_rename_move_and_retire_are_changes_in_the_audit_log(session: Session):
    import_organisation(session, ORGANISATION.encode())
    changed = ORGANISATION.replace("Quầy số 2", "Quầy số 2 (mới)").replace(
        "DB-MT,Phường Mường Thanh,DB", "DB-MT,Phường Mường Thanh,DB-TTHCC"
    )
    report = import_organisation(session, changed.encode())
    assert report.changed == {"agency": 1, "service_point": 1}
    assert queries.agency_by_code(session, "DB-MT").parent.code == "DB-TTHCC"
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert {"agency": "DB-MT", "parent": ["DB", "DB-TTHCC"]} in event.details["changed"]
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert {
        "service_point": "TTHCC-Q2",
        "name_vi": ["Quầy số 2", "Quầy số 2 (mới)"],
    } in (event.details["changed"])  # no English name before or after: not a change


def test_duplicate_code_with_different_content_is_refused(session: Session):
    problems = _problems(
        _csv(
            PROVINCE,
            "A,Sở Tư pháp,DB,administrative,province,2004-01-01,,,,",
            "A,Sở Tư Pháp,DB,administrative,province,2004-01-01,,,,",
        ),
        session=session,
    )
    assert problems == [
        'row 4, column agency_name, value "Sở Tư Pháp": The code A is already on row 3 with '
        "different content."
    ]
    assert _count(session, Agency) == 0


def test_a_cycle_in_the_hierarchy_is_refused(session: Session):
    problems = _problems(
        _csv(
            "A,Một,C,administrative,province,2004-01-01,,,,",
            "B,Hai,A,administrative,province,2004-01-01,,,,",
            "C,Ba,B,administrative,province,2004-01-01,,,,",
        ),
        session=session,
    )
    assert len(problems) == 3 and all("cycle" in p for p in problems)
    assert _count(session, Agency) == 0


def test_a_cycle_through_stored_agencies_is_refused(session: Session):
    import_organisation(session, ORGANISATION.encode())
    problems = _problems(
        _csv("DB,Tỉnh Điện Biên,DB-TTHCC,administrative,province,2004-01-01,,,,"),
        session=session,
    )
    assert "cycle" in problems[0]
    assert queries.agency_by_code(session, "DB").parent_id is None


def test_unknown_parent_or_successor_and_a_retired_successor_are_refused(session: Session):
    problems = _problems(
        _csv(
            PROVINCE,
            "X1,Xã Một,NOWHERE,administrative,commune,2004-01-01,,,,",
            "X2,Xã Hai,DB,administrative,commune,2004-01-01,2025-07-01,GONE,,",
            "X3,Xã Ba,DB,administrative,commune,2004-01-01,2025-07-01,X2,,",
            "X4,Xã Bốn,DB,administrative,commune,2004-01-01,,X1,,",
        ),
        session=session,
    )
    assert any(
        "row 3, column parent_code" in p and "No unit has this parent" in p for p in problems
    )
    assert any("row 4, column successor_code" in p and "No unit" in p for p in problems)
    assert any("row 5, column successor_code" in p and "itself retired" in p for p in problems)
    assert any("row 6, column successor_code" in p and "end date" in p for p in problems)


def test_bad_sector_level_dates_and_codes_are_each_named(session: Session):
    problems = _problems(
        _csv(
            "A,Một,,tourism,province,2004-01-01,,,,",
            "B,Hai,,administrative,village,2004-01-01,,,,",
            "C,Ba,,administrative,province,2025-02-30,,,,",
            "D,Bốn,,administrative,province,2025-07-01,2025-01-01,,,",
            "E F,Năm,,administrative,province,2025-07-01,,,,",
            "G,Sáu,,administrative,province,,,,,",
            "H,Bảy,,administrative,province,2004-01-01,,,H-1,",
        ),
        session=session,
    )
    assert problems[0].startswith('row 2, column sector, value "tourism"')
    assert problems[1].startswith('row 3, column level, value "village"')
    assert problems[2].startswith('row 4, column valid_from, value "2025-02-30"')
    assert problems[3].startswith('row 5, column valid_to, value "2025-01-01"')
    assert problems[4].startswith('row 6, column agency_code, value "E F"')
    assert problems[5].startswith("row 7, column valid_from")
    assert problems[6].startswith("row 8, column service_point_name")


def test_formula_looking_cells_in_a_csv_are_refused(session: Session):
    problems = _problems(
        _csv('A,"=HYPERLINK(""http://x"")",,administrative,province,2004-01-01,,,,'),
        session=session,
    )
    assert "formula" in problems[0] and "agency_name" in problems[0]


def test_formulas_in_xlsx_wrong_encoding_and_large_files_are_refused(session: Session):
    book = openpyxl.Workbook()
    book.active.append(list(REQUIRED))
    book.active.append(["A", "=1+1", "", "administrative", "province", "2004-01-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ImportRefused) as refused:
        import_organisation(session, buffer.getvalue(), filename="org.xlsx")
    assert "formula" in refused.value.report.problems[0].message_en
    legacy = _csv("A,S\xf4 T\xfd ph\xe1p,,administrative,province,2004-01-01,,,,")
    with pytest.raises(ImportRefused) as refused:
        import_organisation(session, legacy.decode().encode("latin-1"), filename="org.csv")
    assert "not UTF-8" in refused.value.report.problems[0].message_en
    with pytest.raises(ImportRefused) as refused:
        import_organisation(session, ORGANISATION.encode(), max_bytes=100)
    assert "too large" in refused.value.report.problems[0].message_en
    assert _count(session, Agency) == 0


def test_the_sector_of_an_answered_agency_cannot_change(session: Session, seeded):
    # A code of the file's form: the factory's default (the random QR code) may start with "_".
    seeded.desk.code = "TP-MC"
    session.add(
        Response(
            idempotency_key="setup-test-0000000001",
            service_point=seeded.desk,
            questionnaire=queries.active_questionnaire(session, "administrative"),
            channel="qr",
            submitted_at=utc_now(),
        )
    )
    session.commit()
    problems = _problems(
        _csv(f"P-TP,Sở Tư pháp,P,health,province,2020-01-01,,,{seeded.desk.code},Bộ phận một cửa"),
        session=session,
    )
    assert "answers under its old sector" in problems[0]


def test_refused_import_leaves_stored_organisation_untouched(session: Session):
    import_organisation(session, ORGANISATION.encode())
    bad = (
        ORGANISATION.replace("Quầy số 1", "Quầy A")
        + "\nZ,Zed,NOWHERE,administrative,commune,2004-01-01,,,,"
    )
    with pytest.raises(ImportRefused):
        import_organisation(session, bad.encode())
    assert queries.service_points_by_code(session)["TTHCC-Q1"].name_vi == "Quầy số 1"
    assert queries.agency_by_code(session, "Z") is None


# --- volumes -------------------------------------------------------------------------------


VOLUMES = "service_point_code,month,citizens_served\nTTHCC-Q1,2025-07,120\nTTHCC-Q2,2025-07,80\n"


def _organisation(session: Session) -> None:
    import_organisation(session, ORGANISATION.encode())


def test_volumes_are_stored_replaced_and_future_months_are_planned(session: Session):
    _organisation(session)
    today = dt.date(2025, 8, 15)
    report = import_volumes(session, (VOLUMES + "MT-1,2025-09,300\n").encode(), today=today)
    assert report.added == {"volume": 3, "planned volume": 1}
    volumes = {(v.service_point.code, v.month): v for v in session.scalars(select(ServiceVolume))}
    assert volumes[("MT-1", dt.date(2025, 9, 1))].planned
    assert not volumes[("TTHCC-Q1", dt.date(2025, 7, 1))].planned

    again = import_volumes(session, VOLUMES.encode(), today=today)
    assert again.added == {} and again.unchanged == {"volume": 2}
    later = import_volumes(
        session,
        b"service_point_code,month,citizens_served\nMT-1,2025-09,310\n",
        today=dt.date(2025, 10, 2),
    )
    assert later.changed == {"volume": 1}
    session.expire_all()
    replaced = session.scalar(select(ServiceVolume).where(ServiceVolume.volume == 310))
    assert replaced is not None and not replaced.planned
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "volumes.imported" and event.details["replaced"] == [
        ["MT-1", "2025-09", 300, 310]
    ]


def test_bad_volume_rows_are_each_named_and_nothing_is_stored(session: Session):
    _organisation(session)
    problems = _problems(
        (
            b"service_point_code,month,citizens_served\n"
            b"NOWHERE,2025-07,1\nTTHCC-Q1,2025-13,1\nTTHCC-Q1,2025-07,-4\n"
            b"TTHCC-Q1,2025-07,1.5\nTTHCC-Q2,2025-07,5\nTTHCC-Q2,07/2025,6\nMT-1,2025-07,9\n"
        ),
        importer=import_volumes,
        session=session,
    )
    assert [p.split(":")[0] for p in problems] == [
        'row 2, column service_point_code, value "NOWHERE"',
        'row 3, column month, value "2025-13"',
        'row 4, column citizens_served, value "-4"',
        'row 5, column citizens_served, value "1.5"',
        'row 7, column month, value "07/2025"',
    ]
    assert _count(session, ServiceVolume) == 0


def test_a_volume_below_the_responses_received_is_refused(session: Session, seeded):
    questionnaire = queries.active_questionnaire(session, "administrative")
    for i in range(3):
        session.add(
            Response(
                idempotency_key=f"setup-volume-{i:08d}",
                service_point=seeded.desk,
                questionnaire=questionnaire,
                channel="qr",
                # 31 July 20:00 in Vietnam is 1 August 03:00... no: 31 July 13:00 UTC = 20:00 VN
                submitted_at=dt.datetime(2025, 7, 31, 13, 0, tzinfo=dt.UTC),
            )
        )
    session.commit()
    code = seeded.desk.code
    problems = _problems(
        f"service_point_code,month,citizens_served\n{code},2025-07,2\n{code},2025-08,0\n".encode(),
        importer=import_volumes,
        session=session,
    )
    assert len(problems) == 1 and "row 2" in problems[0] and "3 responses" in problems[0]


def test_the_grid_and_the_coverage_of_a_period(session: Session):
    _organisation(session)
    enter_volumes(session, [("TTHCC-Q1", "2025-07", "100"), ("TTHCC-Q1", "2025-08", "100")])
    with pytest.raises(ImportRefused):
        enter_volumes(session, [("TTHCC-Q1", "2025-09", "lots")])
    coverage = volume_coverage(session, dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    assert coverage.months == ["2025-07", "2025-08", "2025-09"]
    by_code = {p.code: p for p in coverage.points}
    assert by_code["TTHCC-Q1"].volumes == {"2025-07": 100, "2025-08": 100, "2025-09": None}
    assert by_code["TTHCC-Q1"].missing_months == 1 and by_code["TTHCC-Q2"].missing_months == 3
    assert coverage.rate_is_default and coverage.imputation_rate == 0.2
