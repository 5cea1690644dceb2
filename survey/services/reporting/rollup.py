"""Element roll-ups: the details' per-respondent sums kept per service point and month.

The element indices, the composite and comprehensive satisfaction need each respondent's answers
side by side (:func:`survey.storage.reporting.respondent_sums`), which the monthly summaries cannot
hold. :func:`roll_up` stores those sums per service point, month and element structure
(``element_month``); a report reads a month from there when every stored row of the month still
matches the monthly summaries' counts (kept by triggers in the insert's transaction), and from
the answers otherwise — so a report is exact whether or not the roll-up ran, and fast when it
did. Run it from cron (``flask roll-up-reports``, e.g. every 15 minutes: then at most the
current quarter-hour's month is read from the answers); the demo rolls up after loading.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from bisect import bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from survey.services.exports import local_day_start
from survey.storage import queries
from survey.storage import reporting as storage
from survey.storage.models import SECTORS

KEYS = ["service_point_id", "bin"]


@dataclass(frozen=True, kw_only=True)
class RollUp:
    """What :func:`roll_up` wrote: rows (service point × month × structure) and months."""

    rows: int
    months: int


def shape_of(items: storage.ElementItems) -> str:
    """A digest naming an element structure (its elements' item codes, the comprehensive items)."""
    text = json.dumps([list(map(list, items.elements)), list(items.comprehensive)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def element_items(session: Session, sector: str) -> storage.ElementItems | None:
    """The element structure of the sector's active questionnaire (None without one)."""
    questionnaire = queries.active_questionnaire(session, sector)
    if questionnaire is None:
        return None
    return storage.ElementItems(
        elements=tuple(tuple(item.code for item in el.items) for el in questionnaire.elements),
        comprehensive=tuple(item.code for item in questionnaire.items if not item.is_overall),
    )


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_range(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local_day_start(month), local_day_start(next_month(month))


def roll_up(session: Session, *, months: Sequence[dt.date] | None = None) -> RollUp:
    """Store the per-respondent sums of every (service point, month) whose stored row is missing
    or stale, for each sector's active element structure; ``months`` limits the months (their
    first days; default: every month with a response)."""
    if months is None:
        months = storage.summary_months(session)
    written = 0
    touched: set[dt.date] = set()
    agencies = queries.all_agencies(session)
    for sector in SECTORS:
        items = element_items(session, sector)
        ids = [a.id for a in agencies if a.sector == sector]
        if items is None or not ids or not months:
            continue
        shape = shape_of(items)
        counts = storage.month_counts(session, months=months, agency_ids=ids)
        stored = storage.element_months(session, shape=shape, months=months, agency_ids=ids)
        stale = _stale(counts, stored)
        orphans = stale[stale["responses"].isna()]
        storage.delete_element_months(
            session,
            shape=shape,
            pairs=list(zip(orphans["service_point_id"], orphans["month"], strict=True)),
        )
        stale = stale[stale["responses"].notna()]
        for month, rows in stale.groupby("month"):
            start, end = _month_range(month)
            sums = storage.respondent_sums(
                session, starts=[start], end=end, items=items, agency_ids=ids
            )
            sums = sums[sums["service_point_id"].isin(set(rows["service_point_id"]))]
            answers = rows.set_index("service_point_id")["answers"]
            columns = [c for c in sums.columns if c not in KEYS]
            out = pd.DataFrame(
                {
                    "service_point_id": sums["service_point_id"],
                    "month": month,
                    "responses": sums["responses"],
                    "answers": sums["service_point_id"].map(answers),
                    "sums": [
                        dict(zip(columns, values, strict=True))
                        for values in sums[columns].itertuples(index=False, name=None)
                    ],
                }
            )
            storage.save_element_months(session, shape=shape, rows=out)
            written += len(out)
            touched.add(month)
    session.flush()
    return RollUp(rows=written, months=len(touched))


def _stale(counts: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """The (point, month) pairs whose stored row does not match the summaries' counts: rows of
    ``counts`` without a matching stored row, and stored rows of a point and month that no
    longer has a response (their ``responses`` blank)."""
    merged = counts.merge(
        stored[["service_point_id", "month", "responses", "answers"]],
        on=["service_point_id", "month"],
        how="outer",
        suffixes=("", "_stored"),
    )
    fresh = (merged["responses"] == merged["responses_stored"]) & (
        merged["answers"] == merged["answers_stored"]
    )
    return merged.loc[~fresh, ["service_point_id", "month", "responses", "answers"]]


def respondent_sums(
    session: Session,
    *,
    items: storage.ElementItems,
    bin_starts: Sequence[dt.date],
    months: Sequence[dt.date],
    days: Sequence[tuple[dt.date, dt.date]],
    agency_ids: Collection[int],
    channel: str | None,
) -> pd.DataFrame:
    """:func:`survey.storage.reporting.respondent_sums` per service point × bin of a period:
    whole months from the roll-ups where every stored row of the month is fresh, the rest
    (other months, the days of months the period cuts, or everything when a channel is chosen)
    from the answers."""
    starts = [local_day_start(day) for day in bin_starts]
    end = local_day_start(max([next_month(m) for m in months] + [b for _, b in days]))
    if channel is not None:
        return storage.respondent_sums(
            session, starts=starts, end=end, items=items, agency_ids=agency_ids, channel=channel
        )
    shape = shape_of(items)
    counts = storage.month_counts(session, months=months, agency_ids=agency_ids)
    stored = storage.element_months(session, shape=shape, months=months, agency_ids=agency_ids)
    stale_months = set(_stale(counts, stored)["month"])
    rolled = stored[~stored["month"].isin(stale_months)]
    ranges = [(local_day_start(a), local_day_start(b)) for a, b in days]
    ranges += [_month_range(m) for m in sorted(stale_months)]
    parts = []
    if ranges:
        parts.append(
            storage.respondent_sums(
                session, starts=starts, end=end, items=items, agency_ids=agency_ids, within=ranges
            )
        )
    if not rolled.empty:
        frame = pd.DataFrame(list(rolled["sums"]))
        frame.insert(0, "service_point_id", rolled["service_point_id"].to_numpy())
        frame.insert(1, "bin", [bisect_right(list(bin_starts), m) - 1 for m in rolled["month"]])
        parts.append(frame)
    found = [part for part in parts if not part.empty]
    if not found:
        return (
            parts[0]
            if parts
            else storage.respondent_sums(
                session, starts=starts, end=end, items=items, agency_ids=agency_ids, within=[]
            )
        )
    both = pd.concat(found, ignore_index=True)
    return both.groupby(KEYS, as_index=False, sort=True).sum().astype("int64")
