"""The satisfaction index of a scope and period from the database's aggregates, not its rows.

``load`` (:func:`survey.storage.aggregates.answer_counts`: one GROUP BY per report, a few rows
per service point and quarter) → the strata of the counter design and their population sizes
(quarter volumes, clipped, prorated and imputed exactly as the row-level report does) →
:func:`analysis.aggregates.estimate_share_from_counts`. The figures equal those of
:func:`survey.services.reporting.build_report` (the headline, sectors, agencies, service points and
quarters of the same scope and period) to rounding, without reading an answer into Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from analysis import Estimate
from analysis.aggregates import estimate_share_from_counts, impute_volumes
from analysis.weights import prorate_volumes
from survey.services.dossiers.volumes import with_dossier_volumes
from survey.services.exports import local_day_start
from survey.services.periods import Period
from survey.storage import aggregates

OVERALL = "q_overall"
#: Domains the figures can be broken down by (columns of the counts).
DOMAINS = ("sector", "agency", "service_point", "period")


@dataclass(frozen=True, kw_only=True)
class TimeBin:
    """Days from ``first`` to the next bin's first day: one quarter's part inside one period."""

    first: dt.date
    quarter: str  # 2025Q3
    current: bool  # in the reported period (else in the previous one)


@dataclass(frozen=True, kw_only=True)
class OverallFigures:
    """The share satisfied overall for a scope and period, as the report's tables show it.

    ``headline``: the whole scope (None without a response in the period); ``by[domain]``: one
    estimate per sector, agency (code), service point (public code) or quarter, in the order of
    the row-level estimators. ``responses``: responses in the period, ``answered``: those with a
    valid overall answer, ``previous_answered``: the same in the previous period;
    ``volume_note``: what was assumed for strata without a recorded volume ("" if nothing);
    ``cells``: rows the database returned.
    """

    period: Period
    headline: Estimate | None
    by: dict[str, list[Estimate]] = field(default_factory=dict)
    responses: int = 0
    answered: int = 0
    previous_answered: int = 0
    volume_note: str = ""
    cells: int = 0


def quarter_label(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter(day: dt.date) -> dt.date:
    start = _quarter_start(day)
    return (
        dt.date(start.year + 1, 1, 1)
        if start.month == 10
        else dt.date(start.year, start.month + 3, 1)
    )


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def whole_months(
    bins: Sequence[TimeBin], end: dt.date
) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """The months of the window [first bin, ``end``) that lie inside it and inside one bin (read
    from the monthly summaries), and the day ranges [first, after) of the others (read from the
    answers): none for years, halves and quarters; a custom range's cut months otherwise."""
    start = bins[0].first
    boundaries = {b.first for b in bins} | {end}
    months: list[dt.date] = []
    ranges: list[tuple[dt.date, dt.date]] = []
    month = dt.date(start.year, start.month, 1)
    while month < end:
        after = _next_month(month)
        if month >= start and after <= end and not any(month < b < after for b in boundaries):
            months.append(month)
        elif ranges and ranges[-1][1] == max(month, start):
            ranges[-1] = (ranges[-1][0], min(after, end))
        else:
            ranges.append((max(month, start), min(after, end)))
        month = after
    return months, ranges


def time_bins(period: Period) -> list[TimeBin]:
    """The parts of quarters from the previous period's first day to this period's last: a bin
    starts at the previous period's start, at this period's start and at every quarter start."""
    previous = period.previous()
    starts = {previous.first, period.first}
    quarter = next_quarter(previous.first)
    while quarter <= period.last:
        starts.add(quarter)
        quarter = next_quarter(quarter)
    return [
        TimeBin(first=day, quarter=quarter_label(day), current=day >= period.first)
        for day in sorted(starts)
    ]


def quarter_volumes(
    session: Session, bins: Sequence[TimeBin], last: dt.date, agency_ids: Collection[int] | None
) -> pd.Series:
    """Service volume per (service point id, quarter): the quarter's months summed, entered
    volumes first and dossier counts for months without one (as the responses export does)."""
    months = aggregates.monthly_volumes_in(
        session,
        _quarter_start(bins[0].first),
        next_quarter(last) - dt.timedelta(days=1),
        agency_ids,
    )
    volumes = with_dossier_volumes(session, months)
    if volumes.empty:
        return pd.Series(dtype=float)
    month = pd.to_datetime(volumes["month"])
    quarter = month.dt.year.astype(str) + "Q" + month.dt.quarter.astype(str)
    return volumes.assign(quarter=quarter).groupby(["service_point_id", "quarter"])["volume"].sum()


