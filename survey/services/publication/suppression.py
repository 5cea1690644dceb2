"""What of a report may be published: no free text, no small group, nothing recoverable.

:func:`public_view` turns an official :class:`~survey.services.reporting.ScopeReport` into a
:class:`PublicReport`, a pure transformation (no database, no clock) that keeps only what a
province may put on its portal:

* **No free text.** No comment, not even a count of comments; no target description or source
  (typed by officials), no volume note. Names of agencies, service points, sectors, elements and
  questions are the province's own published data and stay.
* **No small group.** A sector, agency, service point, quarter, element, answer distribution or
  league-table line with fewer than ``minimum`` respondents ("primary suppression") has no figure
  at all here — not its share, interval, verdict, answers, nor its exact count: the page and the
  PDF say "suppressed (fewer than N responses)" and show its n only as "< N". ``minimum`` is the
  province's ``PUBLIC_MIN_RESPONSES`` and never less than the report's own minimum.
* **Nothing recoverable by subtraction** ("complementary suppression", :func:`complementary`). A
  total and its parts are linked: the province is the sum of its sectors, a sector the sum of its
  agencies, an agency's report the sum of its service points. Counts add up exactly, and a share
  is the population-weighted mean of its parts' shares, so when a published total has exactly one
  withheld part, that part's count (exactly) and share (closely) follow from the others. The rule:
  no small group may be the only unknown of a total-and-parts relation, directly or after other
  withheld groups were worked out the same way (a withheld sector whose agencies are all
  published is known from them, and then counts as known one level up). Whenever one is, the
  published sibling with the fewest respondents is withheld too — "suppressed so that a smaller
  group's figures cannot be worked out", its n not shown either (as "≥ N") — with, if it is a
  total, its own smallest part; the check runs again until no small group can be derived.
  Flagged and excluded responses count as in the official report (excluded ones are left out,
  flagged undecided ones count).
* **League tables** are published only when none of their units is withheld (a rank and its
  interval place a unit among the others), and so is a sector's test of differences between its
  agencies (with two agencies, the F statistic and the sector's share come close to giving both).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

from analysis import Estimate, PairwiseDifference, TargetTest, test_target
from analysis import Target as StatTarget
from analysis.summaries import summarize_change, summarize_estimate, summarize_test
from survey.services.reporting import (
    SECTOR_NAMES,
    AppliedTarget,
    IndexLine,
    RankedLine,
    ScopeReport,
    SectorDetail,
)

SMALL = "small"  # fewer respondents than the minimum
COMPLEMENTARY = "complementary"  # withheld so that a small group cannot be worked out

Node = tuple[str, str]  # ("province" | "sector" | "agency" | "point", key)
Relation = tuple[Node, tuple[Node, ...]]  # a total and the parts it is the sum of
PROVINCE: Node = ("province", "")


@dataclass(frozen=True, kw_only=True)
class PublicLine:
    """One published group: its figures, or only why they are withheld.

    ``estimate`` and ``verdict`` are None when ``suppressed`` (``"small"`` or
    ``"complementary"``); the group's count is then not kept either.
    """

    key: str
    name_vi: str
    name_en: str
    estimate: Estimate | None = None
    verdict: TargetTest | None = None
    target_low: float | None = None
    target_high: float | None = None
    suppressed: str = ""
    sector: str = ""
    level: str = ""
    retired: bool = False

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en

    @property
    def n(self) -> int | None:
        """Respondents, or None when withheld (shown as "< N" or not at all)."""
        return None if self.estimate is None else self.estimate.n

    @property
    def has_target(self) -> bool:
        return self.target_low is not None

    def summary(self, language: str, minimum: int) -> str:
        """One sentence: the official wording for a published group, else why it is withheld."""
        if self.estimate is not None:
            return summarize_estimate(
                self.estimate,
                self.verdict,
                name=self.name(language),
                language=language,
                min_n=minimum,
            )
        return f"{self.name(language)}: {withheld_text(self.suppressed, minimum, language)}."


@dataclass(frozen=True, kw_only=True)
class PublicDistribution:
    """Answers to one question: shares of 1–5 among valid answers; None when withheld."""

    code: str
    text_vi: str
    text_en: str
    shares: dict[int, float] | None
    answered: int | None

    def text(self, language: str) -> str:
        return self.text_vi if language == "vi" else self.text_en


@dataclass(frozen=True, kw_only=True)
class PublicDetail:
    """Elements (aspects of the service) and answer distributions of one published sector."""

    sector: str
    elements: list[PublicLine]
    composite: Estimate | None
    comprehensive: Estimate | None
    distributions: list[PublicDistribution]


@dataclass(frozen=True, kw_only=True)
class PublicCoverage:
    """A service point that had fewer responses than the report's minimum (no count shown)."""

    agency_vi: str
    agency_en: str
    point_vi: str
    point_en: str

    def name(self, language: str) -> str:
        if language == "vi":
            return f"{self.agency_vi} — {self.point_vi}"
        return f"{self.agency_en} — {self.point_en}"


