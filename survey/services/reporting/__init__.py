"""Reports for officials: indices against targets, comparisons, trends, coverage.

One way through: :mod:`.load` runs every query once (aggregates computed where the data lives:
counts per service point × quarter from the monthly summaries, details' sums, comments) →
:mod:`.compute` turns the inputs into a :class:`ScopeReport` through :mod:`analysis`, with no
database session → :mod:`.present` holds the words every page, chart, PDF and export reads them
with. :mod:`.cache` keeps finished reports in the shared store, keyed by a fingerprint of the
data they read.

Headline index: the share of respondents satisfied overall (answer 4–5 on the overall item, "tỷ lệ
hài lòng"), under the counter design (every service point × quarter a stratum, its service volume
the population size; weights volume / responses). Element indices and the composite (SIPAS-style,
equal element weights unless the questionnaire says otherwise) break it down.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from survey.services.periods import Period
from survey.services.reporting.cache import REPORT_CACHE, LruCache, ReportCache, report_version
from survey.services.reporting.compute import compute_report
from survey.services.reporting.load import load_inputs
from survey.services.reporting.model import (
    LEVELS,
    MAX_RANKED,
    MIN_RESPONSES,
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
    ReportFilters,
    ScopeReport,
    SectorDetail,
    SectorTile,
    filters_from_args,
)
from survey.services.reporting.present import (
    CHANNEL_NAMES,
    LEVEL_NAMES,
    SECTOR_NAMES,
    sector_name,
)
from survey.services.reporting.rows import analysable, prorate_to_period
from survey.services.reporting.scope import (
    Hierarchy,
    applicable_target,
    default_period,
    home_report,
    load_hierarchy,
    period_choices,
)


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
        inputs = load_inputs(session, period, scope_kind, scope_key, visible, filters)
        return compute_report(inputs, min_n=min_n, version=version)

    if cache is None:
        return build()
    return cache.get_or_build(("scope-report", *version), build)


__all__ = [
    "CHANNEL_NAMES",
    "LEVELS",
    "LEVEL_NAMES",
    "MAX_RANKED",
    "MIN_RESPONSES",
    "OVERALL",
    "REPORT_CACHE",
    "SECTOR_NAMES",
    "AppliedTarget",
    "Benchmark",
    "Comment",
    "ElementLine",
    "Hierarchy",
    "IndexLine",
    "ItemDistribution",
    "LruCache",
    "PointCoverage",
    "QuarterTrend",
    "RankedLine",
    "ReportCache",
    "ReportFilters",
    "ScopeReport",
    "SectorDetail",
    "SectorTile",
    "analysable",
    "applicable_target",
    "build_report",
    "compute_report",
    "default_period",
    "filters_from_args",
    "home_report",
    "load_hierarchy",
    "load_inputs",
    "period_choices",
    "prorate_to_period",
    "report_version",
    "sector_name",
]
