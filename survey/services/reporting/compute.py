"""``compute``: the report from its loaded inputs, through :mod:`analysis`, with no database.

Counter design (stratum = service point × quarter, population = the quarter's service volume
prorated to the days inside the period, imputed from the median response rate where unknown:
:func:`analysis.weights.prorate_volumes`, :func:`analysis.aggregates.impute_volumes`). Every
index, interval and verdict comes from per-stratum counts
(:func:`analysis.aggregates.estimate_share_from_counts`,
:mod:`analysis.aggregate_details`); the tests between agencies and the league table use rows
rebuilt from the counts (:func:`analysis.aggregate_details.rows_from_counts`), for at most
``MAX_RANKED`` units.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from analysis import (
    AnalysisError,
    ComparisonTest,
    Estimate,
    PairwiseDifference,
    TargetTest,
    compare_groups,
    counter_design,
    test_target,
)
from analysis import Target as StatTarget
from analysis.aggregate_details import (
    answer_distribution_from_counts,
    change_between,
    element_indices_from_sums,
    rows_from_counts,
)
from analysis.aggregates import estimate_share_from_counts, impute_volumes
from analysis.ranks import rank_estimates
from analysis.reference import ReferenceComparison, compare_to_reference
from analysis.weights import prorate_volumes
from survey.services.periods import Period
from survey.services.reporting.load import PeriodCounts, ReportInputs, SectorInputs
from survey.services.reporting.model import (
    MAX_RANKED,
    MAX_TESTED,
    MAX_TESTED_RESPONSES,
    OVERALL,
    AppliedTarget,
    Benchmark,
    Comment,
    ElementLine,
    IndexLine,
    ItemDistribution,
    PointCoverage,
    QuarterTrend,
    RankedLine,
    ScopeReport,
    SectorDetail,
    SectorTile,
)
from survey.services.reporting.present import SECTOR_NAMES, quarter_names, volume_note

LEVEL_ORDER = {"province": 0, "district": 1, "commune": 2}
CHANGE_LABELS = ({"report_period": "current"}, {"report_period": "previous"})


@dataclass(frozen=True, kw_only=True)
class Sample:
    """The counts of a set of agencies in one period, ready for the estimators: ``table`` per
    stratum (``stratum``, domains, ``responses``, ``answered``, ``satisfied``), ``strata``
    (``stratum``, ``responses``, ``volume`` = N_h), ``raw_volume`` the prorated volume before
    imputation (NaN where none is recorded) and the note on imputed volumes."""

    table: pd.DataFrame
    strata: pd.DataFrame
    raw_volume: np.ndarray
    note: str
    _served_cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)
    _estimates: dict[tuple[str | None, int], list[Estimate]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def empty(self) -> bool:
        return bool(self.table.empty)

    @property
    def answered(self) -> int:
        return int(self.table["answered"].sum()) if not self.table.empty else 0

    def where(self, column: str, value: Any) -> Sample:
        keep = (self.table[column] == value).to_numpy()
        table = self.table[keep].reset_index(drop=True)
        return Sample(
            table=table,
            strata=self.strata[self.strata["stratum"].isin(set(table["stratum"]))],
            raw_volume=self.raw_volume[keep],
            note=self.note,
        )

    def estimates(self, by: str | None, min_n: int) -> list[Estimate]:
        """The share satisfied of each value of ``by`` (None: the whole sample), computed once
        per domain and minimum (the tables, the changes and the league table share them)."""
        if self.table.empty:
            return []
        key = (by, min_n)
        if key not in self._estimates:
            self._estimates[key] = estimate_share_from_counts(
                self.table,
                self.strata,
                by,
                item=OVERALL,
                min_n=min_n,
                include_total=by is None,
            )
        return self._estimates[key]

    def whole(self, min_n: int) -> Estimate | None:
        found = self.estimates(None, min_n)
        return found[0] if found else None

    def served(self, column: str | None = None, value: Any = None) -> float | None:
        """Citizens served by a group (Σ_h N_h·m_h/n_h over its strata's answered respondents:
        :func:`analysis.targets.known_population`), None for a group without an answer."""
        if self.table.empty:
            return None
        if column is None:
            answered, served = self.answered, float(self._served_per_row.sum())
        else:
            sums = self._served_by(column)
            if value not in sums.index:
                return None
            answered, served = int(sums.at[value, "answered"]), float(sums.at[value, "served"])
        return served if answered > 0 else None

    @cached_property
    def _served_per_row(self) -> np.ndarray:
        volume = self.strata.set_index("stratum")["volume"].reindex(self.table["stratum"])
        return np.asarray(
            self.table["answered"].to_numpy(float)
            * volume.to_numpy(float)
            / self.table["responses"].to_numpy(float)
        )

    def _served_by(self, column: str) -> pd.DataFrame:
        cached = self._served_cache.get(column)
        if cached is None:
            cached = (
                self.table[[column, "answered"]]
                .assign(served=self._served_per_row)
                .groupby(column)[["answered", "served"]]
                .sum()
            )
            self._served_cache[column] = cached
        return cached


def sample_of(counts: PeriodCounts, codes: Collection[str], period: Period) -> Sample:
    """The counts of ``codes``'s agencies in ``period`` with their strata's population sizes."""
    table = counts.counts[counts.counts["agency"].isin(set(codes))].reset_index(drop=True)
    if table.empty:
        empty = pd.DataFrame(columns=["stratum", "responses", "volume"])
        return Sample(
            table=table.assign(stratum=pd.Series(dtype=object), period=pd.Series(dtype=object)),
            strata=empty,
            raw_volume=np.array([]),
            note="",
        )
    keys = pd.MultiIndex.from_frame(table[["service_point_id", "quarter"]])
    volume = counts.volumes.reindex(keys).to_numpy(float)
    floor = counts.window_responses.reindex(keys).to_numpy(float)
    volume = np.where(np.isnan(volume), np.nan, np.maximum(volume, floor))
    prorated = np.asarray(
        prorate_volumes(volume, table["quarter"], period.first, period.last), dtype=float
    )
    imputed = impute_volumes(table["responses"].to_numpy(float), prorated)
    table = table.assign(
        stratum=table["service_point"] + "|" + table["quarter"], period=table["quarter"]
    )
    note = ""
    if imputed.response_rate is not None:
        note = volume_note(
            int(table.loc[imputed.imputed, "service_point"].nunique()), imputed.response_rate
        )
    strata = pd.DataFrame(
        {"stratum": table["stratum"], "responses": table["responses"], "volume": imputed.volume}
    )
    return Sample(table=table, strata=strata, raw_volume=prorated, note=note)


def _verdict(
    estimate: Estimate, target: AppliedTarget | None, population: float | None = None
) -> TargetTest | None:
    """The verdict against the target; ``population`` (citizens served) sizes the responses
    still needed and caps them at the citizens not yet surveyed."""
    if target is None or estimate.status != "ok":
        return None
    return test_target(estimate, StatTarget(target.low, target.high), population=population)


def no_responses() -> Estimate:
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


def change(now: Sample, before: Sample, min_n: int) -> PairwiseDifference | None:
    """Now minus before (independent samples), None when either has fewer than ``min_n``
    respondents (:func:`analysis.aggregate_details.change_between`)."""
    if now.empty or before.empty:
        return None
    return change_between(now.whole(0), before.whole(0), labels=CHANGE_LABELS, min_n=min_n)


def _response_rate(sample: Sample) -> tuple[float | None, bool]:
    """Responses ÷ citizens served over the strata whose volume is known, and whether some had
    none (left out of the rate rather than guessed)."""
    if sample.empty:
        return None, False
    known = ~np.isnan(sample.raw_volume) & (np.nan_to_num(sample.raw_volume) > 0)
    if not known.any():
        return None, False
    rate = float(sample.table["responses"].to_numpy(float)[known].sum()) / float(
        sample.raw_volume[known].sum()
    )
    return min(rate, 1.0), bool((~known).any())


def compute_report(inputs: ReportInputs, *, min_n: int, version: tuple[Any, ...]) -> ScopeReport:
    """The :class:`ScopeReport` of the loaded inputs (see :func:`build_report`)."""
    hierarchy = inputs.hierarchy
    codes = inputs.codes
    period, previous = inputs.period, inputs.previous.period
    current = sample_of(inputs.current, codes, period)
    earlier = sample_of(inputs.previous, codes, previous)
    targets = inputs.targets
    scope_sectors = sorted(
        set(current.table["sector"])
        if not current.empty
        else {hierarchy.by_code[c].sector for c in codes}
    )
    headline_target = targets.get(scope_sectors[0]) if len(scope_sectors) == 1 else None
    title = {"title_vi": inputs.title_vi, "title_en": inputs.title_en}
    common: dict[str, Any] = {
        "scope_kind": inputs.scope_kind,
        "scope_key": inputs.scope_key,
        **title,
        "period": period,
        "previous": previous,
        "version": version,
        "agency_codes": codes,
        "min_n": min_n,
        "filters": inputs.filters,
        "previous_responses": earlier.answered,
    }
    if current.empty:
        return ScopeReport(
            **common,
            responses=0,
            headline=IndexLine(
                key=inputs.scope_key or "all",
                name_vi=inputs.title_vi,
                name_en=inputs.title_en,
                estimate=no_responses(),
                target=headline_target,
            ),
            sectors=[],
            agencies=[],
            points=[],
            quarters=[],
            details=[],
            change=None,
            comparisons=[],
            coverage=_coverage(inputs, current, min_n),
            comments=[],
        )
    whole = current.whole(min_n) or no_responses()
    headline = IndexLine(
        key=inputs.scope_key or "all",
        name_vi=inputs.title_vi,
        name_en=inputs.title_en,
        estimate=whole,
        target=headline_target,
        verdict=_verdict(whole, headline_target, current.served()),
    )
    sectors = [
        IndexLine(
            key=e.group["sector"],
            name_vi=SECTOR_NAMES[e.group["sector"]][0],
            name_en=SECTOR_NAMES[e.group["sector"]][1],
            estimate=e,
            target=targets.get(e.group["sector"]),
            verdict=_verdict(
                e, targets.get(e.group["sector"]), current.served("sector", e.group["sector"])
            ),
            sector=e.group["sector"],
        )
        for e in current.estimates("sector", min_n)
    ]
    agencies = []
    for e in current.estimates("agency", min_n):
        agency = hierarchy.by_code[e.group["agency"]]
        agencies.append(
            _unit_line(
                agency,
                e,
                targets,
                key=agency.code,
                names=(agency.name_vi, agency.name_en),
                served=current.served("agency", agency.code),
            )
        )
    agencies.sort(
        key=lambda line: (line.sector, LEVEL_ORDER.get(line.level, 3), line.retired, line.name_vi)
    )
    points = _points(inputs, current, min_n) if inputs.scope_kind == "agency" else []
    quarters = [
        IndexLine(
            key=e.group["period"],
            name_vi=quarter_names(e.group["period"])[0],
            name_en=quarter_names(e.group["period"])[1],
            estimate=e,
            target=headline_target,
            verdict=_verdict(e, headline_target, current.served("period", e.group["period"])),
        )
        for e in current.estimates("period", min_n)
    ]
    children: list[IndexLine] = []
    own: IndexLine | None = None
    subunits = 0
    benchmarks: list[Benchmark] = []
    if inputs.scope_kind == "agency":
        root = hierarchy.by_code[inputs.scope_key]
        child_ids = {
            a.id
            for a in hierarchy.agencies.values()
            if a.parent_id == root.id or a.successor_id == root.id
        }
        children = [line for line in agencies if line.agency_id in child_ids]
        own = next((line for line in agencies if line.key == inputs.scope_key), None)
        subunits = int(current.table["agency"].nunique()) - (1 if own is not None else 0)
        benchmarks = _benchmarks(inputs, root, headline.estimate, min_n)
    if inputs.year_ago is None:
        year_ago_sample = earlier
    else:
        year_ago_sample = sample_of(inputs.year_ago, codes, inputs.year_ago.period)
    tiles = []
    if inputs.scope_kind != "agency":
        tiles = [_tile(line, current, earlier, min_n) for line in sectors]
    details = [_sector_detail(sector, current, min_n) for sector in inputs.details]
    comparisons, ranks = _comparisons(inputs, current, agencies, points, min_n)
    comments = []
    for row in inputs.comments:
        agency = hierarchy.by_code[row.agency]
        comments.append(
            Comment(
                submitted_at=row.moment.astimezone(_vietnam()).strftime("%Y-%m-%d %H:%M"),
                agency_vi=agency.name_vi,
                text=row.text,
                agency_en=agency.name_en,
                retired=agency.valid_to is not None,
                moment=row.moment.astimezone(_vietnam()),
            )
        )
    return ScopeReport(
        **common,
        responses=int(current.table["responses"].sum()),
        headline=headline,
        sectors=sectors,
        agencies=agencies,
        points=points,
        quarters=quarters,
        details=details,
        change=change(current, earlier, min_n),
        comparisons=comparisons,
        coverage=_coverage(inputs, current, min_n),
        comments=comments,
        children=children,
        volume_note=current.note,
        current_responses=current.answered,
        ranks=ranks,
        tiles=tiles,
        own=own,
        subunits=subunits,
        benchmarks=benchmarks,
        year_ago=inputs.year_ago.period if inputs.year_ago is not None else None,
        year_ago_change=None if period.kind == "year" else change(current, year_ago_sample, min_n),
        quarter_trend=_quarter_trend(current, year_ago_sample, quarters, min_n),
        agency_changes=_agency_changes(current, earlier, agencies, min_n),
        against_sector=_against_sector(current, min_n),
    )


def _tile(line: IndexLine, current: Sample, earlier: Sample, min_n: int) -> SectorTile:
    now = current.where("sector", line.key)
    before = earlier.where("sector", line.key) if not earlier.empty else earlier
    rate, partial = _response_rate(now)
    return SectorTile(
        line=line,
        change=change(now, before, min_n),
        previous_responses=before.answered,
        response_rate=rate,
        rate_partial=partial,
    )


def _vietnam() -> Any:
    from survey.services.local_time import VIETNAM_TIME

    return VIETNAM_TIME


def _unit_line(
    agency: Any,
    estimate: Estimate,
    targets: dict[str, AppliedTarget | None],
    *,
    key: str,
    names: tuple[str, str],
    served: float | None,
) -> IndexLine:
    """The line of an agency or of one of its service points, against its sector's target."""
    target = targets.get(agency.sector)
    return IndexLine(
        key=key,
        name_vi=names[0],
        name_en=names[1],
        estimate=estimate,
        target=target,
        verdict=_verdict(estimate, target, served),
        sector=agency.sector,
        level=agency.level,
        retired=agency.valid_to is not None,
        agency_id=agency.id,
    )


