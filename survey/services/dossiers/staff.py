"""Clerks as data, and their results for those allowed to see them.

Staff records come from dossier imports (a clerk id not seen before, to be named later), from
officials (name, service point, active dates) or from a staff list (``import_staff``: columns
``clerk_id, name, service_point_code, active_from, active_to``).

A clerk's results (``clerk_results``) rest on the ratings of the dossiers they handled that were
received in the period: the share satisfied (overall 4–5) with its Wilson interval, shown only from
``STAFF_MIN_RATINGS`` ratings (fewer: the count only); the response rate; dissatisfied ratings and
complaints, and each shown clerk's rank among them with a simultaneous 95% interval for the rank
(``analysis.official.rank_rated_shares``). They are listed by name, never ordered by score: a
league table of point estimates would rank chance. Who may see them is the route's business
(agency managers and above, within their scope).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from analysis.official import RatedShare, ShareRank, rank_rated_shares, rated_share
from survey.services import audit
from survey.services.errors import InvalidInput, NotFound
from survey.services.exports import local_day_start
from survey.services.importing import ImportReport, open_table
from survey.storage import queries
from survey.storage.database import all_or_nothing
from survey.storage.models import Staff

NAME_MAX = 300


@dataclass(frozen=True, kw_only=True)
class ClerkResult:
    staff: Staff
    dossiers: int
    complaints: int
    share: RatedShare
    rank: ShareRank | None = None  # among the clerks shown, with its simultaneous interval

    @property
    def response_rate(self) -> float | None:
        return self.share.ratings / self.dossiers if self.dossiers else None


def clerk_results(
    session: Session,
    first: dt.date,
    last: dt.date,
    *,
    visible_agency_ids: frozenset[int] | None,
    min_ratings: int,
) -> list[ClerkResult]:
    """One line per clerk of the scope (by the service point they work at), in the order of their
    names, from the dossiers they handled that were received between the two days."""
    start, end = local_day_start(first), local_day_start(last + dt.timedelta(days=1))
    overall: dict[int, list[int]] = {}
    dossiers: dict[int, int] = {}
    complaints: dict[int, int] = {}
    for staff_id, rating, complained in queries.clerk_dossiers(session, start, end):
        dossiers[staff_id] = dossiers.get(staff_id, 0) + 1
        if rating is not None:
            overall.setdefault(staff_id, []).append(int(rating))
        if complained:
            complaints[staff_id] = complaints.get(staff_id, 0) + 1
    staff = queries.staff_in(session, visible_agency_ids)
    shares = [
        rated_share(overall.get(member.id, []), min_n=min_ratings, group={"staff": member.id})
        for member in staff
    ]
    ranks = rank_rated_shares(shares)
    return [
        ClerkResult(
            staff=member,
            dossiers=dossiers.get(member.id, 0),
            complaints=complaints.get(member.id, 0),
            share=share,
            rank=rank,
        )
        for member, share, rank in zip(staff, shares, ranks, strict=True)
    ]


def staff_in_scope(session: Session, staff_id: int, scope: Any) -> Staff:
    member = queries.staff_by_id(session, staff_id)
    if member is None:
        raise NotFound()
    point = member.service_point
    if not scope.everything and (point is None or not scope.allows_point(point)):
        raise NotFound()
    return member


def update_staff(
    session: Session,
    member: Staff,
    *,
    name: str,
    active_from: dt.date | None,
    active_to: dt.date | None,
    actor: Any,
) -> None:
    """Name a clerk and set their active dates (audited)."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Hãy ghi họ và tên.", "Enter the clerk's full name.")
    if len(name) > NAME_MAX:
        raise InvalidInput(
            f"Họ tên dài quá {NAME_MAX} ký tự.", f"The name is longer than {NAME_MAX} characters."
        )
    if active_from and active_to and active_to <= active_from:
        raise InvalidInput(
            "Ngày thôi làm việc phải sau ngày bắt đầu.",
            "The end date must be after the start date.",
        )
    before = {"name": member.name, "active_from": member.active_from, "active_to": member.active_to}
    member.name, member.active_from, member.active_to = name, active_from, active_to
    audit.record(
        session,
        actor,
        "staff.updated",
        f"staff:{member.clerk_code}",
        {"before": before, "after": {"name": name, "from": active_from, "to": active_to}},
    )
    session.flush()


