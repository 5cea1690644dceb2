"""``load``: every query a report needs, run once, returned as typed inputs for ``compute``.

Nothing here estimates anything. The overall item's counts come per service point × part of a
quarter from the monthly summaries (and, for the days of months a custom period cuts or when a
channel is chosen, from one GROUP BY over the answers); the quarters' service volumes, the
details' sums and value counts, the newest comments, the hierarchy, service points and targets
come as plain values. Moments are timezone-aware datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from survey.services.aggregates.overall import (
    TimeBin,
    counts_in,
    next_quarter,
    quarter_label,
    quarter_volumes,
    time_bins,
    whole_months,
)
from survey.services.exports import local_day_start
from survey.services.periods import Period, year_before
from survey.services.reporting import rollup
from survey.services.reporting.model import AppliedTarget, ReportFilters
from survey.services.reporting.scope import (
    Hierarchy,
    applicable_target,
    load_hierarchy,
    resolve_scope,
)
from survey.storage import queries
from survey.storage import reporting as storage
from survey.storage.models import SECTORS


@dataclass(frozen=True, kw_only=True)
class PeriodCounts:
    """The overall item's counts of one period: ``counts`` per service point × quarter (columns
    of :data:`survey.storage.aggregates.COUNT_COLUMNS` with ``quarter``), every agency, the
    channel filter applied; ``window_responses`` the responses of every channel per
    (service point id, quarter) in the window the period was loaded with (a quarter's volume is
    at least that); ``volumes`` the quarters' service volumes (entered, else dossier counts)."""

    period: Period
    counts: pd.DataFrame
    window_responses: pd.Series
    volumes: pd.Series


@dataclass(frozen=True, kw_only=True)
class ElementShape:
    code: str
    name_vi: str
    name_en: str
    weight: float
    items: tuple[str, ...]  # item codes


@dataclass(frozen=True, kw_only=True)
class ItemShape:
    code: str
    text_vi: str
    text_en: str
    is_overall: bool


@dataclass(frozen=True, kw_only=True)
class SectorInputs:
    """What the details of one sector need: its active questionnaire's shape, the respondent
    sums of its elements (:func:`survey.storage.reporting.respondent_sums`) and the answers per
    value of every item, per service point × quarter of the period."""

    sector: str
    elements: tuple[ElementShape, ...]
    items: tuple[ItemShape, ...]
    sums: pd.DataFrame
    values: pd.DataFrame


@dataclass(frozen=True, kw_only=True)
class CommentRow:
    moment: dt.datetime  # aware
    text: str
    agency: str  # code


@dataclass(frozen=True, kw_only=True)
class PointInfo:
    public_code: str
    name_vi: str
    name_en: str
    agency: str  # code
    active: bool


@dataclass(frozen=True, kw_only=True)
class ReportInputs:
    """Everything :func:`survey.services.reporting.compute.compute_report` reads."""

    scope_kind: str
    scope_key: str
    title_vi: str
    title_en: str
    period: Period
    filters: ReportFilters
    hierarchy: Hierarchy
    codes: frozenset[str]  # agencies of the scope the reader may see, with the filters
    allowed: frozenset[str]  # every agency the filters keep (benchmarks compare with them)
    targets: dict[str, AppliedTarget | None]  # per sector, in force at the period's end
    points: tuple[PointInfo, ...]
    current: PeriodCounts
    previous: PeriodCounts
    year_ago: PeriodCounts | None  # None for a year: the previous period is the year before
    details: tuple[SectorInputs, ...]
    comments: tuple[CommentRow, ...]


def period_bins(period: Period) -> list[TimeBin]:
    """The quarters' parts of one period (its first day and every quarter start inside it)."""
    starts = {period.first}
    day = next_quarter(period.first)
    while day <= period.last:
        starts.add(day)
        day = next_quarter(day)
    return [TimeBin(first=d, quarter=quarter_label(d), current=True) for d in sorted(starts)]


def _period_counts(
    session: Session, periods: Sequence[Period], channel: str | None
) -> list[PeriodCounts]:
    """The counts of consecutive ``periods`` loaded as one window (the row-level reports' window:
    a quarter's volume is raised to its responses in the whole window)."""
    last = periods[-1]
    bins = time_bins(last) if len(periods) == 2 else period_bins(last)
    after = last.last + dt.timedelta(days=1)
    every = counts_in(session, bins, after)
    chosen = every if channel is None else counts_in(session, bins, after, channel=channel)
    quarter = {k: b.quarter for k, b in enumerate(bins)}
    volumes = quarter_volumes(session, bins, last.last, None)
    window = (
        every.assign(quarter=every["bin"].map(quarter))
        .groupby(["service_point_id", "quarter"])["responses"]
        .sum()
    )
    chosen = chosen.assign(
        quarter=chosen["bin"].map(quarter),
        current=chosen["bin"].map({k: b.current for k, b in enumerate(bins)}),
    )
    out = []
    for k, period in enumerate(periods):
        part = chosen[chosen["current"] == (k == len(periods) - 1)] if len(periods) == 2 else chosen
        out.append(
            PeriodCounts(
                period=period,
                counts=part.drop(columns=["current"]).reset_index(drop=True),
                window_responses=window,
                volumes=volumes,
            )
        )
    return out


