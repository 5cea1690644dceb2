"""Honest counts: flags on doubtful responses, and the administrator's logged decisions.

Flags are computed when a response arrives and again by ``scan_for_anomalies`` over any period
(daily with ``flask scan-anomalies``; after a bulk import). On arrival a kiosk answer gets every
check (``check_response``: a few indexed queries); a QR answer gets the identical-burst check only,
bounded to the point's latest ``ARRIVAL_LOOKBACK × burst_size`` responses in the window
(``check_burst_on_arrival``: one query on the citizen's hot path); the daily scan checks
everything, over the whole window.

``too_fast``
    Two responses from one kiosk whose *device* times (when the citizen pressed Send on the
    tablet, kept while it was offline) are less than ``min_interval_seconds`` apart. The later one
    is flagged. Arrival times are not compared: a queue replayed after an outage arrives in a burst.
``identical_burst``
    At least ``burst_size`` responses at one service point with exactly the same answers (every
    item, "not applicable" included; comments ignored) within ``burst_minutes`` of each other.
    Every response of the burst is flagged: a clerk pressing the same faces again and again.
``implausible_rate``
    More responses at one point in the hour before a response than the point can plausibly serve:
    ``limit = max(rate_floor, ceil(rate_factor × monthly volume / working hours per month))``
    (22 days × 8 hours), with ``rate_floor`` alone when the month's volume is unknown.
``implausible_time``
    A kiosk answer whose device time the tablet cannot have queued: before the kiosk was first
    paired, older than ``max_offline_days`` (``KIOSK_MAX_OFFLINE_DAYS``, 7), or ahead of the
    server's clock by more than a few minutes. Decided on arrival by survey/services/kiosks.py,
    which stores such an answer with its arrival time (``hours``: device time minus arrival).

A flagged response is kept, marked and still counted. Only an administrator's decision, stored
with who, when and why (``ResponseDecision``), excludes it from indices (``Response.excluded``);
a later decision may include it again, and the log keeps both.

Separation of duties: the decision belongs to someone above the agency whose counts it changes —
a province administrator, or the sector administrator of the agency's sector. An agency manager
(whose own desks the flags concern) and viewers see the flags but cannot decide
(``DecisionNotAllowed``, 403); ``record_decision`` enforces it whatever the page shows.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.errors import DomainError, InvalidInput, NotFound
from survey.storage import queries
from survey.storage.models import FLAG_KINDS

WORKING_HOURS_PER_MONTH = 22 * 8
ARRIVAL_LOOKBACK = 3  # on arrival, compare with the point's latest 3 × burst_size responses
REASON_MIN_LENGTH = 5
REASON_MAX_LENGTH = 1000


class DecisionNotAllowed(DomainError):
    message_vi = (
        "Chỉ quản trị viên cấp tỉnh hoặc quản trị viên lĩnh vực của cơ quan này mới được loại một "
        "phiếu bị gắn cờ khỏi chỉ số hay tính lại phiếu đó; quản lý cơ quan chỉ được xem các cờ."
    )
    message_en = (
        "Only a province administrator or the administrator of this agency's sector may exclude "
        "a flagged response from the indices or count it again; agency managers may only see "
        "the flags."
    )


def may_decide(role: str | None, user_sector: str | None, agency_sector: str) -> bool:
    """Whether a user of this role (and sector) may decide on a flagged response of an agency of
    ``agency_sector``: a province administrator, or that sector's administrator."""
    return role == "province_admin" or (role == "sector_admin" and user_sector == agency_sector)


@dataclass(frozen=True)
class IntegritySettings:
    """Thresholds of the flags; ``from_config`` reads them from the app's settings."""

    min_interval_seconds: float = 5.0
    burst_size: int = 5
    burst_minutes: float = 10.0
    rate_floor: int = 30
    rate_factor: float = 3.0
    max_offline_days: float = 7.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> IntegritySettings:
        return cls(
            min_interval_seconds=float(config.get("KIOSK_MIN_INTERVAL_SECONDS", 5)),
            burst_size=int(config.get("INTEGRITY_BURST_SIZE", 5)),
            burst_minutes=float(config.get("INTEGRITY_BURST_MINUTES", 10)),
            rate_floor=int(config.get("INTEGRITY_RATE_FLOOR", 30)),
            rate_factor=float(config.get("INTEGRITY_RATE_FACTOR", 3)),
            max_offline_days=float(
                config.get("KIOSK_MAX_OFFLINE_DAYS")
                or os.environ.get("KIOSK_MAX_OFFLINE_DAYS")
                or 7
            ),
        )

    @property
    def max_offline(self) -> dt.timedelta:
        return dt.timedelta(days=self.max_offline_days)