def _points(inputs: ReportInputs, current: Sample, min_n: int) -> list[IndexLine]:
    """An agency page's service points (its own first, then its sub-units', by name)."""
    hierarchy = inputs.hierarchy
    names = {p.public_code: p for p in inputs.points}
    out = []
    for e in current.estimates("service_point", min_n):
        point = names[e.group["service_point"]]
        agency = hierarchy.by_code[point.agency]
        out.append(
            _unit_line(
                agency,
                e,
                inputs.targets,
                key=point.public_code,
                names=(
                    f"{agency.name_vi} — {point.name_vi}",
                    f"{agency.name_en} — {point.name_en}",
                ),
                served=current.served("service_point", point.public_code),
            )
        )
    own = {p.public_code for p in inputs.points if p.agency == inputs.scope_key}
    out.sort(key=lambda line: (line.key not in own, line.retired, line.name_vi))
    return out


def _benchmarks(
    inputs: ReportInputs, agency: Any, headline: Estimate, min_n: int
) -> list[Benchmark]:
    """An agency's headline beside the aggregate of its sector and of the province (every
    agency the filters keep, whoever reads: aggregates only, no other agency's figure)."""
    province = inputs.hierarchy.province()
    out = [
        Benchmark(role="agency", name_vi=agency.name_vi, name_en=agency.name_en, estimate=headline)
    ]
    sector_codes = {
        code for code in inputs.allowed if inputs.hierarchy.by_code[code].sector == agency.sector
    }
    for role, codes, (name_vi, name_en) in (
        ("sector", sector_codes, SECTOR_NAMES[agency.sector]),
        (
            "province",
            set(inputs.allowed),
            (province.name_vi, province.name_en) if province else ("Toàn tỉnh", "Whole province"),
        ),
    ):
        sample = sample_of(inputs.current, codes, inputs.period)
        estimate = sample.whole(min_n) or no_responses()
        out.append(Benchmark(role=role, name_vi=name_vi, name_en=name_en, estimate=estimate))
    return out