def import_staff(
    session: Session,
    source: str | Path | bytes | IO[bytes],
    *,
    filename: str | None = None,
    visible_agency_ids: frozenset[int] | None = None,
    actor: Any = None,
    max_bytes: int | None = 5 * 1024 * 1024,
) -> ImportReport:
    """A staff list in (``clerk_id, name, service_point_code[, active_from, active_to]``): new
    clerks added, known ones updated; all or nothing (``ImportRefused``)."""
    report = ImportReport()
    table = open_table(
        source,
        required=("clerk_id", "name", "service_point_code"),
        optional=("active_from", "active_to"),
        filename=filename,
        max_bytes=max_bytes,
        report=report,
    )
    points = queries.service_point_ids_by_code(session, visible_agency_ids)
    known = {member.clerk_code: member for member in queries.staff_in(session, None)}
    seen: set[str] = set()
    with all_or_nothing(session):
        for row in table:
            report.rows += 1
            clerk, name = row["clerk_id"], " ".join(row["name"].split())
            dates = []
            for column in ("active_from", "active_to"):
                try:
                    dates.append(dt.date.fromisoformat(row[column]) if row[column] else None)
                except ValueError:
                    report.problem(
                        row.number,
                        column,
                        row[column],
                        "Không phải ngày dạng 2026-01-31.",
                        "Not a day such as 2026-01-31.",
                    )
                    dates.append(None)
            problems = report.problem_count
            if not clerk or len(clerk) > 64:
                report.problem(
                    row.number,
                    "clerk_id",
                    clerk,
                    "Thiếu mã cán bộ (tối đa 64 ký tự).",
                    "The clerk id is missing or longer than 64 characters.",
                )
            elif clerk in seen:
                report.problem(
                    row.number,
                    "clerk_id",
                    clerk,
                    "Mã cán bộ bị lặp trong tệp.",
                    "The clerk id appears twice in the file.",
                )
            if not name or len(name) > NAME_MAX:
                report.problem(
                    row.number,
                    "name",
                    name,
                    "Thiếu họ tên (tối đa 300 ký tự).",
                    "The name is missing or longer than 300 characters.",
                )
            point_id = points.get(row["service_point_code"])
            if point_id is None:
                report.problem(
                    row.number,
                    "service_point_code",
                    row["service_point_code"],
                    "Không có điểm phục vụ nào mang mã này trong phạm vi của tài khoản.",
                    "No service point with this code is within your scope.",
                )
            if dates[0] and dates[1] and dates[1] <= dates[0]:
                report.problem(
                    row.number,
                    "active_to",
                    row["active_to"],
                    "Ngày thôi làm việc phải sau ngày bắt đầu.",
                    "The end date must be after the start date.",
                )
            seen.add(clerk)
            if report.problem_count > problems:
                continue
            member = known.get(clerk)
            values = {
                "name": name,
                "service_point_id": point_id,
                "active_from": dates[0],
                "active_to": dates[1],
            }
            if member is None:
                session.add(Staff(clerk_code=clerk, **values))
                report.count("added", "staff")
            elif any(getattr(member, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(member, key, value)
                report.count("changed", "staff")
            else:
                report.count("unchanged", "staff")
        report.refuse_if_problems()
        audit.record(
            session,
            actor,
            "staff.imported",
            f"file:{filename or 'upload'}",
            {"added": report.added, "changed": report.changed},
        )
        session.flush()
    return report