@dataclass(frozen=True)
class ScanResult:
    checked: int
    flags_added: int


@dataclass(frozen=True)
class FlagView:
    kind: str
    detail: str  # language-neutral numbers, e.g. ``count=7;limit=5``
    created_at: dt.datetime

    @property
    def numbers(self) -> dict[str, str]:
        return detail_numbers(self.detail)


@dataclass(frozen=True)
class DecisionView:
    excluded: bool
    reason: str
    decided_by: str
    decided_at: dt.datetime


@dataclass(frozen=True)
class FlaggedResponse:
    """A flagged response as an administrator reviews it."""

    response_id: int
    submitted_at: dt.datetime
    channel: str
    point_name_vi: str
    point_name_en: str
    agency_name_vi: str
    agency_name_en: str
    kiosk_label: str | None
    answers: tuple[tuple[str, int | None], ...]
    comment: str | None
    excluded: bool
    flags: tuple[FlagView, ...]
    decisions: tuple[DecisionView, ...] = field(default=())
    sector: str = ""  # the agency's sector: who may decide (``may_decide``)

    @property
    def open(self) -> bool:
        """Undecided, or flagged again after the latest decision."""
        if not self.decisions:
            return True
        latest = self.decisions[-1].decided_at
        return any(flag.created_at > latest for flag in self.flags)


def check_response(
    session: Session,
    response_id: int,
    settings: IntegritySettings,
    extra_flags: Sequence[tuple[str, str]] = (),
) -> int:
    """Add the flags that apply to one stored response (and its burst); return how many.

    ``extra_flags`` (kind, detail) are flags of this response decided by the caller on arrival
    (``implausible_time``). Safe to run again: a response carries each kind of flag at most once.
    """
    response = queries.response_by_id(session, response_id)
    if response is None:
        raise NotFound()
    wanted: list[tuple[int, str, str]] = [
        (response_id, kind, detail) for kind, detail in extra_flags
    ]
    wanted += _too_fast(session, response, settings)
    wanted += _identical_burst(session, response, settings)
    wanted += _implausible_rate(session, response, settings)
    return _add_flags(session, wanted)


def burst_window(submitted_at: dt.datetime, settings: IntegritySettings) -> queries.BurstWindow:
    """Where a response arriving now is compared for an identical-answer burst: the point's
    latest ``ARRIVAL_LOOKBACK × burst_size`` responses within ``burst_minutes`` of it."""
    window = dt.timedelta(minutes=settings.burst_minutes)
    return queries.BurstWindow(
        submitted_at - window, submitted_at + window, ARRIVAL_LOOKBACK * settings.burst_size
    )


def check_burst_on_arrival(
    session: Session,
    *,
    response_id: int,
    point_id: int,
    submitted_at: dt.datetime,
    settings: IntegritySettings,
    identical_before: Sequence[int] | None = None,
) -> int:
    """Flag an identical-answer burst that a just-stored response completes; return how many flags
    were added. ``identical_before``: the earlier identical responses, when the insert already
    found them (PostgreSQL); else one bounded query. A burst spread among more answers than the
    look-back waits for the daily scan."""
    if identical_before is not None:
        same = sorted({*identical_before, response_id})
    else:
        window = burst_window(submitted_at, settings)
        same = list(queries.identical_latest_responses(session, response_id, point_id, window))
    if len(same) < settings.burst_size:
        return 0
    detail = _detail(
        count=len(same), minutes=f"{settings.burst_minutes:g}", threshold=settings.burst_size
    )
    return _add_flags(session, [(key, "identical_burst", detail) for key in same])