@dataclass(frozen=True, kw_only=True)
class PublicReport:
    """Everything the public page and the public PDF show for one period (see the module)."""

    title_vi: str
    title_en: str
    period_key: str
    period_vi: str
    period_en: str
    previous_vi: str
    previous_en: str
    minimum: int
    headline: PublicLine
    sectors: list[PublicLine]
    agencies: list[PublicLine]
    points: list[PublicLine]
    trend: list[PublicLine]  # the headline of this and earlier periods, oldest first
    details: list[PublicDetail]
    change: PairwiseDifference | None
    comparisons: list[tuple[str, str]]  # (sector, sentence) per language, see comparison_texts
    coverage: list[PublicCoverage]
    ranks: list[RankedLine]
    ranks_withheld: bool
    volume_estimated: bool  # some service volumes were estimated (the method note says so)
    previous_empty: bool  # no response at all in the previous period
    version: tuple[object, ...]  # changes whenever the data behind the figures change
    chart_source: ScopeReport  # the same suppression in the shape report_charts draws

    def title(self, language: str) -> str:
        return self.title_vi if language == "vi" else self.title_en

    def period_label(self, language: str) -> str:
        return self.period_vi if language == "vi" else self.period_en

    def previous_label(self, language: str) -> str:
        return self.previous_vi if language == "vi" else self.previous_en

    @property
    def published(self) -> bool:
        """The headline itself has enough responses (otherwise the page says only that)."""
        return self.headline.estimate is not None

    @property
    def withheld(self) -> int:
        """Sectors, agencies and service points withheld (small or complementary)."""
        return sum(1 for line in (*self.sectors, *self.agencies, *self.points) if line.suppressed)

    def change_summary(self, language: str) -> str | None:
        return None if self.change is None else summarize_change(self.change, language=language)

    def no_change_reason(self, language: str) -> str:
        """Why no change is given (never with the counts, which may be below the minimum)."""
        previous = self.previous_label(language)
        if self.previous_empty:
            if language == "vi":
                return f"Không có phiếu trong {previous} để so sánh."
            return f"No responses in {previous} to compare with."
        if language == "vi":
            return (
                f"Không công bố mức thay đổi so với {previous}: một trong hai kỳ có dưới "
                f"{self.minimum} phiếu hoặc không ước lượng được sai số."
            )
        return (
            f"No change since {previous} is published: one of the two periods has fewer than "
            f"{self.minimum} responses, or its uncertainty cannot be estimated."
        )

    def comparison_texts(self, language: str) -> list[str]:
        return [sentence for lang, sentence in self.comparisons if lang == language]


def withheld_text(reason: str, minimum: int, language: str) -> str:
    """The words in place of a withheld group's figures."""
    if reason == COMPLEMENTARY:
        if language == "vi":
            return "không công bố (để không suy ra được số liệu của nhóm nhỏ)"
        return "suppressed (so that a smaller group's figures cannot be worked out)"
    if language == "vi":
        return f"không công bố (dưới {minimum} phiếu)"
    return f"suppressed (fewer than {minimum} responses)"


def count_text(line: PublicLine, minimum: int) -> str:
    """A group's n as published: the number, "< N" when small, "≥ N" when withheld to protect
    another group (formatting of a shown number is left to the page)."""
    if line.suppressed == SMALL:
        return f"< {minimum}"
    if line.suppressed:
        return f"≥ {minimum}"
    return str(line.n)


# --------------------------------------------------------------------------------------------
# Complementary suppression


