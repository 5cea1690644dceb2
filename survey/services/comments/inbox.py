"""The officials' comments inbox: the latest comments of their scope, filtered, marked as read,
counted by topic with the trend by quarter, and exported.

Scope: every query is limited to ``access.visible_agency_ids`` of the reader; an agency filter
outside it is refused, and marking or exporting touches only comments inside it.

Read marks are kept **per scope**, not per person: the officials who share a scope (the
province's administrators; a sector's; an agency subtree's manager and viewers) share one inbox,
so "unread" means "nobody of this team has read it yet", and each level of the hierarchy keeps
its own marks (the province reading a commune's comment leaves it unread for the commune). Who
marked it and when is shown and written in the audit log.

Counts by topic are counts of comments, not survey estimates: citizens who comment are not a
random sample, so a share of comments about waiting says what commenters raise, not how many
citizens waited.

Complaint cases (the dossier issue): ``comment_state.complaint_case_id`` holds the link and
``InboxComment.complaint_case_id`` carries it to templates/admin/comments.html, where the "link
to a case" action is to be added (marked there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import pandas as pd
from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.access import OutOfScope, Scope, visible_agency_ids
from survey.services.comments.tagging import current_tagger, tag_comments
from survey.services.comments.topics import BY_CODE, TOPIC_CODES, TOPICS
from survey.services.errors import InvalidInput
from survey.services.exports import local_day_start
from survey.services.hierarchy import agency_subtree
from survey.services.local_time import VIETNAM_TIME, today_in_vietnam
from survey.services.periods import (
    Period,
    ensure_supported,
    parse_period,
    quarter_keys,
    quarter_of,
    quarters_apart,
)
from survey.services.report_exports import ExportFile, export_file
from survey.storage import queries
from survey.storage.models import CHANNELS, SECTORS, utc_now

PAGE_SIZE = 50
TAG_BUDGET = 200  # comments tagged per page view beyond the page itself (the rest: cron)
EXPORT_TAG_BUDGET = 1000
EXPORT_MAX_ROWS = 50_000
MARK_MAX = 500
READ_STATES = ("read", "unread")
TREND_QUARTERS = (4, 8)  # at least, at most


class ScopedUser(Protocol):
    id: int
    username: str
    role: str
    sector: str | None
    scope_agency_id: int | None


def scope_key(scope: Scope, user: ScopedUser) -> str:
    """Whose read marks: ``province``, ``sector:<code>`` or ``agency:<id>`` (the subtree root)."""
    if scope.everything:
        return "province"
    if scope.sector is not None:
        return f"sector:{scope.sector}"
    return f"agency:{user.scope_agency_id}"


@dataclass(frozen=True)
class InboxFilters:
    period: Period | None = None
    agency_id: int | None = None
    sector: str | None = None
    topic: str | None = None
    channel: str | None = None
    read: str | None = None
    page: int = 1

    def query_args(self, **changes: Any) -> dict[str, str]:
        """The filters as URL arguments (for links to other pages and to the export)."""
        values = {
            "period": self.period.key if self.period else None,
            "agency": self.agency_id,
            "sector": self.sector,
            "topic": self.topic,
            "channel": self.channel,
            "read": self.read,
            "page": self.page if self.page > 1 else None,
        } | changes
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def parse_filters(args: Mapping[str, str]) -> InboxFilters:
    """The inbox's URL arguments, checked; a bad value is a 400 with a message."""

    def choice(name: str, allowed: Iterable[str]) -> str | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        if value not in allowed:
            raise InvalidInput(
                f"Giá trị không hợp lệ cho bộ lọc “{name}”.", f"Not a valid value for “{name}”."
            )
        return value

    period = None
    if (args.get("period") or "").strip():
        period = ensure_supported(parse_period(args["period"]))
    agency = (args.get("agency") or "").strip()
    if agency and not agency.isdigit():
        raise InvalidInput("Cơ quan không hợp lệ.", "Not a valid agency.")
    page = (args.get("page") or "1").strip()
    return InboxFilters(
        period=period,
        agency_id=int(agency) if agency else None,
        sector=choice("sector", SECTORS),
        topic=choice("topic", TOPIC_CODES),
        channel=choice("channel", CHANNELS),
        read=choice("read", READ_STATES),
        page=min(int(page), 100_000) if page.isdigit() and int(page) > 0 else 1,
    )


