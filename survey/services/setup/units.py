"""Agencies and service points edited one at a time from the web pages.

Every edit goes through the checks of the organisation import (``organisation``): the same rules
for a file of a thousand rows and for one form. A role edits only within its scope: a sector
administrator the agencies of its sector, an agency manager its subtree (and only below its own
agency), a province administrator everything. Every change is in the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.access import OutOfScope, Scope
from survey.services.errors import InvalidInput, NotFound
from survey.services.importing import ImportRefused, ImportReport, Row
from survey.services.setup.organisation import (
    AgencyRow,
    PointRow,
    _check_hierarchy,
    _check_sector_changes,
    _read,
    apply_organisation,
)
from survey.storage import queries
from survey.storage.database import all_or_nothing
from survey.storage.models import Agency, ServicePoint


@dataclass(frozen=True)
class TreeNode:
    agency: Agency
    depth: int
    points: int
    active_points: int


def agency_tree(session: Session, agency_ids: frozenset[int] | None) -> list[TreeNode]:
    """The agencies a user may see, each after its parent (depth-first, by name), retired ones
    included: a flat list with each node's depth, ready to indent."""
    agencies = [
        a for a in queries.all_agencies(session) if agency_ids is None or a.id in agency_ids
    ]
    counts: dict[int, tuple[int, int]] = {}
    for point in queries.all_service_points(session):
        total, active = counts.get(point.agency_id, (0, 0))
        counts[point.agency_id] = (total + 1, active + int(point.active))
    visible = {a.id for a in agencies}
    children: dict[int | None, list[Agency]] = {}
    for agency in agencies:
        parent = agency.parent_id if agency.parent_id in visible else None
        children.setdefault(parent, []).append(agency)
    for siblings in children.values():
        siblings.sort(key=lambda a: (a.valid_to is not None, a.level != "province", a.name_vi))
    nodes: list[TreeNode] = []
    pending: list[tuple[Agency, int]] = [(a, 0) for a in reversed(children.get(None, []))]
    while pending:
        agency, depth = pending.pop()
        total, active = counts.get(agency.id, (0, 0))
        nodes.append(TreeNode(agency, depth, total, active))
        pending.extend((child, depth + 1) for child in reversed(children.get(agency.id, [])))
    return nodes


def agency_choices(
    session: Session, agency_ids: frozenset[int] | None, *, active_only: bool = False
) -> list[tuple[str, str]]:
    """(code, indented name) of the agencies in a scope, in tree order, for a select box."""
    return [
        (
            node.agency.code,
            "\u00a0\u00a0" * node.depth + f"{node.agency.name_vi} ({node.agency.code})",
        )
        for node in agency_tree(session, agency_ids)
        if not active_only or node.agency.valid_to is None
    ]


def agency_cells(agency: Agency) -> dict[str, str]:
    """An agency as the columns of the organisation file (to fill a form)."""
    return _cells_of(agency)


AGENCY_FIELDS = (
    "agency_code",
    "agency_name",
    "agency_name_en",
    "parent_code",
    "sector",
    "level",
    "valid_from",
    "valid_to",
    "successor_code",
)


def _cells_of(agency: Agency) -> dict[str, str]:
    return {
        "agency_code": agency.code,
        "agency_name": agency.name_vi,
        "agency_name_en": agency.english_name or "",
        "parent_code": agency.parent.code if agency.parent else "",
        "sector": agency.sector,
        "level": agency.level,
        "valid_from": agency.valid_from.isoformat(),
        "valid_to": agency.valid_to.isoformat() if agency.valid_to else "",
        "successor_code": agency.successor.code if agency.successor else "",
    }


def _check_scope(session: Session, scope: Scope, row: AgencyRow, existing: Agency | None) -> None:
    if scope.everything:
        return
    if existing is not None and not scope.allows(existing):
        raise OutOfScope()
    if scope.sector is not None and row.sector != scope.sector:
        raise OutOfScope()
    if scope.agency_ids is not None:
        parent = queries.agency_by_code(session, row.parent_code) if row.parent_code else None
        if parent is None or parent.id not in scope.agency_ids:
            raise OutOfScope()  # a manager adds and moves units only below its own agency


def save_agency(
    session: Session, actor: Any, scope: Scope, cells: dict[str, str], *, agency_id: int | None
) -> Agency:
    """Add an agency (``agency_id`` None) or change one (rename, move, sector, level, dates,
    retire with a successor); ``cells`` are the organisation file's columns. Raises
    ``ImportRefused`` whose report says what is wrong."""
    existing = None
    if agency_id is not None:
        existing = queries.agency_by_id(session, agency_id)
        if existing is None:
            raise NotFound()
        cells = {**_cells_of(existing), **cells, "agency_code": existing.code}
    elif queries.agency_by_code(session, cells.get("agency_code", "")) is not None:
        raise InvalidInput("Đã có cơ quan mang mã này.", "An agency with this code already exists.")
    report = ImportReport()
    cells = {name: (cells.get(name) or "").strip() for name in AGENCY_FIELDS} | {
        "service_point_code": "",
        "service_point_name": "",
        "service_point_name_en": "",
    }
    agencies, _points, rows_of = _read([Row(1, cells)], report)
    report.refuse_if_problems()
    row = next(iter(agencies.values()))
    _check_scope(session, scope, row, existing)
    stored = {agency.code: agency for agency in queries.all_agencies(session)}
    _check_hierarchy(agencies, stored, rows_of, report)
    _check_sector_changes(session, agencies, stored, rows_of, report)
    report.refuse_if_problems()
    with all_or_nothing(session):
        changes = apply_organisation(session, agencies, {}, stored, report)
        agency = stored[row.code]
        if existing is None:
            audit.record(session, actor, "agency.added", f"agency:{row.code}", _cells_of(agency))
        elif changes:
            action = (
                "agency.retired" if "valid_to" in changes[0] and row.valid_to else "agency.changed"
            )
            audit.record(session, actor, action, f"agency:{row.code}", changes[0])
        session.flush()
    return agency