def complementary(
    sizes: Mapping[Node, int], relations: Sequence[Relation], small: Set[Node]
) -> set[Node]:
    """The groups to withhold besides ``small`` so that none of ``small`` can be worked out.

    ``relations`` are (total, parts) pairs: the province and its sectors, each sector and its
    agencies, and so on. A withheld group is *derivable* when it is the only unknown member of a
    relation whose other members are published or derivable (:func:`_derivable`) — a total from
    all its parts, or a part from its total and all its siblings.

    While some small group is derivable, take the relation it was derived from and withhold its
    published part (sibling) with the fewest respondents, or its total when no part is left
    (ties by name, so every run gives the same result). When every other member of that relation
    is withheld but was itself derived first, do the same for the one derived last before it.
    A group withheld this way whose own parts are all published would be given away by them at
    once, so its smallest part is withheld too, and so on down. Each round withholds at least one
    more group, so this ends, and it ends with no small group derivable.

    This is the one-sibling rule applied across hierarchical tables until it holds everywhere;
    it is not a linear-programming audit of arbitrary linked tables, which tables whose totals
    form a tree (as these do) do not need.
    """
    parts_of: dict[Node, list[tuple[Node, ...]]] = {}
    for total, parts in relations:
        parts_of.setdefault(total, []).append(parts)
    withheld = set(small)

    def withhold(node: Node) -> None:
        withheld.add(node)
        for parts in parts_of.get(node, []):
            if parts and not any(part in withheld for part in parts):
                withhold(min(parts, key=lambda part: (sizes[part], part)))

    while True:
        reasons, order = _derivable(sizes, relations, withheld)
        leaked = sorted(node for node in small if node in reasons)
        if not leaked:
            return withheld - set(small)
        node = leaked[0]
        while True:
            total, parts = relations[reasons[node]]
            others = [part for part in parts if part != node and part not in withheld]
            if not others and total != node and total not in withheld:
                others = [total]
            if others:
                withhold(min(others, key=lambda member: (sizes[member], member)))
                break
            earlier = [
                member
                for member in (total, *parts)
                if member != node and member in reasons and order[member] < order[node]
            ]
            node = max(earlier, key=lambda member: order[member])


def _derivable(
    sizes: Mapping[Node, int], relations: Sequence[Relation], withheld: Set[Node]
) -> tuple[dict[Node, int], dict[Node, int]]:
    """Withheld groups that published figures give away, each with the index of the relation
    that gives it away and the order in which they fell."""
    known = {node for node in sizes if node not in withheld}
    reasons: dict[Node, int] = {}
    order: dict[Node, int] = {}
    changed = True
    while changed:
        changed = False
        for index, (total, parts) in enumerate(relations):
            unknown = [member for member in (total, *parts) if member not in known]
            if len(unknown) == 1:
                found = unknown[0]
                known.add(found)
                reasons[found] = index
                order[found] = len(order)
                changed = True
    return reasons, order


def relations_of(report: ScopeReport) -> list[Relation]:
    """The total-and-parts relations of a report's tables, finest first."""
    relations: list[Relation] = []
    if report.points:
        relations.append((PROVINCE, tuple(("point", line.key) for line in report.points)))
    by_sector: dict[str, list[Node]] = {}
    for line in report.agencies:
        by_sector.setdefault(line.sector, []).append(("agency", line.key))
    if report.sectors:
        sector_keys = {line.key for line in report.sectors}
        for sector, agencies in sorted(by_sector.items()):
            if sector in sector_keys:
                relations.append((("sector", sector), tuple(agencies)))
        relations.append((PROVINCE, tuple(("sector", line.key) for line in report.sectors)))
    elif report.agencies:
        relations.append((PROVINCE, tuple(node for nodes in by_sector.values() for node in nodes)))
    return relations


# --------------------------------------------------------------------------------------------
# The public view