@dataclass(frozen=True)
class InboxComment:
    response_id: int
    submitted_at: dt.datetime
    text: str
    channel: str
    agency_id: int
    agency_code: str
    agency_vi: str
    agency_en: str
    sector: str
    point_vi: str
    point_en: str
    topics: tuple[str, ...]
    tagged: bool
    read_at: dt.datetime | None
    read_by: str | None
    complaint_case_id: int | None  # the dossier issue's complaint case, once linked

    def agency(self, language: str) -> str:
        return self.agency_vi if language == "vi" else self.agency_en

    def point(self, language: str) -> str:
        return self.point_vi if language == "vi" else self.point_en


@dataclass(frozen=True)
class TopicCount:
    code: str
    name_vi: str
    name_en: str
    count: int
    share: float | None  # of the tagged comments of the period
    trend: tuple[int, ...]  # per quarter of the trend
    trend_shares: tuple[float | None, ...]

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


@dataclass(frozen=True)
class Inbox:
    comments: list[InboxComment]
    filters: InboxFilters
    page: int
    pages: int
    total: int
    unread: int
    untagged: int  # comments passing the filters not yet tagged by the current lexicon
    tagged_in_period: int
    topics: list[TopicCount]
    quarters: list[Period]  # of the trend, oldest first
    quarter_comments: list[int]
    agencies: list[tuple[int, str, str]]  # (id, name_vi, name_en) for the agency filter
    scope_key: str
    lexicon_version: str
    sectors: list[str] = field(default_factory=list)


def _agency_ids(session: Session, scope: Scope, filters: InboxFilters) -> frozenset[int] | None:
    """Visible agencies, narrowed to the filter agency's subtree; refused outside the scope."""
    visible = visible_agency_ids(session, scope)
    if filters.agency_id is None:
        return visible
    agency = queries.agency_by_id(session, filters.agency_id)
    if agency is None or (visible is not None and agency.id not in visible):
        raise OutOfScope()
    subtree = agency_subtree(session, agency.id)
    return subtree if visible is None else subtree & visible


def _query_filters(
    session: Session, scope: Scope, key: str, filters: InboxFilters, *, with_state: bool = True
) -> dict[str, Any]:
    period = filters.period
    found: dict[str, Any] = {
        "agency_ids": _agency_ids(session, scope, filters),
        "start": local_day_start(period.first) if period else None,
        "end": local_day_start(period.last + dt.timedelta(days=1)) if period else None,
        "sector": filters.sector,
        "channel": filters.channel,
    }
    if with_state:
        found |= {
            "topic": filters.topic,
            "read": None if filters.read is None else filters.read == "read",
            "scope_key": key,
        }
    return found


