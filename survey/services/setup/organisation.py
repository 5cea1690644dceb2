"""Importing a province's organisation: agencies (any depth, with history) and service points.

File layout (CSV or XLSX, one row per service point, the agency's columns repeated on each; a row
with a blank ``service_point_code`` defines an agency alone)::

    agency_code, agency_name, parent_code, sector, level, valid_from, valid_to, successor_code,
    service_point_code, service_point_name    [+ optional agency_name_en, service_point_name_en]

The English names are the province's own (English pages show the Vietnamese name, diacritics
and all, where there is none): a blank cell means "no English name"; a file without the column
leaves the stored English names as they are.

Idempotent on codes: an agency or point already stored with the same content is left as it is,
one with other content is changed (renamed, moved, retired), a new code is added. Nothing is ever
deleted: a unit absent from the file stays as it was. Refused, with nothing stored: a code given
twice with different content, an unknown parent or successor, a cycle in the hierarchy, a
successor that is itself retired, a retired unit's successor without its end date, an unknown
sector or level, a bad or inverted date, a sector change of an agency that already has answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.importing import DEFAULT_MAX_BYTES, ImportReport, Row, open_table
from survey.services.qr import new_public_code
from survey.services.setup.values import POINT_CODE, Cells
from survey.storage import queries
from survey.storage.database import all_or_nothing
from survey.storage.models import Agency, ServicePoint

REQUIRED = (
    "agency_code",
    "agency_name",
    "parent_code",
    "sector",
    "level",
    "valid_from",
    "valid_to",
    "successor_code",
    "service_point_code",
    "service_point_name",
)
OPTIONAL = ("agency_name_en", "service_point_name_en")
MAX_CHANGES_LOGGED = 5_000


@dataclass(frozen=True)
class AgencyRow:
    code: str
    name_vi: str
    name_en: str | None  # "" none, None not given (the stored one is kept)
    parent_code: str
    sector: str
    level: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    successor_code: str


@dataclass(frozen=True)
class PointRow:
    code: str
    name_vi: str
    name_en: str | None  # "" none, None not given (the stored one is kept)
    agency_code: str


AGENCY_COLUMNS = {
    "name_vi": "agency_name",
    "name_en": "agency_name_en",
    "parent_code": "parent_code",
    "sector": "sector",
    "level": "level",
    "valid_from": "valid_from",
    "valid_to": "valid_to",
    "successor_code": "successor_code",
}
POINT_COLUMNS = {
    "name_vi": "service_point_name",
    "name_en": "service_point_name_en",
    "agency_code": "agency_code",
}


def import_organisation(
    session: Session,
    source: str | Path | bytes | IO[bytes],
    *,
    actor: Any = None,
    filename: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> ImportReport:
    """Add or change the agencies and service points of the file, all or nothing, or raise
    ``ImportRefused`` (its report lists every problem) with nothing stored."""
    report = ImportReport()
    with all_or_nothing(session):
        table = open_table(
            source,
            required=REQUIRED,
            optional=OPTIONAL,
            filename=filename,
            max_bytes=max_bytes,
            report=report,
        )
        store_organisation(
            session, table, report, actor=actor, subject=f"file:{file_label(source, filename)}"
        )
    return report


def store_organisation(
    session: Session, rows: Iterable[Row], report: ImportReport, *, actor: Any, subject: str
) -> None:
    """Check every row (file or official list), then store them (flushed, not committed);
    ``ImportRefused`` with nothing stored when anything is wrong."""
    agencies, points, rows_of = _read(rows, report)
    stored = {agency.code: agency for agency in queries.all_agencies(session)}
    _check_hierarchy(agencies, stored, rows_of, report)
    _check_sector_changes(session, agencies, stored, rows_of, report)
    report.refuse_if_problems()
    changes = apply_organisation(session, agencies, points, stored, report)
    audit.record(
        session,
        actor,
        "organisation.imported",
        subject,
        {
            "rows": report.rows,
            "added": report.added,
            "changed": changes[:MAX_CHANGES_LOGGED],
            "changes": len(changes),
        },
    )
    session.flush()


def file_label(source: Any, filename: str | None) -> str:
    """The name of an imported file for the audit log."""
    if filename:
        return Path(filename).name
    return Path(source).name if isinstance(source, str | Path) else "upload"


def _read(
    table: Iterable[Row], report: ImportReport
) -> tuple[dict[str, AgencyRow], dict[str, PointRow], dict[str, int]]:
    """The file's agencies and points by code (repeats checked), and the first row of each code
    (agency codes as ``a:CODE``, point codes as ``p:CODE``)."""
    agencies: dict[str, AgencyRow] = {}
    points: dict[str, PointRow] = {}
    rows_of: dict[str, int] = {}
    for row in table:
        report.rows += 1
        cells = Cells(row, report)
        code = cells.code("agency_code")
        name = cells.name("agency_name")
        agency = AgencyRow(
            code=code,
            name_vi=name,
            name_en=_english_name(cells, "agency_name_en"),
            parent_code=cells.code("parent_code", required=False),
            sector=cells.sector(),
            level=cells.level(),
            valid_from=cells.date("valid_from", required=True),
            valid_to=cells.date("valid_to", required=False),
            successor_code=cells.code("successor_code", required=False),
        )
        if agency.valid_from and agency.valid_to and agency.valid_to <= agency.valid_from:
            cells.problem(
                "valid_to",
                "Ngày kết thúc phải sau ngày bắt đầu (valid_from).",
                "The end date must come after the start date (valid_from).",
            )
        if agency.successor_code and agency.valid_to is None:
            cells.problem(
                "successor_code",
                "Đơn vị có đơn vị kế thừa phải có ngày kết thúc (valid_to).",
                "A unit with a successor needs its end date (valid_to).",
            )
        if code and code in (agency.parent_code, agency.successor_code):
            column = "parent_code" if code == agency.parent_code else "successor_code"
            cells.problem(
                column,
                "Một đơn vị không thể trực thuộc hay kế thừa chính nó.",
                "A unit cannot be its own parent or successor.",
            )
        if code:
            _remember(agencies, rows_of, f"a:{code}", code, agency, cells, AGENCY_COLUMNS)
        point_code = cells.code("service_point_code", required=False, pattern=POINT_CODE)
        point_name = cells.name("service_point_name", required=bool(point_code))
        if point_code and code:
            point = PointRow(
                code=point_code,
                name_vi=point_name,
                name_en=_english_name(cells, "service_point_name_en"),
                agency_code=code,
            )
            _remember(points, rows_of, f"p:{point_code}", point_code, point, cells, POINT_COLUMNS)
        elif not point_code and row["service_point_name"]:
            cells.problem(
                "service_point_code",
                "Điểm phục vụ có tên nhưng thiếu mã.",
                "The service point has a name but no code.",
            )
    return agencies, points, rows_of


def _english_name(cells: Cells, column: str) -> str | None:
    """The English name of the row: "" when the cell is blank, None when the row has no such
    column (a file without it; the stored name is then kept)."""
    if column not in cells.row.cells:
        return None
    return cells.name(column, required=False)


def _remember(
    found: dict[str, Any],
    rows_of: dict[str, int],
    key: str,
    code: str,
    record: Any,
    cells: Cells,
    columns: dict[str, str],
) -> None:
    first = found.get(code)
    if first is None:
        found[code] = record
        rows_of[key] = cells.row.number
        return
    if first == record:
        return
    differing = next(
        f.name for f in fields(record) if getattr(first, f.name) != getattr(record, f.name)
    )
    cells.problem(
        columns.get(differing, differing),
        f"Mã {code} đã có ở dòng {rows_of[key]} với nội dung khác.",
        f"The code {code} is already on row {rows_of[key]} with different content.",
    )


def _merged(
    agencies: dict[str, AgencyRow], stored: dict[str, Agency]
) -> tuple[dict[str, str], dict[str, dt.date | None]]:
    """Parent code and end date of every code, the file's values over the stored ones."""
    by_id = {agency.id: agency.code for agency in stored.values()}
    parent = {
        code: by_id.get(agency.parent_id, "") if agency.parent_id else ""
        for code, agency in stored.items()
    }
    valid_to = {code: agency.valid_to for code, agency in stored.items()}
    for code, row in agencies.items():
        parent[code] = row.parent_code
        valid_to[code] = row.valid_to
    return parent, valid_to