def public_view(
    report: ScopeReport, minimum: int, trend: Sequence[ScopeReport] = ()
) -> PublicReport:
    """What of ``report`` may be published, with groups below ``minimum`` respondents (never
    below the report's own minimum) withheld as the module explains. ``trend`` are the reports
    of earlier periods (oldest first) whose headlines make the trend; this report is added last.
    """
    minimum = max(int(minimum), report.min_n)
    lines: dict[Node, IndexLine] = {PROVINCE: report.headline}
    for kind, group in (("sector", report.sectors), ("agency", report.agencies)):
        lines.update({(kind, line.key): line for line in group})
    lines.update({("point", line.key): line for line in report.points})
    sizes = {node: line.estimate.n for node, line in lines.items()}
    small = {node for node, line in lines.items() if _is_small(line.estimate, minimum)}
    extra = complementary(sizes, relations_of(report), small)

    def public(node: Node) -> PublicLine:
        reason = SMALL if node in small else COMPLEMENTARY if node in extra else ""
        return _public_line(lines[node], reason)

    headline = _with_common_target(
        public(PROVINCE), [public(("sector", s.key)) for s in report.sectors]
    )
    sectors = [public(("sector", line.key)) for line in report.sectors]
    agencies = [public(("agency", line.key)) for line in report.agencies]
    points = [public(("point", line.key)) for line in report.points]
    published_sectors = {line.key for line in sectors if not line.suppressed}
    if not report.sectors and headline.estimate is not None:
        published_sectors = {detail.sector for detail in report.details}
    details = [
        _public_detail(detail, minimum)
        for detail in report.details
        if detail.sector in published_sectors
    ]
    trend_lines = [
        _with_common_target(
            _public_line(
                dataclasses.replace(
                    earlier.headline,
                    key=earlier.period.key,
                    name_vi=earlier.period.label("vi"),
                    name_en=earlier.period.label("en"),
                ),
                SMALL if _is_small(earlier.headline.estimate, minimum) else "",
            ),
            [_public_line(line, "") for line in earlier.sectors],  # for their targets only
        )
        for earlier in (*trend, report)
        if earlier.responses > 0
    ]
    change = report.change
    if change is not None and min(report.previous_responses, report.current_responses) < minimum:
        change = None
    if headline.estimate is None:
        change = None
    whole_sectors = published_sectors - {line.sector for line in agencies if line.suppressed}
    comparisons = [
        (language, summarize_test(test, what=_sector_name(sector, language), language=language))
        for test in report.comparisons
        if (sector := str(test.within.get("sector", ""))) in whole_sectors
        and test.statistic is not None
        for language in ("vi", "en")
    ]
    published_units = {line.key for line in (*agencies, *points) if not line.suppressed}
    ranks_withheld = any(line.key not in published_units for line in report.ranks)
    coverage = [
        PublicCoverage(
            agency_vi=c.agency_vi, agency_en=c.agency_en, point_vi=c.point_vi, point_en=c.point_en
        )
        for c in report.coverage
    ]
    version = ("public", minimum, report.version, tuple(t.version for t in trend))
    result = PublicReport(
        title_vi=report.title_vi,
        title_en=report.title_en,
        period_key=report.period.key,
        period_vi=report.period.label("vi"),
        period_en=report.period.label("en"),
        previous_vi=report.previous.label("vi"),
        previous_en=report.previous.label("en"),
        minimum=minimum,
        headline=headline,
        sectors=sectors,
        agencies=agencies,
        points=points,
        trend=trend_lines,
        details=details,
        change=change,
        comparisons=comparisons,
        coverage=coverage,
        ranks=[] if ranks_withheld else list(report.ranks),
        ranks_withheld=ranks_withheld and bool(report.ranks),
        volume_estimated=bool(report.volume_note),
        previous_empty=report.previous_responses == 0,
        version=version,
        chart_source=report,  # replaced just below, once the public lines exist
    )
    return dataclasses.replace(result, chart_source=_chart_source(report, result))


def _is_small(estimate: Estimate, minimum: int) -> bool:
    return bool(estimate.n < minimum or estimate.status == "insufficient_data")


def _public_line(line: IndexLine, reason: str) -> PublicLine:
    target = line.target
    return PublicLine(
        key=line.key,
        name_vi=line.name_vi,
        name_en=line.name_en,
        estimate=None if reason else line.estimate,
        verdict=None if reason else line.verdict,
        target_low=target.low if target else None,
        target_high=target.high if target else None,
        suppressed=reason,
        sector=line.sector,
        level=line.level,
        retired=line.retired,
    )


def _with_common_target(headline: PublicLine, sectors: list[PublicLine]) -> PublicLine:
    """The province's headline against the target that every sector shares, when they share one
    (the official report gives a verdict only for a single-sector scope; the test is the same:
    the whole 95% interval above, below or across the target)."""
    if headline.estimate is None or headline.has_target or not sectors:
        return headline
    targets = {(line.target_low, line.target_high) for line in sectors}
    if len(targets) != 1:
        return headline
    low, high = targets.pop()
    if low is None:
        return headline
    verdict = None
    if headline.estimate.status == "ok":
        verdict = test_target(headline.estimate, StatTarget(low, high))
    return dataclasses.replace(headline, target_low=low, target_high=high, verdict=verdict)