def inbox(session: Session, scope: Scope, key: str, filters: InboxFilters) -> Inbox:
    """One page of the inbox, after tagging its untagged comments (and up to ``TAG_BUDGET``
    more within the filters, so that the counts catch up without cron)."""
    tagger = current_tagger(session)
    chosen = _query_filters(session, scope, key, filters)
    total = queries.count_comments(session, **chosen)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    rows = queries.comment_page(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **chosen)
    stale = [row.id for row in rows if row.lexicon_version != tagger.version]
    if stale:
        tag_comments(session, tagger, response_ids=stale)
    broad = _query_filters(session, scope, key, filters, with_state=False)
    tag_comments(session, tagger, limit=TAG_BUDGET, **broad)
    topics = queries.topics_of_comments(session, [row.id for row in rows])
    comments = [
        InboxComment(
            row.id,
            row.submitted_at,
            row.comment,
            row.channel,
            row.agency_id,
            row.agency_code,
            row.agency_vi,
            row.agency_en,
            row.sector,
            row.point_vi,
            row.point_en,
            tuple(sorted(topics[row.id], key=TOPIC_CODES.index)),
            True,
            row.read_at,
            row.read_by,
            row.complaint_case_id,
        )
        for row in rows
    ]
    unread = queries.count_comments(session, **(chosen | {"read": False}))
    counts, quarters, per_quarter, tagged = _topic_counts(session, broad, filters.period)
    visible = visible_agency_ids(session, scope)
    agencies = [
        (a.id, a.name_vi, a.name_en)
        for a in sorted(queries.all_agencies(session), key=lambda a: (a.sector, a.name_vi))
        if visible is None or a.id in visible
    ]
    sectors = [s for s in SECTORS if scope.everything or scope.sector in (None, s)]
    return Inbox(
        comments,
        replace(filters, page=page),
        page,
        pages,
        total,
        unread,
        queries.count_comments_to_tag(session, tagger.version, **broad),
        tagged,
        counts,
        quarters,
        per_quarter,
        agencies,
        key,
        tagger.version,
        sectors,
    )


def _trend_quarters(period: Period | None, latest: dt.datetime | None) -> list[Period]:
    """The quarters of the trend, oldest first: those the period touches (at least four, at
    most eight, ending with its last quarter), or without a period the four quarters ending with
    the latest comment's."""
    if period is not None:
        last_day = period.last
    elif latest is not None:
        last_day = latest.astimezone(VIETNAM_TIME).date()
    else:
        last_day = today_in_vietnam()
    wanted = TREND_QUARTERS[0]
    if period is not None:
        span = quarters_apart(period.first, period.last)
        wanted = min(max(span + 1, TREND_QUARTERS[0]), TREND_QUARTERS[1])
    out = [quarter_of(last_day)]
    while len(out) < wanted:
        out.append(out[-1].previous())
    return list(reversed(out))


def _topic_counts(
    session: Session, chosen: dict[str, Any], period: Period | None
) -> tuple[list[TopicCount], list[Period], list[int], int]:
    """Topic counts of the period (all time without one) and per quarter of the trend."""
    args = {k: v for k, v in chosen.items() if k not in ("start", "end")}
    if period is None:
        start = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
        end = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    else:
        earliest = _trend_quarters(period, None)[0]
        start = local_day_start(min(earliest.first, period.first))
        end = local_day_start(period.last + dt.timedelta(days=1))
    with_topic, tagged = queries.comment_topic_times(session, start=start, end=end, **args)
    latest = max((row.submitted_at for row in tagged), default=None)
    quarters = _trend_quarters(period, latest)
    keys = [q.key for q in quarters]
    in_period = _in_period(period)
    per_quarter = {k: 0 for k in keys}
    tagged_in_period = 0
    tagged_quarters = quarter_keys([row.submitted_at for row in tagged])
    for row, quarter in zip(tagged, tagged_quarters, strict=True):
        moment = row.submitted_at
        if quarter in per_quarter:
            per_quarter[quarter] += 1
        tagged_in_period += in_period(moment)
    by_topic = {code: dict.fromkeys(keys, 0) for code in TOPIC_CODES}
    totals = dict.fromkeys(TOPIC_CODES, 0)
    topic_quarters = quarter_keys([row.submitted_at for row in with_topic])
    for topic_row, quarter in zip(with_topic, topic_quarters, strict=True):
        moment, topic = topic_row.submitted_at, topic_row.topic
        if topic not in by_topic:
            continue
        if quarter in by_topic[topic]:
            by_topic[topic][quarter] += 1
        totals[topic] += in_period(moment)
    counts = [
        TopicCount(
            topic.code,
            topic.name_vi,
            topic.name_en,
            totals[topic.code],
            totals[topic.code] / tagged_in_period if tagged_in_period else None,
            tuple(by_topic[topic.code][k] for k in keys),
            tuple(
                by_topic[topic.code][k] / per_quarter[k] if per_quarter[k] else None for k in keys
            ),
        )
        for topic in TOPICS
    ]
    return counts, quarters, [per_quarter[k] for k in keys], tagged_in_period