def counts_in(
    session: Session,
    bins: Sequence[TimeBin],
    after: dt.date,
    *,
    agency_ids: Collection[int] | None = None,
    channel: str | None = None,
) -> pd.DataFrame:
    """Counts per service point × bin of [first bin, ``after``) (columns of
    :data:`survey.storage.aggregates.COUNT_COLUMNS`): whole months from the monthly summaries and
    the days of months a bin or the end cuts from the answers; only the answers when a
    ``channel`` is chosen (the summaries do not keep channels)."""
    starts = [local_day_start(b.first) for b in bins]
    end = local_day_start(after)
    if channel is not None:
        return aggregates.answer_counts(
            session, starts=starts, end=end, agency_ids=agency_ids, channel=channel
        )
    months, days = whole_months(bins, after)
    parts = [
        aggregates.summary_counts(
            session, starts=[b.first for b in bins], months=months, agency_ids=agency_ids
        ),
        aggregates.answer_counts(
            session,
            starts=starts,
            end=end,
            agency_ids=agency_ids,
            within=[(local_day_start(a), local_day_start(b)) for a, b in days],
        ),
    ]
    found = [part for part in parts if not part.empty]
    if len(found) <= 1:
        return found[0] if found else parts[0]
    both = pd.concat(found, ignore_index=True)  # a month's part from the summaries, its cut days
    return both.groupby(list(aggregates.COUNT_COLUMNS[:6]), as_index=False, sort=True).sum()


def overall_figures(
    session: Session,
    period: Period,
    agency_ids: Collection[int] | None = None,
    *,
    by: Sequence[str] = ("sector", "agency", "period"),
    min_n: int = 30,
    source: str = "summaries",
) -> OverallFigures:
    """The share satisfied with the overall item in ``period`` for the service points of
    ``agency_ids`` (None: every agency), whole and by each of ``by`` (:data:`DOMAINS`).

    Counter design as in the reports: a stratum per service point × quarter (a quarter cut by the
    period's start is two strata), its population the quarter's service volume, raised to the
    responses of the quarter in the previous and current periods, prorated to the days of the
    quarter inside the period (:func:`analysis.weights.prorate_volumes`), imputed from the median
    response rate where none is recorded (:func:`analysis.aggregates.impute_volumes`) and raised
    to the stratum's responses; lonely strata by the "adjust" rule; logit intervals.

    ``source``: ``"summaries"`` reads the monthly summaries the database keeps (migration 0010;
    one row per service point and month) and, for the days of months a custom period cuts, the
    answers; ``"answers"`` reads the responses and answers only (one GROUP BY over the period's
    answers). Both give the same figures.
    """
    unknown = set(by) - set(DOMAINS)
    if unknown:
        raise ValueError(f"unknown domain(s): {', '.join(sorted(unknown))}")
    bins = time_bins(period)
    after = period.last + dt.timedelta(days=1)
    if source == "summaries":
        counts = counts_in(session, bins, after, agency_ids=agency_ids)
    elif source == "answers":
        counts = aggregates.answer_counts(
            session,
            starts=[local_day_start(b.first) for b in bins],
            end=local_day_start(after),
            agency_ids=agency_ids,
        )
    else:
        raise ValueError(f"unknown source {source!r}: summaries or answers")
    counts["period"] = [bins[k].quarter for k in counts["bin"]]
    counts["current"] = [bins[k].current for k in counts["bin"]]
    current = counts[counts["current"]].reset_index(drop=True)
    previous_answered = int(counts.loc[~counts["current"], "answered"].sum())
    if current.empty:
        return OverallFigures(
            period=period, headline=None, previous_answered=previous_answered, cells=len(counts)
        )
    # the quarter's volume, raised to its responses in both periods (as the responses table)
    in_window = counts.groupby(["service_point_id", "period"])["responses"].sum()
    keys = pd.MultiIndex.from_frame(current[["service_point_id", "period"]])
    volume = quarter_volumes(session, bins, period.last, agency_ids).reindex(keys).to_numpy(float)
    volume = np.where(np.isnan(volume), np.nan, np.maximum(volume, in_window.reindex(keys)))
    prorated = prorate_volumes(volume, current["period"], period.first, period.last)
    imputed = impute_volumes(current["responses"], prorated)
    current["stratum"] = current["service_point"] + "|" + current["period"]
    strata = pd.DataFrame(
        {
            "stratum": current["stratum"],
            "responses": current["responses"],
            "volume": imputed.volume,
        }
    )
    note = ""
    if imputed.response_rate is not None:
        points = current.loc[imputed.imputed, "service_point"].nunique()
        note = (
            f"{points} service point(s) had no recorded service volume; their volume was "
            f"taken as responses ÷ {imputed.response_rate:.1%}, the median response rate."
        )
    table = current[["stratum", *DOMAINS, "answered", "satisfied"]]
    (headline,) = estimate_share_from_counts(table, strata, None, item=OVERALL, min_n=min_n)
    return OverallFigures(
        period=period,
        headline=headline,
        by={
            domain: estimate_share_from_counts(
                table, strata, domain, item=OVERALL, min_n=min_n, include_total=False
            )
            for domain in by
        },
        responses=int(current["responses"].sum()),
        answered=int(current["answered"].sum()),
        previous_answered=previous_answered,
        volume_note=note,
        cells=len(counts),
    )