def _check_hierarchy(
    agencies: dict[str, AgencyRow],
    stored: dict[str, Agency],
    rows_of: dict[str, int],
    report: ImportReport,
) -> None:
    parent, valid_to = _merged(agencies, stored)
    for code, row in agencies.items():
        number = rows_of[f"a:{code}"]
        if row.parent_code and row.parent_code not in parent:
            report.problem(
                number,
                "parent_code",
                row.parent_code,
                "Không có đơn vị cấp trên mang mã này (trong tệp hay đã lưu).",
                "No unit has this parent code (in the file or stored).",
            )
        if row.successor_code:
            if row.successor_code not in parent:
                report.problem(
                    number,
                    "successor_code",
                    row.successor_code,
                    "Không có đơn vị kế thừa mang mã này (trong tệp hay đã lưu).",
                    "No unit has this successor code (in the file or stored).",
                )
            elif valid_to[row.successor_code] is not None:
                report.problem(
                    number,
                    "successor_code",
                    row.successor_code,
                    "Đơn vị kế thừa cũng đã giải thể; hãy chỉ đến đơn vị đang hoạt động "
                    "kế thừa nó.",
                    "The successor is itself retired; name the active unit that followed it.",
                )
        seen = {code}
        step = row.parent_code
        while step:
            if step in seen:
                report.problem(
                    number,
                    "parent_code",
                    row.parent_code,
                    f"Vòng lặp trong sơ đồ tổ chức: {code} nằm dưới chính nó (qua {step}).",
                    f"A cycle in the hierarchy: {code} would be below itself (through {step}).",
                )
                break
            seen.add(step)
            step = parent.get(step, "")