def _quarter_trend(
    current: Sample, year_rows: Sample, quarters: list[IndexLine], min_n: int
) -> list[QuarterTrend]:
    """Each quarter beside the same quarter a year earlier, with the change when both have
    ``min_n`` respondents."""
    earlier = {str(e.group["period"]): e for e in year_rows.estimates("period", min_n)}
    out = []
    for line in quarters:
        label = f"{int(line.key[:4]) - 1}{line.key[4:]}"
        estimate = earlier.get(label)
        difference = None
        year_ago = None
        if estimate is not None:
            difference = change(
                current.where("period", line.key), year_rows.where("period", label), min_n
            )
            vi, en = quarter_names(label)
            year_ago = IndexLine(key=label, name_vi=vi, name_en=en, estimate=estimate)
        out.append(QuarterTrend(line=line, year_ago=year_ago, change=difference))
    return out


def _agency_changes(
    current: Sample, earlier: Sample, agencies: list[IndexLine], min_n: int
) -> dict[str, PairwiseDifference]:
    """Each agency's change since the previous period, where both have ``min_n`` respondents."""
    if current.empty or earlier.empty:
        return {}
    now = {e.group["agency"]: e for e in current.estimates("agency", 0)}
    before = {e.group["agency"]: e for e in earlier.estimates("agency", 0)}
    out = {}
    for line in agencies:
        difference = change_between(
            now.get(line.key), before.get(line.key), labels=CHANGE_LABELS, min_n=min_n
        )
        if difference is not None:
            out[line.key] = difference
    return out