def save_service_point(
    session: Session,
    actor: Any,
    scope: Scope,
    *,
    agency_id: int,
    code: str,
    name_vi: str,
    name_en: str,
    adding: bool,
) -> None:
    """Add a point to an agency, or rename one (and move it to ``agency_id``)."""
    agency = queries.agency_by_id(session, agency_id)
    if agency is None:
        raise NotFound()
    if not scope.allows(agency):
        raise OutOfScope()
    stored_points = queries.service_points_by_code(session)
    if adding and code in stored_points:
        raise InvalidInput(
            "Đã có điểm phục vụ mang mã này.", "A service point with this code already exists."
        )
    if not adding and code not in stored_points:
        raise NotFound()
    report = ImportReport()
    cells = _cells_of(agency) | {
        "service_point_code": code.strip(),
        "service_point_name": name_vi,
        "service_point_name_en": name_en,
    }
    _agencies, points, _rows_of = _read([Row(1, cells)], report)
    report.refuse_if_problems()
    if not points:
        raise ImportRefused.single("Thiếu mã điểm phục vụ.", "The service point code is missing.")
    stored = {agency.code: agency for agency in queries.all_agencies(session)}
    with all_or_nothing(session):
        changes = apply_organisation(session, {}, points, stored, report)
        subject = f"service_point:{code}"
        if adding:
            audit.record(
                session,
                actor,
                "service_point.added",
                subject,
                {"agency": agency.code, "name": name_vi},
            )
        elif changes:
            audit.record(session, actor, "service_point.changed", subject, changes[0])
        session.flush()


def close_service_point(
    session: Session, actor: Any, scope: Scope, public_code: str, successor_code: str | None
) -> ServicePoint:
    """Close a desk; its QR then leads citizens to ``successor_code``'s form, if given (an open
    point), else — when its agency is retired — to the successor agency's first open point."""
    point = _point_in_scope(session, scope, public_code)
    successor = None
    if successor_code:
        successor = queries.service_points_by_code(session).get(successor_code.strip())
        if successor is None:
            raise InvalidInput(
                "Không có điểm phục vụ mang mã kế thừa này.",
                "No service point has this successor code.",
            )
        if successor.id == point.id or not successor.active:
            raise InvalidInput(
                "Điểm kế thừa phải là một điểm khác đang hoạt động.",
                "The successor must be another service point that is open.",
            )
    point.active = False
    point.successor_id = successor.id if successor else None
    audit.record(
        session,
        actor,
        "service_point.retired",
        f"service_point:{point.code}",
        {"agency": point.agency.code, "name": point.name_vi, "successor": successor_code or None},
    )
    session.flush()
    return point


def reopen_service_point(session: Session, actor: Any, scope: Scope, public_code: str) -> None:
    point = _point_in_scope(session, scope, public_code)
    if point.active:
        return
    point.active = True
    point.successor_id = None
    audit.record(
        session,
        actor,
        "service_point.reopened",
        f"service_point:{point.code}",
        {"agency": point.agency.code, "name": point.name_vi},
    )
    session.flush()


def _point_in_scope(session: Session, scope: Scope, public_code: str) -> ServicePoint:
    point = queries.service_point_by_code(session, public_code)
    if point is None:
        raise NotFound()
    if not scope.allows_point(point):
        raise OutOfScope()
    return point


def successor_point(session: Session, point: ServicePoint, day: dt.date) -> ServicePoint | None:
    """Where a closed point (or a point of a retired agency) sends its citizens on ``day``: its
    named successor, else the first open point of its agency's successor, followed along the
    chain; None when there is nowhere to go."""
    seen = {point.id}
    current = point
    while True:
        if current.active and current.agency.is_active_on(day):
            return current if current.id != point.id else None
        following = None
        if current.successor_id is not None:
            following = queries.service_point_by_id(session, current.successor_id)
        elif current.agency.successor_id is not None:
            following = next(
                (
                    p
                    for p in queries.service_points_of_agency(session, current.agency.successor_id)
                    if p.active
                ),
                None,
            )
        if following is None or following.id in seen:
            return None
        seen.add(following.id)
        current = following


__all__ = [
    "AgencyRow",
    "PointRow",
    "TreeNode",
    "agency_tree",
    "close_service_point",
    "reopen_service_point",
    "save_agency",
    "save_service_point",
    "successor_point",
]