def _sector_inputs(
    session: Session,
    sector: str,
    period: Period,
    agency_ids: Collection[int],
    channel: str | None,
) -> SectorInputs:
    questionnaire = queries.active_questionnaire(session, sector)
    if questionnaire is None:
        return SectorInputs(
            sector=sector, elements=(), items=(), sums=pd.DataFrame(), values=pd.DataFrame()
        )
    elements = tuple(
        ElementShape(
            code=el.code,
            name_vi=el.name_vi,
            name_en=el.name_en,
            weight=el.weight,
            items=tuple(item.code for item in el.items),
        )
        for el in questionnaire.elements
    )
    items = tuple(
        ItemShape(
            code=item.code, text_vi=item.text_vi, text_en=item.text_en, is_overall=item.is_overall
        )
        for item in questionnaire.items
    )
    bins = period_bins(period)
    starts = [local_day_start(b.first) for b in bins]
    end = local_day_start(period.last + dt.timedelta(days=1))
    shape = storage.ElementItems(
        elements=tuple(el.items for el in elements),
        comprehensive=tuple(item.code for item in items if not item.is_overall),
    )
    quarter = {k: b.quarter for k, b in enumerate(bins)}
    months, days = whole_months(bins, period.last + dt.timedelta(days=1))
    sums = rollup.respondent_sums(
        session,
        items=shape,
        bin_starts=[b.first for b in bins],
        months=months,
        days=days,
        agency_ids=agency_ids,
        channel=channel,
    )
    if channel is None:  # whole months from the summaries, cut days from the answers
        parts = [
            storage.summary_value_counts(
                session, starts=[b.first for b in bins], months=months, agency_ids=agency_ids
            ),
            storage.item_value_counts(
                session,
                starts=starts,
                end=end,
                agency_ids=agency_ids,
                within=[(local_day_start(a), local_day_start(b)) for a, b in days],
            ),
        ]
        values = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
    else:
        values = storage.item_value_counts(
            session, starts=starts, end=end, agency_ids=agency_ids, channel=channel
        )
    return SectorInputs(
        sector=sector,
        elements=elements,
        items=items,
        sums=sums.assign(quarter=sums["bin"].map(quarter)),
        values=values.assign(quarter=values["bin"].map(quarter)),
    )


def load_inputs(
    session: Session,
    period: Period,
    scope_kind: str,
    scope_key: str,
    visible: frozenset[int] | None,
    filters: ReportFilters,
) -> ReportInputs:
    """Run the report's queries (a scope the reader may not see is :class:`NotFound`)."""
    hierarchy = load_hierarchy(session)
    codes, title_vi, title_en = resolve_scope(hierarchy, scope_kind, scope_key, visible)
    codes = {code for code in codes if filters.allows(hierarchy.by_code[code])}
    allowed = {code for code, agency in hierarchy.by_code.items() if filters.allows(agency)}
    previous = period.previous()
    previous_counts, current_counts = _period_counts(session, [previous, period], filters.channel)
    year_ago = None
    if period.kind != "year":
        (year_ago,) = _period_counts(session, [year_before(period)], filters.channel)
    province = hierarchy.province()
    targets = queries.all_targets(session)
    in_force = {
        sector: applicable_target(targets, sector, period, province.id if province else None)
        for sector in SECTORS
    }
    ids = {hierarchy.by_code[code].id for code in codes}
    scope_rows = current_counts.counts[current_counts.counts["agency"].isin(codes)]
    details = tuple(
        _sector_inputs(
            session,
            sector,
            period,
            {i for i in ids if hierarchy.agencies[i].sector == sector},
            filters.channel,
        )
        for sector in sorted(set(scope_rows["sector"]))
    )
    comments = storage.latest_comments(
        session,
        start=local_day_start(period.first),
        end=local_day_start(period.last + dt.timedelta(days=1)),
        agency_ids=ids,
        channel=filters.channel,
    )
    points = tuple(
        PointInfo(
            public_code=p.public_code,
            name_vi=p.name_vi,
            name_en=p.name_en,
            agency=p.agency.code,
            active=p.active,
        )
        for p in queries.all_service_points(session)
    )
    return ReportInputs(
        scope_kind=scope_kind,
        scope_key=scope_key,
        title_vi=title_vi,
        title_en=title_en,
        period=period,
        filters=filters,
        hierarchy=hierarchy,
        codes=frozenset(codes),
        allowed=frozenset(allowed),
        targets=in_force,
        points=points,
        current=current_counts,
        previous=previous_counts,
        year_ago=year_ago,
        details=details,
        comments=tuple(
            CommentRow(moment=moment, text=text, agency=agency)
            for moment, text, agency, _ in comments
        ),
    )