def _comparisons(
    inputs: ReportInputs,
    current: Sample,
    agencies: list[IndexLine],
    points: list[IndexLine],
    min_n: int,
) -> tuple[list[ComparisonTest], list[RankedLine]]:
    """The Rao–Scott test between the agencies of each sector (rows rebuilt from the counts, for
    at most ``MAX_TESTED`` agencies and ``MAX_TESTED_RESPONSES`` responses; beyond, each agency
    is compared with its sector: :func:`_against_sector`) and the league table of the compared
    units (agencies, or an agency's service points) from their independent estimates
    (:func:`analysis.rank_estimates`: exact Monte Carlo critical value for small tables,
    Bonferroni beyond)."""
    units = current.table["agency"].nunique()
    comparisons: list[ComparisonTest] = []
    small = int(current.table["responses"].sum()) <= MAX_TESTED_RESPONSES
    if 1 < units <= MAX_TESTED and small:
        rows = rows_from_counts(current.table, current.strata, ["agency", "sector"], item=OVERALL)
        design = counter_design(rows, strata="stratum", volume="volume")
        try:
            comparisons = compare_groups(rows, design, "agency", "sector", min_n=min_n)
        except AnalysisError:
            comparisons = []
    if inputs.scope_kind == "agency":
        ranks = _league_table(current, points, "service_point", min_n)
    else:
        ranks = _league_table(current, agencies, "agency", min_n)
    return comparisons, ranks


