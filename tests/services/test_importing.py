"""open_table: the one reader behind every import (CSV or XLSX in, rows or a clear refusal out)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from survey.services.importing import ImportRefused, ImportReport, open_table

REQUIRED = ("service_point_code", "month", "citizens_served")


def _rows(source: bytes, filename: str = "volumes.csv", **options) -> list[tuple[int, dict]]:
    table = open_table(source, required=REQUIRED, filename=filename, **options)
    return [(row.number, row.cells) for row in table]


def _refusal(source: bytes, filename: str = "volumes.csv", **options) -> str:
    with pytest.raises(ImportRefused) as refused:
        _rows(source, filename, **options)
    return " | ".join(p.describe("en") for p in refused.value.report.problems)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_csv_in_utf8_with_bom_semicolons_and_header_in_any_case():
    text = (
        "\ufeffService_Point_Code ; MONTH;citizens_served\n"
        "DESK1;2025-07;120\n\n;;\nDESK2;2025-08;80\n"
    )
    assert _rows(text.encode("utf-8")) == [
        (2, {"service_point_code": "DESK1", "month": "2025-07", "citizens_served": "120"}),
        (5, {"service_point_code": "DESK2", "month": "2025-08", "citizens_served": "80"}),
    ]


def test_utf16_from_excel_unicode_text_is_read():
    text = "service_point_code\tmonth\tcitizens_served\r\nBỘ-PHẬN-1\t2025-07\t12\r\n"
    assert _rows(text.encode("utf-16"))[0][1]["service_point_code"] == "BỘ-PHẬN-1"


def test_a_windows_1258_file_is_refused_with_how_to_save_it():
    legacy = b"service_point_code,month,citizens_served\nB\xf4 ph\xe2n m\xf4t c\xfda,2025-07,12\n"
    message = _refusal(legacy)
    assert "not UTF-8" in message and "line 2" in message and "CSV UTF-8" in message


def test_xlsx_numbers_dates_and_blank_rows():
    body = _xlsx(
        [
            ["service_point_code", "month", "citizens_served"],
            ["DESK1", dt.datetime(2025, 7, 1, 8, 30), 120.0],
            [None, None, None],
            ["DESK2", "2025-08", 80],
        ]
    )
    assert _rows(body, "volumes.xlsx") == [
        (
            2,
            {
                "service_point_code": "DESK1",
                "month": "2025-07-01T08:30:00",
                "citizens_served": "120",
            },
        ),
        (4, {"service_point_code": "DESK2", "month": "2025-08", "citizens_served": "80"}),
    ]


def test_a_formula_in_an_xlsx_cell_is_refused_with_its_place():
    body = _xlsx([list(REQUIRED), ["DESK1", "2025-07", "=100+20"]])
    message = _refusal(body, "volumes.xlsx")
    assert "row 2, column citizens_served" in message and "formula" in message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("service_point_code,month", "column citizens_served: A required column is missing"),
        ("service_point_code,month,citizens_served,colour", "column colour: This import has no"),
        (
            "service_point_code,month,month,citizens_served",
            "column month: The column appears twice",
        ),
    ],
)
def test_header_faults_name_the_column(header: str, expected: str):
    assert expected in _refusal(f"{header}\nDESK1,2025-07,1\n".encode())


def test_whole_file_faults_are_refused_before_any_row():
    assert "too large (at most 2 KB)" in _refusal(
        b"service_point_code,month,citizens_served\n" + b"D,2025-07,1\n" * 200, max_bytes=2048
    )
    assert "empty" in _refusal(b"  \n")
    assert "binary" in _refusal(b"service_point_code,month,citizens_served\nD\x00,1,2\n")
    assert "not a valid Excel" in _refusal(b"PK\x03\x04 not really a zip", "volumes.xlsx")


def test_a_row_with_cells_beyond_the_columns_goes_into_the_report():
    text = "service_point_code,month,citizens_served\nDESK1,2025-07,1,200\nDESK2,2025-07,5\n"
    report = ImportReport()
    rows = _rows(text.encode(), report=report)
    assert [number for number, _ in rows] == [3]
    (problem,) = report.problems
    assert (problem.row, problem.value) == (2, "200")
    assert "ngoài các cột" in problem.describe("vi")
    with pytest.raises(ImportRefused):
        report.refuse_if_problems()


def test_the_report_counts_and_summarises_in_both_languages():
    report = ImportReport()
    report.count("added", "agency", 2)
    report.count("added", "service_point")
    report.count("unchanged", "agency")
    assert report.summary("en") == (
        "Added: 2 agency, 1 service_point; changed: 0; unchanged: 1 agency."
    )
    assert report.summary("vi").startswith("Thêm mới: 2 agency")
    report.refuse_if_problems()  # no problem: nothing raised


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_on_disk_is_read_row_by_row_and_closed(tmp_path, suffix: str):
    path = tmp_path / f"volumes{suffix}"
    rows = [list(REQUIRED)] + [[f"DESK{i}", "2025-07", str(i)] for i in range(1, 2001)]
    if suffix == ".csv":
        path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    else:
        path.write_bytes(_xlsx(rows))
    table = open_table(path, required=REQUIRED)
    first = next(iter(table))
    assert (first.number, first["citizens_served"]) == (2, "1")
    assert sum(1 for _ in table) == 1999  # the rest, read lazily; the file is closed at the end
    half_read = open_table(path, required=REQUIRED)
    next(iter(half_read))
    half_read.rows.close()  # an import that stops early closes the file too (no ResourceWarning)