def default_scan_days(settings: IntegritySettings) -> int:
    """The daily scan's period: a week, and at least the kiosk offline window and a day, so that
    an answer that arrives as late as a tablet may send it is checked once more after its peers."""
    return max(7, math.ceil(settings.max_offline_days) + 1)


def scan_for_anomalies(
    session: Session, start: dt.datetime, end: dt.datetime, settings: IntegritySettings
) -> ScanResult:
    """Check every response submitted in [start, end) — any channel — and flag what applies."""
    ids = queries.response_ids_between(session, start, end)
    added = sum(check_response(session, response_id, settings) for response_id in ids)
    return ScanResult(checked=len(ids), flags_added=added)


def implausible_time_detail(device_time: dt.datetime, arrival: dt.datetime) -> str:
    """The ``implausible_time`` flag's numbers: how far the device's time was from the arrival."""
    return _detail(hours=f"{(device_time - arrival) / dt.timedelta(hours=1):.1f}")


def _too_fast(
    session: Session, response: Any, settings: IntegritySettings
) -> list[tuple[int, str, str]]:
    if response.kiosk_id is None or response.device_time is None:
        return []
    gap = dt.timedelta(seconds=settings.min_interval_seconds)
    try:
        start, end = response.device_time - gap, response.device_time + gap
    except OverflowError:  # a device time at the end of the calendar (stored before 0005)
        return []
    found = []
    for row in queries.kiosk_neighbours(session, response.kiosk_id, start, end, response.id):
        other_id, other_time = row.id, row.device_time
        seconds = abs((response.device_time - other_time).total_seconds())
        if seconds >= settings.min_interval_seconds:
            continue
        # The later of the two came too soon (ties: the one being checked).
        later = other_id if other_time > response.device_time else response.id
        detail = _detail(seconds=f"{seconds:.1f}", minimum=f"{settings.min_interval_seconds:g}")
        found.append((later, "too_fast", detail))
    return found


def _identical_burst(
    session: Session, response: Any, settings: IntegritySettings
) -> list[tuple[int, str, str]]:
    window = dt.timedelta(minutes=settings.burst_minutes)
    rows = queries.point_answer_rows(
        session,
        response.service_point_id,
        response.submitted_at - window,
        response.submitted_at + window,
    )
    patterns: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for row in rows:
        patterns[row.response_id].append((row.item_id, row.value))
    signature = {
        key: tuple(sorted(values, key=lambda pair: pair[0])) for key, values in patterns.items()
    }
    own = signature.get(response.id)
    if own is None:
        return []
    same = sorted(key for key, value in signature.items() if value == own)
    if len(same) < settings.burst_size:
        return []
    detail = _detail(
        count=len(same), minutes=f"{settings.burst_minutes:g}", threshold=settings.burst_size
    )
    return [(key, "identical_burst", detail) for key in same]


def _implausible_rate(
    session: Session, response: Any, settings: IntegritySettings
) -> list[tuple[int, str, str]]:
    moment = response.submitted_at
    count = queries.count_point_responses(
        session, response.service_point_id, moment - dt.timedelta(hours=1), moment
    )
    month = dt.date(moment.year, moment.month, 1)
    volume = queries.point_month_volume(session, response.service_point_id, month)
    limit = settings.rate_floor
    if volume:
        limit = max(limit, math.ceil(settings.rate_factor * volume / WORKING_HOURS_PER_MONTH))
    if count <= limit:
        return []
    return [(response.id, "implausible_rate", _detail(count=count, limit=limit))]


def _detail(**numbers: object) -> str:
    """A flag's numbers, stored language-neutral (``count=7;limit=5``) and worded when shown."""
    return ";".join(f"{name}={value}" for name, value in numbers.items())


def detail_numbers(detail: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in detail.split(";") if "=" in part)


def _add_flags(session: Session, wanted: list[tuple[int, str, str]]) -> int:
    """Add the flags a response does not carry yet (a response carries each kind at most once),
    in the caller's transaction; return how many were added. A flag added meanwhile by another
    request is skipped."""
    if not wanted:
        return 0
    existing = queries.flag_kinds_of(session, {response_id for response_id, _k, _d in wanted})
    added = 0
    for response_id, kind, detail in wanted:
        if (response_id, kind) not in existing:
            added += queries.add_flag(session, response_id, kind, detail)
            existing.add((response_id, kind))
    return added