def _league_table(
    current: Sample, compared: list[IndexLine], column: str, min_n: int
) -> list[RankedLine]:
    """Ranks with their simultaneous 95% intervals when at least three units have ``min_n``
    respondents, up to ``MAX_RANKED`` units."""
    eligible = [line for line in compared if line.estimate.n >= min_n]
    if not 3 <= len(eligible) <= MAX_RANKED:
        return []
    names = {line.key: line for line in compared}
    found = current.estimates(column, 0)
    try:
        table = rank_estimates(
            [e.group for e in found],
            [e.estimate for e in found],
            [None if e.se is None else e.se**2 for e in found],
            [e.n for e in found],
            [e.n_eff for e in found],
            min_n=min_n,
        )
    except AnalysisError:
        return []
    out = []
    for item in table:
        line = names.get(str(item.group[column]))
        if line is not None and item.rank is not None:
            out.append(
                RankedLine(
                    key=line.key,
                    name_vi=line.name_vi,
                    name_en=line.name_en,
                    ranked=item,
                    retired=line.retired,
                )
            )
    return out


def _against_sector(current: Sample, min_n: int) -> list[ReferenceComparison]:
    """Each agency against its sector's aggregate (covariance included; Holm-adjusted verdicts
    within each sector): the comparison that scales with agencies, not pairs."""
    if current.empty or current.table["agency"].nunique() < 2:
        return []
    return compare_to_reference(
        current.table, current.strata, "agency", "sector", item=OVERALL, min_n=min_n
    )