def _public_detail(detail: SectorDetail, minimum: int) -> PublicDetail:
    elements = [
        PublicLine(
            key=element.code,
            name_vi=element.name_vi,
            name_en=element.name_en,
            estimate=None if _is_small(element.estimate, minimum) else element.estimate,
            suppressed=SMALL if _is_small(element.estimate, minimum) else "",
        )
        for element in detail.elements
    ]
    distributions = [
        PublicDistribution(
            code=d.code,
            text_vi=d.text_vi,
            text_en=d.text_en,
            shares=dict(d.shares) if d.answered >= minimum else None,
            answered=d.answered if d.answered >= minimum else None,
        )
        for d in detail.distributions
    ]

    def kept(estimate: Estimate | None) -> Estimate | None:
        return None if estimate is None or _is_small(estimate, minimum) else estimate

    return PublicDetail(
        sector=detail.sector,
        elements=elements,
        composite=kept(detail.composite),
        comprehensive=kept(detail.comprehensive),
        distributions=distributions,
    )


def _sector_name(sector: str, language: str) -> str:
    names = SECTOR_NAMES.get(sector)
    if names is None:
        return sector
    return names[0] if language == "vi" else names[1]


# --------------------------------------------------------------------------------------------
# The same suppression in the shape the report's charts read


def _withheld_estimate(estimate: Estimate) -> Estimate:
    return Estimate(
        group=dict(estimate.group),
        measure=estimate.measure,
        n=0,
        n_eff=0.0,
        estimate=None,
        se=None,
        ci_low=None,
        ci_high=None,
        df=None,
        deff=None,
        status="suppressed",
    )


def _chart_line(official: IndexLine, public: PublicLine) -> IndexLine:
    target = (
        AppliedTarget(
            low=public.target_low,
            high=public.target_high,
            description="",
            source="",
            scope_name="",
        )
        if public.target_low is not None
        else None
    )
    return dataclasses.replace(
        official,
        estimate=public.estimate or _withheld_estimate(official.estimate),
        verdict=public.verdict,
        target=target,
    )


def _chart_source(report: ScopeReport, public: PublicReport) -> ScopeReport:
    """The report as ``report_charts.charts_for`` reads it, carrying only what ``public`` does:
    withheld groups have no estimate (the charts leave them empty), the quarters are the public
    trend, no comment, coverage, rank or free text, and its own cache key."""
    by_key = {
        "sector": {line.key: line for line in public.sectors},
        "agency": {line.key: line for line in public.agencies},
        "point": {line.key: line for line in public.points},
    }
    details = [
        dataclasses.replace(
            official,
            distributions=[
                dataclasses.replace(d, shares={}) if d.answered < public.minimum else d
                for d in official.distributions
            ],
        )
        for official in report.details
        if official.sector in {detail.sector for detail in public.details}
    ]
    trend = [
        IndexLine(
            key=line.key,
            name_vi=line.name_vi,
            name_en=line.name_en,
            estimate=line.estimate or _withheld_estimate(report.headline.estimate),
            target=_target_of(public.headline),
            verdict=line.verdict,
        )
        for line in public.trend
    ]
    return dataclasses.replace(
        report,
        headline=_chart_line(report.headline, public.headline),
        sectors=[_chart_line(line, by_key["sector"][line.key]) for line in report.sectors],
        agencies=[_chart_line(line, by_key["agency"][line.key]) for line in report.agencies],
        points=[_chart_line(line, by_key["point"][line.key]) for line in report.points],
        quarters=trend,
        details=details,
        change=public.change,
        comparisons=[],
        coverage=[],
        comments=[],
        children=[],
        volume_note="",
        ranks=[],
        # The dashboard's extras (tiles, year-ago quarters, an agency's benchmarks) carry
        # unsuppressed figures and target wording: none of them is published.
        tiles=[],
        own=None,
        subunits=0,
        benchmarks=[],
        agency_changes={},
        against_sector=[],
        year_ago_change=None,
        quarter_trend=[],
        version=public.version,
    )


def _target_of(line: PublicLine) -> AppliedTarget | None:
    if line.target_low is None:
        return None
    return AppliedTarget(
        low=line.target_low, high=line.target_high, description="", source="", scope_name=""
    )