def record_decision(
    session: Session, *, response_id: int, exclude: bool, reason: str, user_id: int
) -> None:
    """Log an administrator's decision on a flagged response and apply it to the indices.

    Only a province administrator or the sector administrator of the response's agency may
    decide (``DecisionNotAllowed`` otherwise, before anything else is said about the response).
    """
    user = queries.user_by_id(session, user_id)
    response = queries.response_by_id(session, response_id)
    if response is None:
        raise NotFound()
    if user is None or not user.active:
        raise DecisionNotAllowed()
    if not may_decide(user.role, user.sector, response.service_point.agency.sector):
        raise DecisionNotAllowed()
    reason = (reason or "").strip()
    if not REASON_MIN_LENGTH <= len(reason) <= REASON_MAX_LENGTH:
        raise InvalidInput(
            f"Vui lòng ghi lý do ({REASON_MIN_LENGTH}–{REASON_MAX_LENGTH} ký tự).",
            f"Please give a reason ({REASON_MIN_LENGTH}–{REASON_MAX_LENGTH} characters).",
        )
    if not queries.flag_kinds_of(session, [response_id]):
        raise NotFound("Phiếu này không bị gắn cờ.", "This response is not flagged.")
    queries.add_decision(
        session, response_id=response_id, excluded=exclude, reason=reason, user_id=user_id
    )
    audit.record_by_user_id(
        session,
        user_id,
        "response.excluded" if exclude else "response.included",
        f"response:{response_id}",
        {"reason": reason},
    )
    session.flush()


def flagged_responses(
    session: Session,
    status: str = "open",
    limit: int = 200,
    agency_ids: frozenset[int] | None = None,
) -> list[FlaggedResponse]:
    """Flagged responses, newest flag first; ``status`` is ``open``, ``decided`` or ``all``;
    ``agency_ids`` (None: every agency) limits them to an official's scope."""
    ids = queries.flagged_response_ids(session, limit, agency_ids)
    if not ids:
        return []
    responses = {response.id: response for response in queries.responses_with_details(session, ids)}
    flags: dict[int, list[FlagView]] = defaultdict(list)
    for flag in queries.flags_of(session, ids):
        flags[flag.response_id].append(FlagView(flag.kind, flag.detail, flag.created_at))
    decisions: dict[int, list[DecisionView]] = defaultdict(list)
    for decision in queries.decisions_of(session, ids):
        decisions[decision.response_id].append(
            DecisionView(
                decision.excluded,
                decision.reason,
                decision.decided_by.username,
                decision.decided_at,
            )
        )
    kiosks = queries.kiosk_labels(
        session, {r.kiosk_id for r in responses.values() if r.kiosk_id is not None}
    )
    result = []
    for response_id in ids:
        response = responses[response_id]
        answers = tuple(
            (answer.item.code, answer.value)
            for answer in sorted(response.answers, key=lambda answer: answer.item.position)
        )
        flagged = FlaggedResponse(
            response_id=response.id,
            submitted_at=response.submitted_at,
            channel=response.channel,
            point_name_vi=response.service_point.name_vi,
            point_name_en=response.service_point.name_en,
            agency_name_vi=response.service_point.agency.name_vi,
            agency_name_en=response.service_point.agency.name_en,
            kiosk_label=kiosks.get(response.kiosk_id) if response.kiosk_id else None,
            answers=answers,
            comment=response.comment,
            excluded=response.excluded,
            flags=tuple(flags[response_id]),
            decisions=tuple(decisions[response_id]),
            sector=response.service_point.agency.sector,
        )
        if status == "all" or (status == "open") == flagged.open:
            result.append(flagged)
    return result


__all__ = [
    "FLAG_KINDS",
    "DecisionNotAllowed",
    "FlaggedResponse",
    "IntegritySettings",
    "ScanResult",
    "burst_window",
    "check_burst_on_arrival",
    "check_response",
    "default_scan_days",
    "flagged_responses",
    "implausible_time_detail",
    "may_decide",
    "record_decision",
    "scan_for_anomalies",
]