def _sector_detail(inputs: SectorInputs, current: Sample, min_n: int) -> SectorDetail:
    sample = current.where("sector", inputs.sector)
    if not inputs.items or sample.empty:
        return SectorDetail(
            sector=inputs.sector,
            elements=[],
            composite=None,
            comprehensive=None,
            distributions=[],
        )
    stratum_of = sample.table.set_index(["service_point_id", "quarter"])["stratum"]

    def with_strata(frame: pd.DataFrame) -> pd.DataFrame:
        keys = pd.MultiIndex.from_frame(frame[["service_point_id", "quarter"]])
        return frame.assign(stratum=stratum_of.reindex(keys).to_numpy()).dropna(subset=["stratum"])

    sums = with_strata(inputs.sums)
    elements: list[ElementLine] = []
    composite = None
    if inputs.elements and not sums.empty:
        results = element_indices_from_sums(
            sums,
            sample.strata,
            [el.code for el in inputs.elements],
            element_weights={el.code: el.weight for el in inputs.elements},
            min_n=min_n,
        )
        by_measure = {e.measure: e for e in results}
        elements = [
            ElementLine(
                code=el.code,
                name_vi=el.name_vi,
                name_en=el.name_en,
                estimate=by_measure[f"element:{el.code}"],
            )
            for el in inputs.elements
        ]
        composite = by_measure.get("composite")
    comprehensive = None
    if inputs.sector == "health" and not sums.empty:
        counts = sums.rename(
            columns={
                "comprehensive_answered": "answered",
                "comprehensive_satisfied": "satisfied",
            }
        )[["stratum", "answered", "satisfied"]]
        (comprehensive,) = estimate_share_from_counts(
            counts, sample.strata, None, item="comprehensive", min_n=min_n
        )
        comprehensive = _renamed(comprehensive, "comprehensive_satisfaction")
    values = with_strata(inputs.values)
    distributions = []
    for item in inputs.items:
        counts = values[values["code"] == item.code]
        answered = int(counts[[f"value_{v}" for v in range(1, 6)]].to_numpy().sum())
        distributions.append(
            ItemDistribution(
                code=item.code,
                text_vi=item.text_vi,
                text_en=item.text_en,
                shares=answer_distribution_from_counts(counts, sample.strata) if answered else {},
                answered=answered,
            )
        )
    return SectorDetail(
        sector=inputs.sector,
        elements=elements,
        composite=composite,
        comprehensive=comprehensive,
        distributions=distributions,
    )


def _renamed(estimate: Estimate, measure: str) -> Estimate:
    from dataclasses import replace

    return replace(estimate, measure=measure)


def _coverage(inputs: ReportInputs, current: Sample, min_n: int) -> list[PointCoverage]:
    """Service points open during the period with fewer responses than the minimum."""
    counts = (
        current.table.groupby("service_point")["responses"].sum()
        if not current.empty
        else pd.Series(dtype=int)
    )
    period = inputs.period
    out = []
    for point in inputs.points:
        agency = inputs.hierarchy.by_code[point.agency]
        if agency.code not in inputs.codes or not point.active:
            continue
        if agency.valid_from > period.last or (agency.valid_to and agency.valid_to <= period.first):
            continue
        responses = int(counts.get(point.public_code, 0))
        if responses < min_n:
            out.append(
                PointCoverage(
                    agency_vi=agency.name_vi,
                    agency_en=agency.name_en,
                    point_vi=point.name_vi,
                    point_en=point.name_en,
                    responses=responses,
                    retired=agency.valid_to is not None,
                )
            )
    return sorted(out, key=lambda c: (c.responses, c.agency_vi))
