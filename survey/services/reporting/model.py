"""What a report is: its filters, lines, tiles, details and the whole :class:`ScopeReport`.

Frozen, keyword-only result classes; the sentences they are read with come from
:mod:`survey.services.reporting.present`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis import ComparisonTest, Estimate, PairwiseDifference, TargetTest
from analysis.ranks import RankInterval, summarize_rank
from analysis.reference import ReferenceComparison
from analysis.summaries import summarize_change, summarize_estimate, summarize_test
from survey.services.errors import InvalidInput
from survey.services.periods import Period
from survey.services.reporting.present import (
    against_sector_summary,
    describe_filters,
    no_change_reason,
    sector_name,
)
from survey.storage.models import CHANNELS, SECTORS, Agency

OVERALL = "q_overall"
MIN_RESPONSES = 30
MAX_RANKED = 5_000  # units in one league table (analysis.rank_estimates: O(units²) comparisons)
MAX_TESTED = 300  # agencies in one Rao–Scott test with all pairs (their cost grows with pairs)
MAX_TESTED_RESPONSES = 200_000  # ... and responses (the test reads rows rebuilt from counts)
LEVELS = ("province", "district", "commune")


@dataclass(frozen=True, kw_only=True)
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

    def describe(self, language: str) -> str:
        """ "Kênh: Mã QR · Cấp xã" / "Channel: QR code · Commune level"; "" without filters."""
        return describe_filters(self.channel, self.level, self.sector, language)


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


@dataclass(frozen=True, kw_only=True)
class AppliedTarget:
    """The target in force for a sector and period, as stored (shares, not percent)."""

    low: float
    high: float | None
    description: str
    source: str
    scope_name: str


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
class ElementLine:
    code: str
    name_vi: str
    name_en: str
    estimate: Estimate

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


@dataclass(frozen=True, kw_only=True)
class ItemDistribution:
    code: str
    text_vi: str
    text_en: str
    shares: dict[int, float]
    answered: int

    def text(self, language: str) -> str:
        return self.text_vi if language == "vi" else self.text_en


@dataclass(frozen=True, kw_only=True)
class PointCoverage:
    agency_vi: str
    agency_en: str
    point_vi: str
    point_en: str
    responses: int
    retired: bool = False  # the agency was dissolved or merged (Agency.valid_to)


@dataclass(frozen=True, kw_only=True)
class Comment:
    submitted_at: str
    agency_vi: str
    text: str
    agency_en: str = ""
    retired: bool = False
    moment: dt.datetime | None = None  # submitted_at as a moment (Vietnam time)

    def agency(self, language: str) -> str:
        return self.agency_vi if language == "vi" or not self.agency_en else self.agency_en


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
class SectorDetail:
    """Element breakdown and answer distributions for one sector's questionnaire."""

    sector: str
    elements: list[ElementLine]
    composite: Estimate | None
    comprehensive: Estimate | None
    distributions: list[ItemDistribution]


@dataclass(frozen=True, kw_only=True)
class SectorTile:
    """One sector at a glance: its index against the target, the change since the previous
    period and how many of the citizens served answered."""

    line: IndexLine  # index, interval, target and verdict
    change: PairwiseDifference | None  # since the previous period; None below the minimum
    previous_responses: int  # respondents of the previous period (why a change is missing)
    response_rate: float | None  # responses ÷ citizens served, where the volume is known
    rate_partial: bool = False  # some service points had no known volume (left out of the rate)


@dataclass(frozen=True, kw_only=True)
class QuarterTrend:
    """A quarter of the period beside the same quarter one year earlier."""

    line: IndexLine
    year_ago: IndexLine | None
    change: PairwiseDifference | None  # line − year_ago; None when either is below the minimum


@dataclass(frozen=True, kw_only=True)
class Benchmark:
    """An aggregate an agency is compared with: itself, its sector, the province. Aggregates
    only: no other agency's name or figure is part of it."""

    role: str  # agency | sector | province
    name_vi: str
    name_en: str
    estimate: Estimate

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


@dataclass(frozen=True, kw_only=True)
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
    # each agency's change since the previous period (both periods with min_n respondents)
    agency_changes: dict[str, PairwiseDifference] = field(default_factory=dict)
    # each agency against its sector (analysis.compare_to_reference), whatever the number
    against_sector: list[ReferenceComparison] = field(default_factory=list)

    def against_sector_summary(self, language: str) -> str:
        """How many agencies stand above or below their sector ("" without a comparison)."""
        return against_sector_summary(self.against_sector, language)

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
        """Why no change is reported (:func:`present.no_change_reason`)."""
        return no_change_reason(
            self.previous.label(language),
            self.previous_responses,
            self.current_responses,
            self.min_n,
            language,
        )

    def comparison_summaries(self, language: str) -> list[str]:
        return [
            summarize_test(
                test, what=sector_name(test.within.get("sector", ""), language), language=language
            )
            for test in self.comparisons
        ]
