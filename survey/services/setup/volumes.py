"""Service volumes: citizens served per point per month, the population behind the weights.

Entered in the grid of the web page or imported from the one-stop dossier system's export
(``service_point_code, month, citizens_served``; month as ``YYYY-MM``). A month already stored is
replaced (the audit log keeps the old and the new count); a month still to come is stored as a
plan (``planned``) and replaced by the count once known. Refused, with nothing stored: an unknown
point, a bad month or count, the same point and month twice, and a count below the responses
already received at the point that month (the weights would be below one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import IO, Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.importing import (
    DEFAULT_MAX_BYTES,
    ImportRefused,
    ImportReport,
    Row,
    open_table,
)
from survey.services.local_time import VIETNAM_TIME, today_in_vietnam
from survey.services.setup.organisation import MAX_CHANGES_LOGGED, file_label
from survey.services.setup.values import Cells, month_label
from survey.storage import queries
from survey.storage.database import all_or_nothing

REQUIRED = ("service_point_code", "month", "citizens_served")
DEFAULT_RESPONSE_RATE = 0.2  # as survey/services/reports.py assumes when no stratum has a volume


def import_volumes(
    session: Session,
    source: str | Path | bytes | IO[bytes],
    *,
    actor: Any = None,
    filename: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    today: dt.date | None = None,
    agency_ids: frozenset[int] | None = None,
) -> ImportReport:
    """Store the file's volumes (all or nothing), or raise ``ImportRefused`` with nothing
    stored. ``agency_ids``: the points a user may set (None: all)."""
    report = ImportReport()
    with all_or_nothing(session):
        table = open_table(
            source, required=REQUIRED, filename=filename, max_bytes=max_bytes, report=report
        )
        store_volumes(
            session,
            table,
            report,
            actor=actor,
            subject=f"file:{file_label(source, filename)}",
            today=today,
            agency_ids=agency_ids,
        )
    return report


def enter_volumes(
    session: Session,
    entries: Iterable[tuple[str, str, str]],
    *,
    actor: Any = None,
    today: dt.date | None = None,
    agency_ids: frozenset[int] | None = None,
) -> ImportReport:
    """The grid of the web page: (point code, ``YYYY-MM``, count) per filled cell, checked and
    stored as an import is (all or nothing, ``ImportRefused`` naming the cell)."""
    report = ImportReport()
    cells = list(entries)
    rows = (
        Row(number, {"service_point_code": code, "month": month, "citizens_served": count})
        for number, (code, month, count) in enumerate(cells, start=1)
    )
    try:
        with all_or_nothing(session):
            store_volumes(
                session,
                rows,
                report,
                actor=actor,
                subject="grid",
                today=today,
                agency_ids=agency_ids,
            )
    except ImportRefused as refused:
        # A grid has cells, not rows: name each fault by its point and month.
        named = ImportReport()
        for problem in refused.report.problems:
            code, month, _count = cells[(problem.row or 1) - 1]
            named.problem(
                None, f"{code} · {month}", problem.value, problem.message_vi, problem.message_en
            )
        raise ImportRefused(named) from None
    return report


GRID_FIELD = "volume"  # a grid cell is named volume|<point code>|<YYYY-MM>


def grid_entries(form: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The filled cells of the grid as (point code, month, count); empty cells change nothing."""
    entries = []
    for name, value in form.items():
        kind, _, rest = name.partition("|")
        code, _, month = rest.partition("|")
        if kind == GRID_FIELD and code and month and value.strip():
            entries.append((code, month, value.strip()))
    return entries


def store_volumes(
    session: Session,
    rows: Iterable[Row],
    report: ImportReport,
    *,
    actor: Any,
    subject: str,
    today: dt.date | None = None,
    agency_ids: frozenset[int] | None = None,
) -> None:
    """Check every row, then insert new months and replace changed ones (flushed; the caller
    commits). With
    ``agency_ids``, points of other agencies are unknown (a user's scope)."""
    point_ids = {
        code: point_id
        for code, (point_id, agency_id) in queries.service_point_agencies_by_code(session).items()
        if agency_ids is None or agency_id in agency_ids
    }
    wanted: dict[tuple[int, dt.date], tuple[int, int, str]] = {}  # → (count, row, code)
    for row in rows:
        report.rows += 1
        cells = Cells(row, report)
        code = row["service_point_code"]
        point_id = point_ids.get(code)
        if point_id is None:
            cells.problem(
                "service_point_code",
                "Không có điểm phục vụ mang mã này; hãy nhập sơ đồ tổ chức trước.",
                "No service point has this code; import the organisation first.",
            )
        month = cells.month("month")
        count = cells.count("citizens_served")
        if point_id is None or month is None or count is None:
            continue
        earlier = wanted.get((point_id, month))
        if earlier is not None:
            cells.problem(
                "month",
                f"Điểm {code} đã có số liệu tháng này ở dòng {earlier[1]}.",
                f"The point {code} already has this month on row {earlier[1]}.",
            )
            continue
        wanted[(point_id, month)] = (count, row.number, code)
    report.refuse_if_problems()
    if not wanted:
        return
    first = min(month for _, month in wanted)
    last = max(month for _, month in wanted)
    _check_against_responses(session, wanted, first, last, report)
    report.refuse_if_problems()

    current = (today or today_in_vietnam()).replace(day=1)
    stored = {
        (v.service_point_id, v.month): v for v in queries.volumes_between(session, first, last)
    }
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    replaced: list[list[Any]] = []
    for (point_id, month), (count, _number, code) in wanted.items():
        planned = month > current
        volume = stored.get((point_id, month))
        if volume is None:
            new_rows.append(
                {"service_point_id": point_id, "month": month, "volume": count, "planned": planned}
            )
        elif volume.volume != count or volume.planned != planned:
            updates.append({"volume_id": volume.id, "new_volume": count, "new_planned": planned})
            replaced.append([code, month_label(month), volume.volume, count])
        else:
            report.count("unchanged", "volume")
    queries.bulk_insert_volumes(session, new_rows)
    queries.update_volumes(session, updates)
    if new_rows:
        report.count("added", "volume", len(new_rows))
        planned_rows = sum(1 for row in new_rows if row["planned"])
        if planned_rows:
            report.count("added", "planned volume", planned_rows)
    if updates:
        report.count("changed", "volume", len(updates))
    audit.record(
        session,
        actor,
        "volumes.imported",
        subject,
        {
            "rows": report.rows,
            "added": len(new_rows),
            "months": [month_label(first), month_label(last)],
            "replaced": replaced[:MAX_CHANGES_LOGGED],
            "replacements": len(replaced),
        },
    )
    session.flush()


