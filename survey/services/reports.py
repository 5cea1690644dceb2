"""Reports for officials: indices against targets, comparisons, trends, coverage.

Three steps, as everywhere: a query gives tidy rows (``responses_table``), this module shapes the
DataFrame for a scope and period, and ``analysis`` returns the statistics. Formatting happens
last, in templates, charts and the PDF.

Headline index: the share of respondents satisfied overall (answer 4–5 on the overall item, "tỷ lệ
hài lòng"), under the counter design (design A: every service point × quarter a stratum, its
service volume the population size; weights volume / responses). Element indices and the composite
(SIPAS-style, equal element weights unless the questionnaire says otherwise) break it down.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pandas as pd
from sqlalchemy.orm import Session

from analysis import (
    AnalysisError,
    ComparisonTest,
    Estimate,
    PairwiseDifference,
    TargetTest,
    answer_distribution,
    compare_groups,
    compare_periods,
    comprehensive_satisfaction,
    counter_design,
    element_indices,
    estimate_proportion,
    test_target,
)
from analysis import Target as StatTarget
from analysis.ranks import RankInterval, rank_units, summarize_rank
from analysis.summaries import summarize_change, summarize_estimate, summarize_test
from analysis.targets import known_population
from analysis.weights import prorate_volumes
from survey.formatting import number, percent
from survey.services.caching import SharedCache, key_digest
from survey.services.errors import InvalidInput, NotFound
from survey.services.exports import local_day_start, responses_table
from survey.services.hierarchy import subtree_ids
from survey.services.local_time import VIETNAM_TIME, today_in_vietnam
from survey.services.periods import Period, parse_period, quarter_of, year_before
from survey.storage import fingerprints, queries
from survey.storage.models import CHANNELS, SECTORS, Agency, Questionnaire, Target

Cached = TypeVar("Cached")
OVERALL = "q_overall"
MIN_RESPONSES = 30
MAX_RANKED = 300  # units in one league table (the rank intervals' cost grows with units²)
SECTOR_NAMES = {
    "administrative": ("Dịch vụ hành chính công", "Administrative services"),
    "health": ("Dịch vụ y tế công", "Public health"),
    "education": ("Dịch vụ giáo dục công", "Public education"),
}
LEVELS = ("province", "district", "commune")
CHANNEL_NAMES = {
    "qr": ("Mã QR", "QR code"),
    "kiosk": ("Kiosk", "Kiosk"),
    "paper": ("Phiếu giấy", "Paper forms"),
    "import": ("Nhập từ tệp", "Imported files"),
}
LEVEL_NAMES = {
    "province": ("Cấp tỉnh", "Province level"),
    "district": ("Cấp huyện", "District level"),
    "commune": ("Cấp xã", "Commune level"),
}


@dataclass(frozen=True)
class ReportFilters:
    """Which responses a report counts: one channel (``CHANNELS``), one level of agency
    (``LEVELS``) and one sector, None meaning all. Applied to the rows before any statistic, so
    every tile, table, chart and comparison of a page counts the same responses (the previous
    period's and the year before's too); part of the report's cache key."""

    channel: str | None = None
    level: str | None = None
    sector: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.channel or "", self.level or "", self.sector or "")

    @property
    def active(self) -> bool:
        return any(self.key)

    def args(self) -> dict[str, str]:
        """The filters as URL query arguments (none for "all")."""
        return {
            name: value
            for name, value in zip(("channel", "level", "sector"), self.key, strict=True)
            if value
        }

    def allows(self, agency: Agency) -> bool:
        return (self.level is None or agency.level == self.level) and (
            self.sector is None or agency.sector == self.sector
        )

    def rows(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of a responses table (survey/services/exports.py) that the filters keep."""
        keep = pd.Series(True, index=table.index)
        for column, value in (
            ("channel", self.channel),
            ("agency_level", self.level),
            ("sector", self.sector),
        ):
            if value is not None:
                keep &= table[column] == value
        return table if bool(keep.all()) else table[keep]

    def describe(self, language: str) -> str:
        """ "Kênh: Mã QR · Cấp xã" / "Channel: QR code · Commune level"; "" without filters."""
        vi = language == "vi"
        parts = []
        if self.channel:
            name = CHANNEL_NAMES[self.channel][0 if vi else 1]
            parts.append(f"Kênh: {name}" if vi else f"Channel: {name}")
        if self.level:
            parts.append(LEVEL_NAMES[self.level][0 if vi else 1])
        if self.sector:
            parts.append(_sector_name(self.sector, language))
        return " · ".join(parts)


def filters_from_args(args: Mapping[str, str]) -> ReportFilters:
    """The filters of a report page's query arguments; an unknown value is a clear 400."""

    def choice(name: str, allowed: Sequence[str], vi: str, en: str) -> str | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        if value not in allowed:
            raise InvalidInput(
                f"{vi} không hợp lệ: “{value[:40]}”. Chọn một trong: {', '.join(allowed)}.",
                f"Not a valid {en}: “{value[:40]}”. Choose one of: {', '.join(allowed)}.",
            )
        return value

    return ReportFilters(
        channel=choice("channel", CHANNELS, "Kênh", "channel"),
        level=choice("level", LEVELS, "Cấp", "level"),
        sector=choice("sector", SECTORS, "Lĩnh vực", "sector"),
    )


@dataclass(frozen=True)
class AppliedTarget:
    """The target in force for a sector and period, as stored (shares, not percent)."""

    low: float
    high: float | None
    description: str
    source: str
    scope_name: str


@dataclass(frozen=True)
class IndexLine:
    """One row of an index table: a sector, agency, service point or quarter."""

    key: str
    name_vi: str
    name_en: str
    estimate: Estimate
    target: AppliedTarget | None = None
    verdict: TargetTest | None = None
    sector: str = ""
    level: str = ""
    retired: bool = False
    agency_id: int | None = None

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en

    def summary(self, language: str, min_n: int = MIN_RESPONSES) -> str:
        return summarize_estimate(
            self.estimate, self.verdict, name=self.name(language), language=language, min_n=min_n
        )


@dataclass(frozen=True)
class ElementLine:
    code: str
    name_vi: str
    name_en: str
    estimate: Estimate

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


@dataclass(frozen=True)
class ItemDistribution:
    code: str
    text_vi: str
    text_en: str
    shares: dict[int, float]
    answered: int

    def text(self, language: str) -> str:
        return self.text_vi if language == "vi" else self.text_en


@dataclass(frozen=True)
class PointCoverage:
    agency_vi: str
    agency_en: str
    point_vi: str
    point_en: str
    responses: int
    retired: bool = False  # the agency was dissolved or merged (Agency.valid_to)


@dataclass(frozen=True)
class Comment:
    submitted_at: str
    agency_vi: str
    text: str
    agency_en: str = ""
    retired: bool = False
    moment: dt.datetime | None = None  # submitted_at as a moment (Vietnam time)

    def agency(self, language: str) -> str:
        return self.agency_vi if language == "vi" or not self.agency_en else self.agency_en


@dataclass(frozen=True)
class RankedLine:
    """One unit of a report's league table: its rank with a simultaneous interval for the rank
    (analysis.rank_units: Mogstad, Romano, Shaikh & Wilhelm 2024) and its shrunken estimate."""

    key: str
    name_vi: str
    name_en: str
    ranked: RankInterval
    retired: bool = False

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en

    def summary(self, language: str) -> str:
        return summarize_rank(self.ranked, name=self.name(language), language=language)


@dataclass(frozen=True)
class SectorDetail:
    """Element breakdown and answer distributions for one sector's questionnaire."""

    sector: str
    elements: list[ElementLine]
    composite: Estimate | None
    comprehensive: Estimate | None
    distributions: list[ItemDistribution]


@dataclass(frozen=True)
class SectorTile:
    """One sector at a glance: its index against the target, the change since the previous
    period and how many of the citizens served answered."""

    line: IndexLine  # index, interval, target and verdict
    change: PairwiseDifference | None  # since the previous period; None below the minimum
    previous_responses: int  # respondents of the previous period (why a change is missing)
    response_rate: float | None  # responses ÷ citizens served, where the volume is known
    rate_partial: bool = False  # some service points had no known volume (left out of the rate)


@dataclass(frozen=True)
class QuarterTrend:
    """A quarter of the period beside the same quarter one year earlier."""

    line: IndexLine
    year_ago: IndexLine | None
    change: PairwiseDifference | None  # line − year_ago; None when either is below the minimum


@dataclass(frozen=True)
class Benchmark:
    """An aggregate an agency is compared with: itself, its sector, the province. Aggregates
    only: no other agency's name or figure is part of it."""

    role: str  # agency | sector | province
    name_vi: str
    name_en: str
    estimate: Estimate

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


@dataclass(frozen=True)
class ScopeReport:
    """Everything one dashboard page, PDF or export shows for a scope and period."""

    scope_kind: str  # province | sector | agency
    scope_key: str
    title_vi: str
    title_en: str
    period: Period
    previous: Period
    responses: int
    headline: IndexLine
    sectors: list[IndexLine]
    agencies: list[IndexLine]
    points: list[IndexLine]
    quarters: list[IndexLine]
    details: list[SectorDetail]
    change: PairwiseDifference | None
    comparisons: list[ComparisonTest]
    coverage: list[PointCoverage]
    comments: list[Comment]
    children: list[IndexLine] = field(default_factory=list)
    volume_note: str = ""
    version: tuple[Any, ...] = ()  # the cache key: scope, period, data fingerprint
    agency_codes: frozenset[str] = frozenset()
    min_n: int = MIN_RESPONSES
    previous_responses: int = 0  # respondents of the previous period (valid overall answer)
    current_responses: int = 0  # the same for this period
    ranks: list[RankedLine] = field(default_factory=list)  # the compared units' league table
    filters: ReportFilters = field(default_factory=ReportFilters)
    tiles: list[SectorTile] = field(default_factory=list)  # province and sector pages
    # Agency pages: the headline covers the agency with its sub-units and merged units;
    # ``own`` is the agency's own service points alone (its row in the province's table).
    own: IndexLine | None = None
    subunits: int = 0  # sub-units and merged units with responses in the headline
    benchmarks: list[Benchmark] = field(default_factory=list)  # agency pages
    year_ago: Period | None = None  # the same period a year earlier (not for a year)
    year_ago_change: PairwiseDifference | None = None
    quarter_trend: list[QuarterTrend] = field(default_factory=list)

    def title(self, language: str) -> str:
        return self.title_vi if language == "vi" else self.title_en

    def change_summary(self, language: str) -> str | None:
        """The signed change since the previous period with its interval, e.g. "down 13.7
        percentage points, from 71.2% to 57.5% (95% CI of the change −23.9 to −3.4; p = 0.009)";
        None when no change is reported (see :meth:`no_change_reason`)."""
        if self.change is None:
            return None
        return summarize_change(self.change, language=language)

    def year_ago_summary(self, language: str) -> str | None:
        """The change since the same period a year earlier (quarters, halves and ranges; for a
        year that is :meth:`change_summary`), None when it is not reported."""
        if self.year_ago_change is None:
            return None
        return summarize_change(self.year_ago_change, language=language)

    def no_change_reason(self, language: str) -> str:
        """Why no change is reported: no responses in the previous period, or one of the two
        periods below the minimum sample, or no variance."""
        vi = language == "vi"
        previous = self.previous.label(language)
        if self.previous_responses == 0:
            if vi:
                return f"Không có phiếu trong {previous} để so sánh."
            return f"No responses in {previous} to compare with."
        if min(self.previous_responses, self.current_responses) < self.min_n:
            now = number(self.current_responses, language)
            before = number(self.previous_responses, language)
            if vi:
                return (
                    f"Chưa đủ phiếu để báo cáo mức thay đổi so với {previous} (kỳ này "
                    f"{now} phiếu, {previous} {before} phiếu; "
                    f"cần ít nhất {self.min_n} phiếu mỗi kỳ)."
                )
            return (
                f"Too few responses to report a change since {previous} "
                f"({now} now, {before} in {previous}; at "
                f"least {self.min_n} are needed in each period)."
            )
        if vi:
            return f"Không ước lượng được sai số của mức thay đổi so với {previous}."
        return f"The uncertainty of the change since {previous} cannot be estimated."

    def comparison_summaries(self, language: str) -> list[str]:
        return [
            summarize_test(
                test, what=_sector_name(test.within.get("sector", ""), language), language=language
            )
            for test in self.comparisons
        ]


def _sector_name(sector: str, language: str) -> str:
    names = SECTOR_NAMES.get(sector)
    if names is None:
        return sector
    return names[0] if language == "vi" else names[1]


# --------------------------------------------------------------------------------------------
# Targets


def applicable_target(
    targets: Sequence[Target], sector: str, period: Period, province_id: int | None
) -> AppliedTarget | None:
    """The target in force at the end of the period for a sector.

    Among targets for the sector (or every sector) that started by the period's end, the one that
    covers the period's end wins, else the most recent one ("above 80% by 2020" stays the bar until
    a newer target replaces it); a province's own target beats the national one of the same date.
    """
    candidates = [
        t
        for t in targets
        if t.sector in (sector, None)
        and t.period_start <= period.last
        and (
            (t.scope_agency_id is None and t.scope_name == "Toàn quốc")
            or (province_id is not None and t.scope_agency_id == province_id)
        )
    ]
    if not candidates:
        return None

    def rank(t: Target) -> tuple[bool, dt.date, bool, bool]:
        covers = t.period_start <= period.last <= t.period_end
        return (covers, t.period_end, t.scope_agency_id is not None, t.sector is not None)

    best = max(candidates, key=rank)
    return AppliedTarget(best.low, best.high, best.description, best.source, best.scope_name)


def _verdict(
    estimate: Estimate, target: AppliedTarget | None, population: float | None = None
) -> TargetTest | None:
    """The verdict against the target; ``population`` (citizens served, from the volumes) sizes
    the responses still needed and caps them at the citizens not yet surveyed."""
    if target is None or estimate.status != "ok":
        return None
    return test_target(estimate, StatTarget(target.low, target.high), population=population)


# --------------------------------------------------------------------------------------------
# Data for a scope and period


@dataclass(frozen=True)
class Hierarchy:
    agencies: dict[int, Agency]
    by_code: dict[str, Agency]

    def subtree_codes(self, root: Agency) -> set[str]:
        """The agency, its sub-units at any depth, and the agencies merged into any of them."""
        links = ((a.id, a.parent_id, a.successor_id) for a in self.agencies.values())
        ids = subtree_ids(links, root.id)
        return {root.code} | {self.agencies[i].code for i in ids if i in self.agencies}

    def province(self) -> Agency | None:
        roots = [a for a in self.agencies.values() if a.parent_id is None]
        return roots[0] if len(roots) == 1 else None


def load_hierarchy(session: Session) -> Hierarchy:
    agencies = {agency.id: agency for agency in queries.all_agencies(session)}
    return Hierarchy(agencies, {a.code: a for a in agencies.values()})


def prorate_to_period(table: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Each quarter's volume times the share of its days inside the period
    (:func:`analysis.weights.prorate_volumes`; whole quarters keep their volume)."""
    if table.empty:
        return table
    volume = prorate_volumes(table["volume"], table["period"], period.first, period.last)
    return table.assign(volume=volume)


def analysable(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Responses with a usable volume for design A, and a note on what had to be assumed.

    A stratum without a recorded service volume is given volume = responses ÷ the median
    response rate of the strata that have one (20 responses per 100 citizens if none has), so that
    its respondents weigh like their neighbours' instead of being dropped; the note says so.
    """
    if table.empty:
        return table, ""
    table = table.copy()
    responses = table.groupby("stratum")["response_id"].transform("size")
    missing = table["volume"].isna()
    note = ""
    if missing.any():
        known = (
            table.loc[~missing]
            .groupby("stratum")
            .agg(n=("response_id", "size"), volume=("volume", "first"))
        )
        rate = float((known["n"] / known["volume"]).median()) if len(known) else 0.2
        rate = min(max(rate, 1e-3), 1.0)
        table.loc[missing, "volume"] = (responses[missing] / rate).round()
        points = table.loc[missing, "service_point"].nunique()
        note = (
            f"{points} service point(s) had no recorded service volume; their volume was "
            f"taken as responses ÷ {percent(rate, 'en')}, the median response rate."
        )
    table["volume"] = table["volume"].astype(float).clip(lower=responses)
    return table, note


# --------------------------------------------------------------------------------------------
# The report


def home_report(session: Session, scope: Any, user_id: int) -> tuple[str, str]:
    """(kind, key) of the report a user lands on: the province, their sector or their agency."""
    if scope.everything:
        return "province", "all"
    if scope.sector is not None:
        return "sector", scope.sector
    user = queries.user_by_id(session, user_id)
    agency = (
        queries.agency_by_id(session, user.scope_agency_id)
        if user and user.scope_agency_id
        else None
    )
    if agency is None:
        raise NotFound(
            "Tài khoản chưa được gán phạm vi báo cáo.", "This account has no report scope yet."
        )
    return "agency", agency.code


def default_period(
    session: Session,
    scope_kind: str = "province",
    scope_key: str = "",
    *,
    min_n: int = MIN_RESPONSES,
    visible: frozenset[int] | None = None,
    today: dt.date | None = None,
) -> Period:
    """The period a report opens on: the latest calendar year, up to the current one (Vietnam's
    date), in which the scope has at least ``min_n`` respondents; else the latest year in which
    it has any; else the current year.

    A year still under way counts as soon as it has enough data. No quarter is tried when no
    year has enough: a quarter never holds more respondents than its year.
    """
    today = today or today_in_vietnam()
    hierarchy = load_hierarchy(session)
    codes, _, _ = _scope(hierarchy, scope_kind, scope_key, visible)
    ids = {hierarchy.by_code[code].id for code in codes}
    per_year: dict[int, int] = {}
    for (agency_id, year), count in queries.yearly_response_counts(session).items():
        if agency_id in ids and year <= today.year:
            per_year[year] = per_year.get(year, 0) + count
    enough = [year for year, count in per_year.items() if count >= min_n]
    year = max(enough) if enough else max(per_year) if per_year else today.year
    return parse_period(str(year))


def period_choices(session: Session) -> list[Period]:
    """Years, halves and quarters from the first to the last response, newest first."""
    first, last = queries.first_submission(session), queries.latest_submission(session)
    if first is None or last is None:
        return [parse_period(str(today_in_vietnam().year))]
    out: list[Period] = []
    for year in range(
        last.astimezone(VIETNAM_TIME).year, first.astimezone(VIETNAM_TIME).year - 1, -1
    ):
        out.append(parse_period(str(year)))
        out.extend(parse_period(f"{year}-H{half}") for half in (2, 1))
        out.extend(parse_period(f"{year}-Q{quarter}") for quarter in (4, 3, 2, 1))
    return out


class LruCache(Generic[Cached]):
    """The most recently used results by key, shared by the threads of one process.

    App servers stay stateless: keys include a fingerprint of the responses read from the
    database, so every process computes the same thing and never serves a stale result.
    """

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[Any, ...], Cached] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get_or_build(self, key: tuple[Any, ...], build: Callable[[], Cached]) -> Cached:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


# Reports and their charts, in the store every worker shares (configured when the app starts:
# survey/report_cache.py); keyed by what they depend on, so never stale.
ReportCache = SharedCache
REPORT_CACHE = ReportCache()


def build_report(
    session: Session,
    period: Period,
    scope_kind: str = "province",
    scope_key: str = "",
    *,
    min_n: int = MIN_RESPONSES,
    visible: frozenset[int] | None = None,
    cache: ReportCache | None = REPORT_CACHE,
    filters: ReportFilters | None = None,
) -> ScopeReport:
    """The report of a scope (``province``, ``sector`` + sector code, ``agency`` + agency code).

    ``visible`` is the set of agency ids the reader may see (``access.visible_agency_ids``), or
    None for everything. Every table, comment, chart and export of the report is built from the
    agencies of the scope that are also visible: a sector administrator who opens the province's
    own agency gets that agency's subtree restricted to their sector, never the other sectors.
    A report named by an agency the reader may not see at all is not found. ``filters`` keep
    one channel, level or sector (:class:`ReportFilters`).
    """
    filters = filters or ReportFilters()
    version = report_version(session, period, scope_kind, scope_key, min_n, visible, filters)

    def build() -> ScopeReport:
        return _build(session, period, scope_kind, scope_key, min_n, visible, version, filters)

    if cache is None:
        return build()
    return cache.get_or_build(("scope-report", *version), build)


def report_version(
    session: Session,
    period: Period,
    scope_kind: str,
    scope_key: str,
    min_n: int,
    visible: frozenset[int] | None,
    filters: ReportFilters | None = None,
) -> tuple[str]:
    """The key of a report (and of its charts): a digest of the scope, period, minimum sample,
    the reader's visible agencies, the code version and a fingerprint of every table the report
    reads — the responses of this and the previous period (added, excluded, comments blanked),
    the service volumes and dossier counts of their quarters, targets, agencies, service points
    and questionnaires (``survey.storage.fingerprints``), and the page's filters. Any change of
    them gives a new key. Reports of a quarter or half also read the same period a year before."""
    filters = filters or ReportFilters()
    previous = period.previous()
    earliest = min(previous.first, year_before(period).first)
    first_month = quarter_of(earliest).first
    end_month = quarter_of(period.last).last + dt.timedelta(days=1)  # the next quarter's first day
    fingerprint = fingerprints.report_fingerprint(
        session,
        local_day_start(earliest),
        local_day_start(period.last + dt.timedelta(days=1)),
        first_month,
        end_month,
    )
    key = (scope_kind, scope_key, period.key, min_n, visible, filters.key, fingerprint)
    return (key_digest(key),)


def _scope(
    hierarchy: Hierarchy, scope_kind: str, scope_key: str, visible_ids: frozenset[int] | None
) -> tuple[set[str], str, str]:
    """Agency codes in the scope that the reader may see, and the scope's title."""
    visible = {
        code for code, a in hierarchy.by_code.items() if visible_ids is None or a.id in visible_ids
    }
    if scope_kind == "province":
        province = hierarchy.province()
        title = province.name_vi if province else "Toàn tỉnh"
        return visible, title, province.name_en if province else "Whole province"
    if scope_kind == "sector":
        if scope_key not in SECTORS:
            raise NotFound()
        codes = {c for c in visible if hierarchy.by_code[c].sector == scope_key}
        vi, en = SECTOR_NAMES[scope_key]
        return codes, vi, en
    if scope_kind == "agency":
        agency = hierarchy.by_code.get(scope_key)
        if agency is None or scope_key not in visible:
            raise NotFound()
        return hierarchy.subtree_codes(agency) & visible, agency.name_vi, agency.name_en
    raise NotFound()


def _no_responses() -> Estimate:
    return Estimate(
        {},
        f"share_satisfied:{OVERALL}",
        0,
        0.0,
        None,
        None,
        None,
        None,
        None,
        None,
        "insufficient_data",
        "no responses",
    )


def _quarter_names(label: str) -> tuple[str, str]:
    """A quarter of the responses table (``2025Q3``) as readers write it ("Quý 3/2025")."""
    period = parse_period(label.replace("Q", "-Q"))
    return period.label("vi"), period.label("en")


def _answered(table: pd.DataFrame) -> int:
    return int(table[OVERALL].notna().sum()) if not table.empty else 0


def _build(
    session: Session,
    period: Period,
    scope_kind: str,
    scope_key: str,
    min_n: int,
    visible: frozenset[int] | None,
    version: tuple[Any, ...],
    filters: ReportFilters,
) -> ScopeReport:
    hierarchy = load_hierarchy(session)
    codes, title_vi, title_en = _scope(hierarchy, scope_kind, scope_key, visible)
    codes = {code for code in codes if filters.allows(hierarchy.by_code[code])}
    previous = period.previous()
    # Every agency's rows (with the filters): the scope's are picked out below; an agency page
    # compares its scope with the sector's and the province's aggregates.
    table = filters.rows(responses_table(session, previous.first, period.last))
    in_scope = table["agency"].isin(codes)
    current_mask = table["submitted_at"].str[:10] >= period.first.isoformat()
    raw_current = prorate_to_period(table[in_scope & current_mask], period)
    current, volume_note = analysable(raw_current)
    earlier, _ = analysable(prorate_to_period(table[in_scope & ~current_mask], previous))
    province = hierarchy.province()
    targets = queries.all_targets(session)

    def target_for(sector: str) -> AppliedTarget | None:
        return applicable_target(targets, sector, period, province.id if province else None)

    # The sectors the headline covers: those with responses (with the filters), else the scope's.
    scope_sectors = sorted(
        set(current["sector"])
        if not current.empty
        else {hierarchy.by_code[c].sector for c in codes}
    )
    headline_target = target_for(scope_sectors[0]) if len(scope_sectors) == 1 else None
    if current.empty:
        headline = IndexLine(
            scope_key or "all", title_vi, title_en, _no_responses(), headline_target
        )
        return ScopeReport(
            scope_kind,
            scope_key,
            title_vi,
            title_en,
            period,
            previous,
            0,
            headline,
            [],
            [],
            [],
            [],
            [],
            None,
            [],
            _coverage(session, hierarchy, codes, current, period, min_n),
            [],
            version=version,
            agency_codes=frozenset(codes),
            min_n=min_n,
            previous_responses=_answered(earlier),
            filters=filters,
        )

    design = counter_design(current, strata="stratum", volume="volume")
    answered = current[OVERALL].notna().to_numpy()

    def served(column: str | None = None, value: Any = None) -> float | None:
        """Citizens served in a group of the period (the population of its verdict)."""
        rows = answered if column is None else answered & (current[column] == value).to_numpy()
        return known_population(design, rows)

    whole, *_ = estimate_proportion(current, OVERALL, design, None, min_n=min_n)
    headline = IndexLine(
        scope_key or "all",
        title_vi,
        title_en,
        whole,
        headline_target,
        _verdict(whole, headline_target, served()),
    )

    sectors = [
        IndexLine(
            e.group["sector"],
            *SECTOR_NAMES[e.group["sector"]],
            estimate=e,
            target=target_for(e.group["sector"]),
            verdict=_verdict(e, target_for(e.group["sector"]), served("sector", e.group["sector"])),
            sector=e.group["sector"],
        )
        for e in estimate_proportion(
            current, OVERALL, design, "sector", min_n=min_n, include_total=False
        )
    ]
    agencies = []
    for e in estimate_proportion(
        current, OVERALL, design, "agency", min_n=min_n, include_total=False
    ):
        agency = hierarchy.by_code[e.group["agency"]]
        target = target_for(agency.sector)
        agencies.append(
            IndexLine(
                agency.code,
                agency.name_vi,
                agency.name_en,
                e,
                target,
                _verdict(e, target, served("agency", agency.code)),
                agency.sector,
                agency.level,
                agency.valid_to is not None,
                agency.id,
            )
        )
    level_order = {"province": 0, "district": 1, "commune": 2}
    agencies.sort(
        key=lambda line: (line.sector, level_order.get(line.level, 3), line.retired, line.name_vi)
    )
    points = []
    if scope_kind == "agency":
        names = {p.public_code: p for p in queries.all_service_points(session)}
        own_points = {code for code, p in names.items() if p.agency.code == scope_key}
        for e in estimate_proportion(
            current, OVERALL, design, "service_point", min_n=min_n, include_total=False
        ):
            point = names[e.group["service_point"]]
            target = target_for(point.agency.sector)
            points.append(
                IndexLine(
                    point.public_code,
                    f"{point.agency.name_vi} — {point.name_vi}",
                    f"{point.agency.name_en} — {point.name_en}",
                    e,
                    target,
                    _verdict(e, target, served("service_point", point.public_code)),
                    sector=point.agency.sector,
                    level=point.agency.level,
                    retired=point.agency.valid_to is not None,
                    agency_id=point.agency_id,
                )
            )
        # The agency's own points first, then its sub-units', by name.
        points.sort(key=lambda line: (line.key not in own_points, line.retired, line.name_vi))
    quarters = [
        IndexLine(
            e.group["period"],
            *_quarter_names(e.group["period"]),
            estimate=e,
            target=headline_target,
            verdict=_verdict(e, headline_target, served("period", e.group["period"])),
        )
        for e in estimate_proportion(
            current, OVERALL, design, "period", min_n=min_n, include_total=False
        )
    ]
    children: list[IndexLine] = []
    own: IndexLine | None = None
    subunits = 0
    benchmarks: list[Benchmark] = []
    if scope_kind == "agency":
        root = hierarchy.by_code[scope_key]
        child_ids = {
            a.id
            for a in hierarchy.agencies.values()
            if a.parent_id == root.id or a.successor_id == root.id
        }
        children = [line for line in agencies if line.agency_id in child_ids]
        own = next((line for line in agencies if line.key == scope_key), None)
        subunits = int(current["agency"].nunique()) - (1 if own is not None else 0)
        benchmarks = _benchmarks(
            table[current_mask], hierarchy, root, headline.estimate, period, min_n
        )

    # The same period a year earlier: for a year that is the previous period already.
    year_ago = year_before(period)
    if period.kind == "year":
        year_rows = earlier
    else:
        before = filters.rows(responses_table(session, year_ago.first, year_ago.last))
        year_rows, _ = analysable(prorate_to_period(before[before["agency"].isin(codes)], year_ago))
    tiles = []
    if scope_kind != "agency":
        tiles = [
            SectorTile(
                line,
                period_change(
                    _sector_rows(current, line.key), _sector_rows(earlier, line.key), min_n
                ),
                _answered(_sector_rows(earlier, line.key)),
                *_response_rate(raw_current[raw_current["sector"] == line.key]),
            )
            for line in sectors
        ]

    details = [
        _sector_detail(session, current, sector, min_n)
        for sector in sorted(current["sector"].unique())
    ]
    change = period_change(current, earlier, min_n)
    comparisons: list[ComparisonTest] = []
    if current["agency"].nunique() > 1:
        try:
            comparisons = compare_groups(current, design, "agency", "sector", min_n=min_n)
        except AnalysisError:
            comparisons = []
    if scope_kind == "agency":
        ranks = _league_table(current, design, points, "service_point", min_n)
    else:
        ranks = _league_table(current, design, agencies, "agency", min_n)
    comments = []
    for row in (
        current[current["comment"].notna()]
        .sort_values("submitted_at", ascending=False)
        .head(20)
        .itertuples()
    ):
        agency = hierarchy.by_code[row.agency]
        comments.append(
            Comment(
                row.submitted_at[:16].replace("T", " "),
                row.agency_name,
                row.comment,
                agency_en=agency.name_en,
                retired=agency.valid_to is not None,
                moment=dt.datetime.strptime(row.submitted_at, "%Y-%m-%dT%H:%M:%S%z"),
            )
        )
    return ScopeReport(
        scope_kind,
        scope_key,
        title_vi,
        title_en,
        period,
        previous,
        len(current),
        headline,
        sectors,
        agencies,
        points,
        quarters,
        details,
        change,
        comparisons,
        _coverage(session, hierarchy, codes, current, period, min_n),
        comments,
        children,
        volume_note,
        version,
        frozenset(codes),
        min_n,
        _answered(earlier),
        _answered(current),
        ranks,
        filters=filters,
        tiles=tiles,
        own=own,
        subunits=subunits,
        benchmarks=benchmarks,
        year_ago=None if period.kind == "year" else year_ago,
        year_ago_change=None if period.kind == "year" else period_change(current, year_rows, min_n),
        quarter_trend=_quarter_trend(current, year_rows, quarters, min_n),
    )


def _sector_rows(table: pd.DataFrame, sector: str) -> pd.DataFrame:
    if table.empty:
        return table
    return table[table["sector"] == sector].reset_index(drop=True)


def _response_rate(rows: pd.DataFrame) -> tuple[float | None, bool]:
    """Responses ÷ citizens served over the strata (point × quarter) whose volume is known
    (entered, or counted from dossiers), prorated to the period; and whether some strata had
    none (they are left out of the rate rather than guessed). (None, False) when none is known."""
    if rows.empty:
        return None, False
    strata = rows.groupby("stratum").agg(n=("response_id", "size"), volume=("volume", "first"))
    known = strata[strata["volume"].notna() & (strata["volume"] > 0)]
    if known.empty:
        return None, False
    rate = float(known["n"].sum()) / float(known["volume"].astype(float).sum())
    return min(rate, 1.0), len(known) < len(strata)


def _benchmarks(
    rows: pd.DataFrame,
    hierarchy: Hierarchy,
    agency: Agency,
    headline: Estimate,
    period: Period,
    min_n: int,
) -> list[Benchmark]:
    """An agency's headline beside the aggregate of its sector and of the province, from every
    agency's rows of the period whoever reads (aggregates only: no other agency's figure)."""
    province = hierarchy.province()
    out = [Benchmark("agency", agency.name_vi, agency.name_en, headline)]
    for role, subset, (name_vi, name_en) in (
        ("sector", rows[rows["sector"] == agency.sector], SECTOR_NAMES[agency.sector]),
        (
            "province",
            rows,
            (province.name_vi, province.name_en) if province else ("Toàn tỉnh", "Whole province"),
        ),
    ):
        table, _ = analysable(prorate_to_period(subset, period))
        estimate = _no_responses()
        if not table.empty:
            design = counter_design(table, strata="stratum", volume="volume")
            estimate, *_ = estimate_proportion(table, OVERALL, design, None, min_n=min_n)
        out.append(Benchmark(role, name_vi, name_en, estimate))
    return out


def _quarter_trend(
    current: pd.DataFrame, year_rows: pd.DataFrame, quarters: list[IndexLine], min_n: int
) -> list[QuarterTrend]:
    """Each quarter of the period beside the same quarter a year earlier, with the change when
    both have ``min_n`` respondents (independent samples, as :func:`period_change`)."""
    earlier: dict[str, Estimate] = {}
    if not year_rows.empty:
        design = counter_design(year_rows, strata="stratum", volume="volume")
        earlier = {
            str(e.group["period"]): e
            for e in estimate_proportion(
                year_rows, OVERALL, design, "period", min_n=min_n, include_total=False
            )
        }
    out = []
    for line in quarters:
        label = f"{int(line.key[:4]) - 1}{line.key[4:]}"
        estimate = earlier.get(label)
        change = None
        if estimate is not None:
            change = period_change(
                current[current["period"] == line.key].reset_index(drop=True),
                year_rows[year_rows["period"] == label].reset_index(drop=True),
                min_n,
            )
        year_ago = None if estimate is None else IndexLine(label, *_quarter_names(label), estimate)
        out.append(QuarterTrend(line, year_ago, change))
    return out


def _league_table(
    current: pd.DataFrame, design: Any, compared: list[IndexLine], column: str, min_n: int
) -> list[RankedLine]:
    """Ranks with their simultaneous 95% intervals for the units the page compares (agencies, or
    an agency's service points), when at least three have ``min_n`` responses; none beyond
    ``MAX_RANKED`` units (the comparison then stays with each unit's own interval)."""
    eligible = [line for line in compared if line.estimate.n >= min_n]
    if not 3 <= len(eligible) <= MAX_RANKED:
        return []
    names = {line.key: line for line in compared}
    try:
        table = rank_units(current, design, column, min_n=min_n)
    except AnalysisError:
        return []
    out = []
    for item in table:
        line = names.get(str(item.group[column]))
        if line is not None and item.rank is not None:
            out.append(RankedLine(line.key, line.name_vi, line.name_en, item, line.retired))
    return out


def period_change(
    current: pd.DataFrame, earlier: pd.DataFrame, min_n: int = MIN_RESPONSES
) -> PairwiseDifference | None:
    """Current minus previous period, None when either has fewer than ``min_n`` respondents.

    The two periods are independent samples: each part of a quarter inside a period is its own
    stratum (a quarter cut by a custom range has one prorated volume in each period).
    """
    if current.empty or earlier.empty:
        return None
    both = pd.concat(
        [current.assign(report_period="current"), earlier.assign(report_period="previous")],
        ignore_index=True,
    )
    both["stratum"] = both["stratum"] + "|" + both["report_period"]
    design = counter_design(both, strata="stratum", volume="volume")
    try:
        return compare_periods(
            both, design, "report_period", first="current", second="previous", min_n=min_n
        )
    except AnalysisError:
        return None


def _sector_detail(session: Session, table: pd.DataFrame, sector: str, min_n: int) -> SectorDetail:
    questionnaire: Questionnaire | None = queries.active_questionnaire(session, sector)
    rows = table[table["sector"] == sector]
    if questionnaire is None or rows.empty:
        return SectorDetail(sector, [], None, None, [])
    design = counter_design(rows, strata="stratum", volume="volume")
    elements = {el.code: [f"q_{item.code}" for item in el.items] for el in questionnaire.elements}
    weights = {el.code: el.weight for el in questionnaire.elements}
    results = element_indices(rows, elements, design, None, element_weights=weights, min_n=min_n)
    by_measure = {e.measure: e for e in results}
    element_lines = [
        ElementLine(el.code, el.name_vi, el.name_en, by_measure[f"element:{el.code}"])
        for el in questionnaire.elements
    ]
    items = [f"q_{item.code}" for item in questionnaire.items if not item.is_overall]
    comprehensive = None
    if sector == "health":
        comprehensive, *_ = comprehensive_satisfaction(rows, items, design, None, min_n=min_n)
    distributions = [
        ItemDistribution(
            item.code,
            item.text_vi,
            item.text_en,
            answer_distribution(rows, f"q_{item.code}", design),
            int(rows[f"q_{item.code}"].notna().sum()),
        )
        for item in questionnaire.items
    ]
    return SectorDetail(
        sector, element_lines, by_measure.get("composite"), comprehensive, distributions
    )


def _coverage(
    session: Session,
    hierarchy: Hierarchy,
    codes: set[str],
    table: pd.DataFrame,
    period: Period,
    min_n: int,
) -> list[PointCoverage]:
    """Service points open during the period with fewer responses than the minimum."""
    counts = table.groupby("service_point").size() if not table.empty else pd.Series(dtype=int)
    out = []
    for point in queries.all_service_points(session):
        agency = point.agency
        if agency.code not in codes or not point.active:
            continue
        if agency.valid_from > period.last or (agency.valid_to and agency.valid_to <= period.first):
            continue
        responses = int(counts.get(point.public_code, 0))
        if responses < min_n:
            out.append(
                PointCoverage(
                    agency.name_vi,
                    agency.name_en,
                    point.name_vi,
                    point.name_en,
                    responses,
                    agency.valid_to is not None,
                )
            )
    return sorted(out, key=lambda c: (c.responses, c.agency_vi))
