"""English names of agencies and service points are data: given by the province, or absent.

Absent, an English page shows the Vietnamese name with its diacritics, never a stripped copy.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.setup.names import english_unit_name
from survey.services.setup.official import setup_province
from survey.services.setup.organisation import REQUIRED, import_organisation
from survey.storage import queries
from survey.storage.models import Agency, AuditEvent, ServicePoint

COLUMNS = [*REQUIRED, "agency_name_en", "service_point_name_en"]
PROVINCE = ["DB", "Tỉnh Điện Biên", "", "administrative", "province", "2004-01-01", "", "", "", ""]
SCHOOL = [
    "DB-LQD",
    "Trường THPT Chuyên Lê Quý Đôn",
    "DB",
    "education",
    "province",
    "2004-01-01",
    "",
    "",
    "LQD-VP",
    "Văn phòng nhà trường",
]


def _csv(columns: list[str], *rows: list[str]) -> bytes:
    return "\n".join(",".join(row) for row in [columns, *rows]).encode()


def _names(session: Session) -> dict[str, tuple[str | None, str]]:
    """Code → (stored English name, the name an English page shows), agencies and points."""
    session.expire_all()
    units: list[Agency | ServicePoint] = [
        *session.scalars(select(Agency)),
        *session.scalars(select(ServicePoint)),
    ]
    return {unit.code: (unit.english_name, unit.name_en) for unit in units}


def test_english_names_from_the_file_are_stored(session: Session):
    source = _csv(
        COLUMNS,
        [*PROVINCE, "Điện Biên Province", ""],
        [*SCHOOL, "Lê Quý Đôn Specialised Upper-Secondary School", "School office"],
    )
    import_organisation(session, source, filename="org.csv")
    assert _names(session) == {
        "DB": ("Điện Biên Province", "Điện Biên Province"),
        "DB-LQD": (
            "Lê Quý Đôn Specialised Upper-Secondary School",
            "Lê Quý Đôn Specialised Upper-Secondary School",
        ),
        "LQD-VP": ("School office", "School office"),
    }


def test_without_an_english_name_english_pages_get_the_vietnamese_one_with_diacritics(
    session: Session,
):
    import_organisation(session, _csv(list(REQUIRED), PROVINCE, SCHOOL), filename="org.csv")
    assert _names(session) == {
        "DB": (None, "Tỉnh Điện Biên"),
        "DB-LQD": (None, "Trường THPT Chuyên Lê Quý Đôn"),
        "LQD-VP": (None, "Văn phòng nhà trường"),
    }
    # The same in a query: COALESCE(name_en, name_vi).
    shown = session.execute(select(Agency.code, Agency.name_en).order_by(Agency.code)).all()
    assert [tuple(row) for row in shown] == [
        ("DB", "Tỉnh Điện Biên"),
        ("DB-LQD", "Trường THPT Chuyên Lê Quý Đôn"),
    ]


def test_a_file_without_the_column_keeps_english_names_and_a_blank_cell_removes_one(
    session: Session,
):
    named = _csv(COLUMNS, [*PROVINCE, "Điện Biên Province", ""], [*SCHOOL, "LQD School", "Office"])
    import_organisation(session, named, filename="org.csv")

    again = import_organisation(session, _csv(list(REQUIRED), PROVINCE, SCHOOL), filename="org.csv")
    assert again.changed == {} and again.unchanged == {"agency": 2, "service_point": 1}
    assert _names(session)["DB-LQD"] == ("LQD School", "LQD School")

    blank = _csv(COLUMNS, [*PROVINCE, "Điện Biên Province", ""], [*SCHOOL, "", "Office"])
    report = import_organisation(session, blank, filename="org.csv")
    assert report.changed == {"agency": 1}
    assert _names(session)["DB-LQD"] == (None, "Trường THPT Chuyên Lê Quý Đôn")
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert {"agency": "DB-LQD", "name_en": ["LQD School", None]} in event.details["changed"]


def test_a_short_row_is_read_as_blank_english_names_not_as_a_missing_column(session: Session):
    """A CSV row may end before its last, empty cells; the agency repeated on such a row is the
    same agency (not "already on row 2 with different content")."""
    rows = [
        ",".join(COLUMNS),
        ",".join([*PROVINCE, "", ""]),
        ",".join([*SCHOOL, "", "Office"]),
        ",".join([*SCHOOL[:8], "LQD-TV", "Thư viện"]),  # stops before the English names
    ]
    report = import_organisation(session, "\n".join(rows).encode(), filename="org.csv")
    assert report.added == {"agency": 2, "service_point": 2}
    assert _names(session)["LQD-TV"] == (None, "Thư viện")


def test_xlsx_files_carry_english_names_too(session: Session):
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    sheet.append([*PROVINCE, "Điện Biên Province", ""])
    sheet.append([*SCHOOL, "", "School office"])
    buffer = io.BytesIO()
    book.save(buffer)
    import_organisation(session, buffer.getvalue(), filename="org.xlsx")
    assert _names(session) == {
        "DB": ("Điện Biên Province", "Điện Biên Province"),
        "DB-LQD": (None, "Trường THPT Chuyên Lê Quý Đôn"),
        "LQD-VP": ("School office", "School office"),
    }


@pytest.mark.parametrize(
    ("name_vi", "name_en"),
    [
        ("Tỉnh Điện Biên", "Điện Biên Province"),
        ("Thành phố Hà Nội", "Hà Nội City"),
        ("Phường Mường Thanh", "Mường Thanh Ward"),
        ("Xã Thanh Nưa", "Thanh Nưa Commune"),
        ("Thị trấn Tuần Giáo", "Tuần Giáo Township"),
        ("Thị xã Mường Lay", "Mường Lay Town"),
        ("Huyện Điện Biên Đông", "Điện Biên Đông District"),
        ("Đặc khu Côn Đảo", "Côn Đảo Special Zone"),
        ("Sở Y tế", None),
        ("Xã", None),
    ],
)
def test_english_names_of_administrative_units_keep_the_diacritics(
    name_vi: str, name_en: str | None
):
    assert english_unit_name(name_vi) == name_en


def test_the_official_list_gives_communes_and_wards_english_names(session: Session):
    setup_province(session, "11", with_desks=True)
    province = queries.agency_by_code(session, "11")
    assert province is not None and province.name_en == "Điện Biên Province"
    ward = session.scalars(select(Agency).where(Agency.name_vi == "Phường Điện Biên Phủ")).one()
    assert ward.name_en == "Điện Biên Phủ Ward"
    desk = ward.service_points[0]
    assert desk.name_en == "One-stop reception desk"
    assert all(agency.english_name for agency in session.scalars(select(Agency)))