def _check_sector_changes(
    session: Session,
    agencies: dict[str, AgencyRow],
    stored: dict[str, Agency],
    rows_of: dict[str, int],
    report: ImportReport,
) -> None:
    changed = [
        code
        for code, row in agencies.items()
        if code in stored and row.sector and stored[code].sector != row.sector
    ]
    if not changed:
        return
    answered = queries.agency_ids_with_responses(session)
    for code in changed:
        if stored[code].id in answered:
            report.problem(
                rows_of[f"a:{code}"],
                "sector",
                agencies[code].sector,
                "Cơ quan đã có phiếu trả lời theo lĩnh vực cũ nên không đổi được lĩnh vực; "
                "hãy tạo đơn vị mới và cho đơn vị cũ giải thể với đơn vị kế thừa.",
                "The agency has answers under its old sector, so its sector cannot change; add "
                "a new unit and retire the old one with it as successor.",
            )


def apply_organisation(
    session: Session,
    agencies: dict[str, AgencyRow],
    points: dict[str, PointRow],
    stored: dict[str, Agency],
    report: ImportReport,
) -> list[dict[str, Any]]:
    """Store checked rows; returns the changes made (code, field, old, new) for the audit log."""
    changes: list[dict[str, Any]] = []
    new_codes: set[str] = set()
    for code, row in agencies.items():
        agency = stored.get(code)
        if agency is None:
            agency = Agency(code=code, name_vi=row.name_vi, name_en=row.name_en)
            session.add(agency)
            stored[code] = agency
            new_codes.add(code)
            report.count("added", "agency")
        values = {
            "name_vi": row.name_vi,
            "sector": row.sector,
            "level": row.level,
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
        }
        if row.name_en is not None:
            values["english_name"] = row.name_en or None
        diff = _assign(agency, values)
        if agency.id is not None and diff:
            changes.append({"agency": code, **diff})
    session.flush()
    code_of = {agency.id: agency.code for agency in stored.values()}
    for code, row in agencies.items():
        agency = stored[code]
        links = {
            "parent_id": stored[row.parent_code].id if row.parent_code else None,
            "successor_id": stored[row.successor_code].id if row.successor_code else None,
        }
        diff = _assign(agency, links)
        diff = {
            name.removesuffix("_id"): [code_of.get(old), code_of.get(new)]
            for name, (old, new) in diff.items()
        }
        if diff and code not in new_codes:
            entry = next((c for c in changes if c.get("agency") == code), None)
            if entry is None:
                changes.append({"agency": code, **diff})
            else:
                entry.update(diff)
    changed_codes = {c["agency"] for c in changes if "agency" in c}
    if changed_codes:
        report.count("changed", "agency", len(changed_codes))
    if len(agencies) - len(new_codes) - len(changed_codes):
        report.count("unchanged", "agency", len(agencies) - len(new_codes) - len(changed_codes))

    stored_points = queries.service_points_by_code(session)
    for code, point_row in points.items():
        point = stored_points.get(code)
        agency_id = stored[point_row.agency_code].id
        if point is None:
            session.add(
                ServicePoint(
                    code=code,
                    public_code=new_public_code(),
                    name_vi=point_row.name_vi,
                    name_en=point_row.name_en,
                    agency_id=agency_id,
                    active=True,
                )
            )
            report.count("added", "service_point")
            continue
        point_values: dict[str, Any] = {"name_vi": point_row.name_vi, "agency_id": agency_id}
        if point_row.name_en is not None:
            point_values["english_name"] = point_row.name_en or None
        diff = _assign(point, point_values)
        if diff:
            changes.append({"service_point": code, **diff})
            report.count("changed", "service_point")
        else:
            report.count("unchanged", "service_point")
    session.flush()
    return changes


def _assign(record: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the values that differ; returns ``{field: [old, new]}`` of those (the stored English
    name under its column's name, ``name_en``)."""
    diff: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(record, name)
        if old != value:
            if getattr(record, "id", None) is not None:
                diff["name_en" if name == "english_name" else name] = [old, value]
            setattr(record, name, value)
    return diff
