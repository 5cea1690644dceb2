"""The dossier list of the provincial one-stop system in: all or nothing, idempotent on the code.

Columns (CSV or XLSX, read by ``survey.services.importing.open_table``): ``dossier_code,
service_point_code, procedure, received_at, due_at, returned_at, status, clerk_id``.

* ``dossier_code`` — the national code (``survey.services.dossiers.codes``); its date must be the
  day of ``received_at`` in Vietnam time.
* ``service_point_code`` — a service point's code on this platform (its public code).
* ``received_at``, ``due_at``, ``returned_at`` — ISO 8601 (``2026-01-26T08:30``,
  ``2026-01-26 08:30:00+07:00``, ``…Z``); without an offset the time is Vietnam time (UTC+7). A day
  alone (``2026-02-05``) is the start of that day, except for ``due_at``, where it means the end
  of that day (due "by 5 February"). ``due_at`` may be blank (no deadline), ``returned_at`` until
  the dossier is returned.
* ``status`` — ``received``, ``processing``, ``returned`` or ``cancelled``, or the Vietnamese
  words (``đã tiếp nhận``, ``đang xử lý``, ``đã trả kết quả``, ``đã hủy`` and close variants).
* ``clerk_id`` — the one-stop system's id of the clerk; an unknown one creates a staff record to
  be named later.

Rules: a code already stored is the same dossier — its later export updates its progress
(status, returned_at, due_at, procedure, clerk; each change is in the audit log), while a
different service point or receipt time for it is a conflict and refuses the file. A code twice in
one file must carry the same content. Any problem refuses the whole file (``ImportRefused`` with
row-level problems) and nothing is stored; the same file imported twice changes nothing.

Scale: rows are checked one at a time and written in batches to a temporary table of the
import's connection; the comparison with stored dossiers, the new clerks, the updates and the
inserts are then a few set-based statements in the same transaction. Memory stays bounded (a
batch and the service points' codes) for files of millions of rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.dossiers.codes import InvalidDossierCode, parse_dossier_code
from survey.services.importing import ImportReport, Row, open_table
from survey.services.local_time import VIETNAM_TIME
from survey.storage import queries
from survey.storage.database import all_or_nothing
from survey.storage.models import utc_now

REQUIRED = ("dossier_code", "service_point_code", "procedure", "received_at", "status")
OPTIONAL = ("due_at", "returned_at", "clerk_id")
COLUMNS = (*REQUIRED[:4], "due_at", "returned_at", "status", "clerk_id")
BATCH_ROWS = 5000
CHANGES_PER_AUDIT_EVENT = 500
PROCEDURE_MAX = 300
CLERK_MAX = 64
FUTURE_TOLERANCE = dt.timedelta(days=1)

STATUS_WORDS = {
    "received": "received",
    "tiếp nhận": "received",
    "đã tiếp nhận": "received",
    "mới tiếp nhận": "received",
    "processing": "processing",
    "in progress": "processing",
    "đang xử lý": "processing",
    "đang giải quyết": "processing",
    "returned": "returned",
    "trả kết quả": "returned",
    "đã trả kết quả": "returned",
    "đã trả": "returned",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "hủy": "cancelled",
    "đã hủy": "cancelled",
    "hủy hồ sơ": "cancelled",
    "đã hủy hồ sơ": "cancelled",
}

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-?\d{2}-?\d{2}[T ]")
_SPACES = re.compile(r"\s+")
Progress = Callable[[str, int], None]  # (phase, rows so far): "reading", "checking", "storing"


def normalise_status(text: str) -> str | None:
    """The status in English for any accepted word (case, spaces, NFC/NFD and the old tone-mark
    placement "huỷ" do not matter); None when the word is not known."""
    word = unicodedata.normalize("NFC", text).strip().lower()
    word = _SPACES.sub(" ", word).replace("huỷ", "hủy")
    return STATUS_WORDS.get(word)


def parse_moment(text: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """An ISO 8601 time as an aware UTC datetime (no offset = Vietnam time); None when blank.

    Raises ValueError for anything else. A date alone is the start of that day, or its last second
    with ``end_of_day``.
    """
    text = text.strip()
    if not text:
        return None
    if _DAY.fullmatch(text):
        day = dt.date.fromisoformat(text)
        clock = dt.time(23, 59, 59) if end_of_day else dt.time()
        moment = dt.datetime.combine(day, clock, tzinfo=VIETNAM_TIME)
    else:
        if not _DATE_TIME.match(text):
            raise ValueError(text)
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=VIETNAM_TIME)
    if not 2000 <= moment.year <= 2100:
        raise ValueError(text)
    return moment.astimezone(dt.UTC)


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(VIETNAM_TIME).date()


class _RowChecker:
    """Checks one row and returns the values to stage, or None after noting its problems."""

    def __init__(self, report: ImportReport, points: dict[str, int], now: dt.datetime) -> None:
        self.report = report
        self.points = points
        self.latest = now + FUTURE_TOLERANCE

    def problem(self, row: Row, column: str, vi: str, en: str) -> None:
        self.report.problem(row.number, column, row[column], vi, en)

    def moment(
        self, row: Row, column: str, *, end_of_day: bool = False, future: bool = False
    ) -> tuple[bool, Any]:
        """(parsed, value); ``future`` allows a time after now (a due time)."""
        try:
            value = parse_moment(row[column], end_of_day=end_of_day)
        except ValueError:
            self.problem(
                row,
                column,
                "Không phải thời điểm theo ISO 8601 như 2026-01-26T08:30 (không ghi múi giờ thì "
                "hiểu là giờ Việt Nam).",
                "Not an ISO 8601 time such as 2026-01-26T08:30 (without an offset it is Vietnam "
                "time).",
            )
            return False, None
        if value is not None and not future and value > self.latest:
            self.problem(row, column, "Thời điểm nằm ở tương lai.", "The time is in the future.")
            return False, None
        return True, value

    def check(self, row: Row) -> tuple[Any, ...] | None:
        before = self.report.problem_count
        code = None
        try:
            code = parse_dossier_code(row["dossier_code"])
        except InvalidDossierCode as error:
            self.problem(row, "dossier_code", error.message_vi, error.message_en)
        point_id = self.points.get(row["service_point_code"])
        if point_id is None:
            self.problem(
                row,
                "service_point_code",
                "Không có điểm phục vụ nào mang mã này trong phạm vi của tài khoản (xem mã ở trang "
                "Cơ quan).",
                "No service point within your scope has this code (see the codes on the Agencies "
                "page).",
            )
        procedure = row["procedure"]
        if not procedure:
            self.problem(row, "procedure", "Thiếu tên thủ tục.", "The procedure is missing.")
        elif len(procedure) > PROCEDURE_MAX:
            self.problem(
                row,
                "procedure",
                f"Tên thủ tục dài quá {PROCEDURE_MAX} ký tự.",
                f"The procedure is longer than {PROCEDURE_MAX} characters.",
            )
        ok_received, received = self.moment(row, "received_at")
        if ok_received and received is None:
            self.problem(
                row, "received_at", "Thiếu thời điểm tiếp nhận.", "The receipt time is missing."
            )
        ok_due, due = self.moment(row, "due_at", end_of_day=True, future=True)
        ok_returned, returned = self.moment(row, "returned_at")
        status = normalise_status(row["status"])
        if status is None:
            self.problem(
                row,
                "status",
                "Trạng thái phải là một trong: đã tiếp nhận, đang xử lý, đã trả kết quả, đã hủy "
                "(hoặc received, processing, returned, cancelled).",
                "The status must be one of received, processing, returned, cancelled (or "
                "đã tiếp nhận, đang xử lý, đã trả kết quả, đã hủy).",
            )
        clerk = row["clerk_id"] or None
        if clerk is not None and len(clerk) > CLERK_MAX:
            self.problem(
                row,
                "clerk_id",
                f"Mã cán bộ dài quá {CLERK_MAX} ký tự.",
                f"The clerk id is longer than {CLERK_MAX} characters.",
            )
        if received is not None:
            if code is not None and code.received_on != local_day(received):
                self.problem(
                    row,
                    "received_at",
                    f"Ngày tiếp nhận ({local_day(received):%d/%m/%Y}) khác ngày trong mã hồ sơ "
                    f"({code.received_on:%d/%m/%Y}).",
                    f"The receipt day ({local_day(received).isoformat()}) is not the day in the "
                    f"dossier code ({code.received_on.isoformat()}).",
                )
            if returned is not None and returned < received:
                self.problem(
                    row,
                    "returned_at",
                    "Thời điểm trả kết quả trước thời điểm tiếp nhận.",
                    "The dossier is returned before it was received.",
                )
            if due is not None and due < received:
                self.problem(
                    row,
                    "due_at",
                    "Hạn trả kết quả trước thời điểm tiếp nhận.",
                    "The due time is before the receipt time.",
                )
        if ok_returned and status == "returned" and returned is None:
            self.problem(
                row,
                "returned_at",
                "Hồ sơ đã trả kết quả cần có thời điểm trả (returned_at).",
                "A returned dossier needs the time it was returned (returned_at).",
            )
        if status in ("received", "processing") and returned is not None:
            self.problem(
                row,
                "status",
                "Trạng thái cho biết hồ sơ chưa trả kết quả nhưng có thời điểm trả.",
                "The status says the dossier is not returned, yet it has a return time.",
            )
        if self.report.problem_count > before or not (ok_due and code and point_id and status):
            return None
        if received is None:  # a row without a receipt time has a problem reported above
            raise RuntimeError("a checked dossier row has its receipt time")
        local = received.astimezone(VIETNAM_TIME)
        content = (
            code.code,
            point_id,
            clerk,
            procedure,
            received,
            due,
            returned,
            status,
        )
        # In the order of queries.STAGED_COLUMNS.
        return (
            row.number,
            code.code,
            point_id,
            clerk,
            procedure,
            received,
            dt.date(local.year, local.month, 1),
            due,
            returned,
            status,
            _fingerprint(content),
        )


def _fingerprint(content: tuple[Any, ...]) -> int:
    """A 63-bit digest of a row's content, to tell repeated codes with other content apart. The
    staging table lives for one import in one process, so Python's hash (salted per process)
    serves; two different rows share it with probability about 2⁻⁶³."""
    return hash(content) & (2**63 - 1)


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(VIETNAM_TIME).isoformat(timespec="minutes")
    return value


def import_dossiers(
    session: Session,
    source: str | Path | bytes | IO[bytes],
    *,
    filename: str | None = None,
    max_bytes: int | None = None,
    actor: Any = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    visible_agency_ids: frozenset[int] | None = None,
) -> ImportReport:
    """Import a dossier list, all or nothing: or raise ``ImportRefused`` having stored nothing.

    Returns the report: ``added``/``changed``/``unchanged`` dossiers and ``added["staff"]`` for
    clerks seen for the first time. Audit: ``dossiers.imported`` (the counts) and
    ``dossiers.progress_updated`` (old → new values of each changed dossier, in chunks). With
    ``visible_agency_ids`` (an official's scope) only those agencies' service points are known.
    """
    now = now or utc_now()
    report = ImportReport()
    table = open_table(
        source,
        required=REQUIRED,
        optional=OPTIONAL,
        filename=filename,
        max_bytes=max_bytes,
        report=report,
    )
    tell = progress or (lambda _phase, _rows: None)
    with all_or_nothing(session):
        _stage(session, table, report, now, tell, visible_agency_ids)
        tell("checking", report.rows)
        _check_against_stored(session, report)
        report.refuse_if_problems()
        tell("storing", report.rows)
        _store(session, report, now, actor, filename or _name(source))
        queries.drop_dossier_staging(session)
        session.flush()
    return report


def _name(source: Any) -> str:
    return Path(source).name if isinstance(source, str | Path) else "upload"


def _stage(
    session: Session,
    table: Any,
    report: ImportReport,
    now: dt.datetime,
    tell: Progress,
    visible_agency_ids: frozenset[int] | None,
) -> None:
    points = queries.service_point_ids_by_code(session, visible_agency_ids)
    checker = _RowChecker(report, points, now)
    queries.create_dossier_staging(session)
    batch: list[tuple[Any, ...]] = []
    for row in table:
        report.rows += 1
        values = checker.check(row)
        if values is not None:
            batch.append(values)
        if len(batch) >= BATCH_ROWS:
            queries.stage_dossier_rows(session, batch)
            batch = []
            tell("reading", report.rows)
    queries.stage_dossier_rows(session, batch)
    tell("reading", report.rows)
    if report.rows == 0 and not report.problem_count:
        report.problem(
            None, None, None, "Tệp không có dòng hồ sơ nào.", "The file has no dossier rows."
        )


def _check_against_stored(session: Session, report: ImportReport) -> None:
    queries.index_dossier_staging(session)
    if queries.count_repeated_staged_codes(session):
        _count, rows = queries.staged_repeats_that_differ(session, 1000)
        for row_number, code, first_row in rows:
            report.problem(
                row_number,
                "dossier_code",
                code,
                f"Mã hồ sơ này đã có ở dòng {first_row} với nội dung khác; mỗi hồ sơ chỉ ghi "
                "một lần trong tệp.",
                f"This dossier code is already on row {first_row} with different content; list "
                "each dossier once.",
            )
    _count, conflicts = queries.staged_identity_conflicts(session, 1000)
    for row_number, code, point_code, received_at in conflicts:
        when = received_at.astimezone(VIETNAM_TIME)
        report.problem(
            row_number,
            "dossier_code",
            code,
            f"Hồ sơ này đã được lưu với điểm phục vụ {point_code}, tiếp nhận lúc "
            f"{when:%H:%M %d/%m/%Y}; một hồ sơ không đổi nơi hoặc thời điểm tiếp nhận.",
            f"This dossier is stored with service point {point_code}, received at "
            f"{when:%Y-%m-%d %H:%M} (Vietnam time); a dossier keeps where and when it was "
            "received.",
        )


def _store(session: Session, report: ImportReport, now: dt.datetime, actor: Any, name: str) -> None:
    if queries.count_repeated_staged_codes(session):
        queries.drop_repeated_staged_rows(session)
    staged = queries.count_staged(session)
    clerks = queries.add_unknown_staged_clerks(session, now)
    changes: dict[str, dict[str, list[Any]]] = {}
    fields = ("status", "returned_at", "due_at", "procedure", "clerk_id")
    for change in queries.staged_progress_changes(session):
        code, pairs = change[0], list(change[1:])
        changes[code] = {
            field: [_iso(pairs[2 * i]), _iso(pairs[2 * i + 1])]
            for i, field in enumerate(fields)
            if pairs[2 * i] != pairs[2 * i + 1]
        }
        if len(changes) >= CHANGES_PER_AUDIT_EVENT:
            audit.record(session, actor, "dossiers.progress_updated", f"file:{name}", changes)
            changes = {}
    if changes:
        audit.record(session, actor, "dossiers.progress_updated", f"file:{name}", changes)
    changed = queries.apply_staged_progress(session, now)
    added = queries.insert_new_staged_dossiers(session, now)
    report.count("added", "dossier", added)
    report.count("changed", "dossier", changed)
    report.count("unchanged", "dossier", staged - added - changed)
    if clerks:
        report.count("added", "staff", clerks)
    audit.record(
        session,
        actor,
        "dossiers.imported",
        f"file:{name}",
        {"rows": report.rows, "added": added, "changed": changed, "new_clerks": clerks},
    )