def _check_against_responses(
    session: Session,
    wanted: dict[tuple[int, dt.date], tuple[int, int, str]],
    first: dt.date,
    last: dt.date,
    report: ImportReport,
) -> None:
    start = dt.datetime.combine(first, dt.time(), tzinfo=VIETNAM_TIME)
    end = dt.datetime.combine(_next_month(last), dt.time(), tzinfo=VIETNAM_TIME)
    received = queries.monthly_response_counts(session, start, end)
    for (point_id, month), (count, number, _code) in wanted.items():
        responses = received.get((point_id, month_label(month)), 0)
        if count < responses:
            report.problem(
                number,
                "citizens_served",
                str(count),
                f"Ít hơn {responses} phiếu trả lời đã nhận tại điểm này trong tháng; số người "
                "được phục vụ không thể nhỏ hơn số người đã trả lời.",
                f"Fewer than the {responses} responses already received at this point that "
                "month; the citizens served cannot be fewer than those who answered.",
            )


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_of(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = _next_month(month)


# --- coverage: which points lack volumes, and how their weights are then imputed --------------


@dataclass(frozen=True)
class PointVolumes:
    code: str
    name_vi: str
    name_en: str
    agency_name_vi: str
    agency_name_en: str
    active: bool
    volumes: dict[str, int | None]  # YYYY-MM → count (None: missing)
    planned: frozenset[str]  # months whose count is a plan
    responses: int  # in the period
    missing_months: int


@dataclass(frozen=True)
class VolumeCoverage:
    months: list[str]
    points: list[PointVolumes]
    imputation_rate: float  # the median response rate of the points that have volumes
    rate_is_default: bool
    missing_with_responses: int  # points with answers but no volume for some month

    @property
    def missing(self) -> list[PointVolumes]:
        return [p for p in self.points if p.missing_months]


def volume_coverage(
    session: Session, first: dt.date, last: dt.date, agency_ids: frozenset[int] | None = None
) -> VolumeCoverage:
    """Volumes of each point (in the scope) for the months of ``first``..``last``, the points
    that lack some, and the response rate the reports then use to impute their volume
    (volume = responses ÷ the median response rate of the points with a volume; see
    ``survey.services.reporting.analysable``)."""
    months = [month_label(m) for m in months_of(first, last)]
    month_first = first.replace(day=1)
    month_last = last.replace(day=1)
    stored = {
        (v.service_point_id, month_label(v.month)): v
        for v in queries.volumes_between(session, month_first, month_last)
    }
    start = dt.datetime.combine(month_first, dt.time(), tzinfo=VIETNAM_TIME)
    end = dt.datetime.combine(_next_month(month_last), dt.time(), tzinfo=VIETNAM_TIME)
    received = queries.monthly_response_counts(session, start, end)
    rates: list[float] = []
    points: list[PointVolumes] = []
    missing_with_responses = 0
    for point in queries.all_service_points(session):
        if agency_ids is not None and point.agency_id not in agency_ids:
            continue
        counts = {m: received.get((point.id, m), 0) for m in months}
        volumes = {
            m: (stored[(point.id, m)].volume if (point.id, m) in stored else None) for m in months
        }
        if (
            not point.active
            and not any(counts.values())
            and all(v is None for v in volumes.values())
        ):
            continue  # a closed point without anything in the period
        for m in months:
            volume = volumes[m]
            if volume and counts[m]:
                rates.append(counts[m] / volume)
        missing = sum(1 for m in months if volumes[m] is None)
        if any(counts[m] and volumes[m] is None for m in months):
            missing_with_responses += 1
        points.append(
            PointVolumes(
                code=point.code,
                name_vi=point.name_vi,
                name_en=point.name_en,
                agency_name_vi=point.agency.name_vi,
                agency_name_en=point.agency.name_en,
                active=point.active,
                volumes=volumes,
                planned=frozenset(
                    m for m in months if (point.id, m) in stored and stored[(point.id, m)].planned
                ),
                responses=sum(counts.values()),
                missing_months=missing,
            )
        )
    rate = min(max(median(rates), 1e-3), 1.0) if rates else DEFAULT_RESPONSE_RATE
    points.sort(key=lambda p: (not p.missing_months, p.agency_name_vi, p.name_vi))
    return VolumeCoverage(months, points, rate, not rates, missing_with_responses)