def _in_period(period: Period | None) -> Any:
    if period is None:
        return lambda _moment: True
    first, after = local_day_start(period.first), local_day_start(period.last + dt.timedelta(1))
    return lambda moment: first <= moment < after


def mark(
    session: Session,
    actor: ScopedUser,
    scope: Scope,
    key: str,
    response_ids: Iterable[int],
    read: bool = True,
) -> int:
    """Mark comments read (or unread) for the reader's scope; every id must be a comment inside
    it. Written in the audit log; returns how many marks changed."""
    ids = sorted(set(response_ids))
    if not ids:
        return 0
    if len(ids) > MARK_MAX:
        raise InvalidInput(
            f"Mỗi lần đánh dấu tối đa {MARK_MAX} ý kiến.", f"Mark at most {MARK_MAX} at a time."
        )
    within = queries.comment_ids_within(session, ids, visible_agency_ids(session, scope))
    if within != set(ids):
        raise OutOfScope()
    changed = queries.mark_comments(session, ids, key, actor.id, read)
    audit.record(
        session,
        actor,
        "comments.marked_read" if read else "comments.marked_unread",
        f"comments:{key}",
        {"responses": ids[:100], "count": len(ids), "changed": changed},
    )
    session.flush()
    return changed


def export(
    session: Session,
    actor: ScopedUser,
    scope: Scope,
    key: str,
    filters: InboxFilters,
    fmt: str,
    language: str,
) -> ExportFile:
    """Every comment passing the filters (newest first, at most ``EXPORT_MAX_ROWS``) as CSV or
    XLSX, formula-safe, with topics and read marks; written in the audit log."""
    tagger = current_tagger(session)
    chosen = _query_filters(session, scope, key, filters)
    tag_comments(
        session,
        tagger,
        limit=EXPORT_TAG_BUDGET,
        **_query_filters(session, scope, key, filters, with_state=False),
    )
    rows = queries.comment_page(session, limit=EXPORT_MAX_ROWS, offset=0, **chosen)
    topics = queries.topics_of_comments(session, [row.id for row in rows])
    vi = language == "vi"
    table = pd.DataFrame(
        [
            {
                "response_id": row.id,
                "submitted_at": row.submitted_at.astimezone(VIETNAM_TIME).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "sector": row.sector,
                "agency": row.agency_code,
                "agency_name": row.agency_vi if vi else row.agency_en,
                "service_point": row.public_code,
                "point_name": row.point_vi if vi else row.point_en,
                "channel": row.channel,
                "topics": "; ".join(sorted(topics[row.id], key=TOPIC_CODES.index)),
                "topic_names": "; ".join(
                    BY_CODE[t].name(language) for t in sorted(topics[row.id], key=TOPIC_CODES.index)
                ),
                "tagged": row.lexicon_version == tagger.version,
                "read_at": row.read_at.astimezone(VIETNAM_TIME).strftime("%Y-%m-%d %H:%M")
                if row.read_at
                else "",
                "read_by": row.read_by or "",
                "complaint_case_id": row.complaint_case_id,
                "comment": row.comment,
            }
            for row in rows
        ],
        columns=[
            "response_id", "submitted_at", "sector", "agency", "agency_name", "service_point",
            "point_name", "channel", "topics", "topic_names", "tagged", "read_at", "read_by",
            "complaint_case_id", "comment",
        ],
    )  # fmt: skip
    stamp = filters.period.key if filters.period else utc_now().strftime("%Y%m%d")
    name = f"y-kien-{key.replace(':', '-')}-{stamp}"
    exported = export_file(table, name, fmt, sheet="comments")
    audit.record(
        session,
        actor,
        "export.downloaded",
        f"comments:{key}",
        {"file": exported.filename, "filters": filters.query_args(), "rows": len(table)},
    )
    session.flush()
    return exported
