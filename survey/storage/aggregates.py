"""Sufficient statistics of the reports' indices, computed where the data lives (GROUP BY).

One query per report returns, per service point × time bin, the responses and the counts and sums
of their answers to one item — a few rows per stratum instead of every response and answer — for
:mod:`analysis.aggregates` to turn into estimates. The filters the row-level path applies in
pandas (time window, agencies in scope, responses an administrator excluded) are in the WHERE
clause; the same SQL runs on SQLite and PostgreSQL. :func:`answer_counts` reads the responses and
answers (any instant as a bin boundary); :func:`summary_counts` the same numbers for whole months
from the monthly summaries the database keeps, whose size does not grow with responses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from survey.storage.models import (
    Agency,
    Answer,
    AnswerMonth,
    Item,
    Response,
    ResponseMonth,
    ServicePoint,
    ServiceVolume,
)

#: Columns of :func:`answer_counts`.
COUNT_COLUMNS = (
    "service_point_id",
    "service_point",
    "agency_id",
    "agency",
    "sector",
    "bin",
    "responses",
    "answered",
    "satisfied",
    "score_sum",
    "score_squares",
)


def _time_bin(starts: Sequence[dt.datetime]) -> ColumnElement[Any]:
    """The index k of the bin [starts[k], starts[k + 1]) a response was submitted in."""
    if len(starts) == 1:
        return literal(0)
    return case(
        *[(Response.submitted_at < start, k) for k, start in enumerate(starts[1:])],
        else_=len(starts) - 1,
    )


def answer_counts(
    session: Session,
    *,
    starts: Sequence[dt.datetime],
    end: dt.datetime,
    agency_ids: Collection[int] | None = None,
    item_code: str = "overall",
    satisfied_from: int = 4,
    within: Sequence[tuple[dt.datetime, dt.datetime]] | None = None,
    channel: str | None = None,
) -> pd.DataFrame:
    """Responses submitted in [``starts[0]``, ``end``) per service point and time bin, with the
    counts and sums of their answers to the item coded ``item_code``.

    ``starts``: the bins' first instants (aware, ascending); a response belongs to the last bin
    that starts at or before it. ``agency_ids``: the service points' agencies to count (None:
    every agency). Excluded responses are left out (as in reports); flagged but undecided ones
    count. Columns (:data:`COUNT_COLUMNS`): the point's id and public code, its agency's id, code
    and sector, ``bin``, ``responses`` (all of them, answered or not), ``answered`` (a 1–5
    answer, not "not applicable"), ``satisfied`` (answers ≥ ``satisfied_from``), ``score_sum`` and
    ``score_squares`` (Σx and Σx² of the answers). One row per point and bin with a response.
    ``within``: only the responses of these [start, end) ranges (None: the whole window).
    ``channel``: only the responses that came by this channel (None: every channel).
    """
    if not starts:
        raise ValueError("give at least one time bin")
    items = session.scalars(select(Item.id).where(Item.code == item_code)).all()
    time_bin = _time_bin(starts).label("bin")
    value = Answer.value
    per_point = (
        select(
            Response.service_point_id,
            time_bin,
            func.count(Response.id).label("responses"),
            func.count(value).label("answered"),
            func.coalesce(func.sum(case((value >= satisfied_from, 1), else_=0)), 0).label(
                "satisfied"
            ),
            func.coalesce(func.sum(value), 0).label("score_sum"),
            func.coalesce(func.sum(value * value), 0).label("score_squares"),
        )
        .select_from(Response)
        .outerjoin(Answer, and_(Answer.response_id == Response.id, Answer.item_id.in_(items)))
        .where(
            Response.submitted_at >= starts[0],
            Response.submitted_at < end,
            Response.excluded.is_(False),
        )
        .group_by(Response.service_point_id, time_bin)
    )
    if agency_ids is not None:
        per_point = per_point.where(
            Response.service_point_id.in_(
                select(ServicePoint.id).where(ServicePoint.agency_id.in_(sorted(agency_ids)))
            )
        )
    if channel is not None:
        per_point = per_point.where(Response.channel == channel)
    if within is not None:
        if not within:
            return pd.DataFrame({c: pd.Series(dtype="int64") for c in COUNT_COLUMNS})
        per_point = per_point.where(
            or_(*[and_(Response.submitted_at >= a, Response.submitted_at < b) for a, b in within])
        )
    counts = per_point.subquery("counts")
    return _with_points(session, counts, counts.c.service_point_id)


def _month_bin(month: Any, starts: Sequence[dt.date]) -> ColumnElement[Any]:
    if len(starts) == 1:
        return literal(0)
    return case(*[(month < start, k) for k, start in enumerate(starts[1:])], else_=len(starts) - 1)


def summary_counts(
    session: Session,
    *,
    starts: Sequence[dt.date],
    months: Sequence[dt.date],
    agency_ids: Collection[int] | None = None,
    item_code: str = "overall",
    satisfied_from: int = 4,
) -> pd.DataFrame:
    """:func:`answer_counts` of whole calendar months (Vietnam time), read from the monthly
    summaries (``response_month``, ``answer_month``, kept by triggers: migration 0010) instead
    of the responses and answers: one row per service point and month, however many responses.

    ``months``: the months to count (their first days), each inside one bin; ``starts``: the
    bins' first days, ascending (a month belongs to the last bin starting on or before it).
    """
    if not starts:
        raise ValueError("give at least one time bin")
    if not months:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in COUNT_COLUMNS})
    items = session.scalars(select(Item.id).where(Item.code == item_code)).all()
    values = [getattr(AnswerMonth, f"value_{k}") for k in range(1, 6)]
    zero = literal(0)
    responses = select(
        ResponseMonth.service_point_id.label("point"),
        _month_bin(ResponseMonth.month, starts).label("bin"),
        ResponseMonth.responses.label("responses"),
        zero.label("answered"),
        zero.label("satisfied"),
        zero.label("score_sum"),
        zero.label("score_squares"),
    ).where(ResponseMonth.month.in_(sorted(months)))
    answers = select(
        AnswerMonth.service_point_id,
        _month_bin(AnswerMonth.month, starts),
        zero,
        sum(values, zero),
        sum(values[satisfied_from - 1 :], zero),
        sum((k * v for k, v in enumerate(values, start=1)), zero),
        sum((k * k * v for k, v in enumerate(values, start=1)), zero),
    ).where(AnswerMonth.month.in_(sorted(months)), AnswerMonth.item_id.in_(items))
    if agency_ids is not None:
        points = select(ServicePoint.id).where(ServicePoint.agency_id.in_(sorted(agency_ids)))
        responses = responses.where(ResponseMonth.service_point_id.in_(points))
        answers = answers.where(AnswerMonth.service_point_id.in_(points))
    both = union_all(responses, answers).subquery("months")
    counts = (
        select(
            both.c.point,
            both.c.bin,
            *[
                func.sum(both.c[name]).label(name)
                for name in ("responses", "answered", "satisfied", "score_sum", "score_squares")
            ],
        )
        .group_by(both.c.point, both.c.bin)
        .having(func.sum(both.c.responses) > 0)  # rows emptied by exclusions stay at 0
        .subquery("counts")
    )
    return _with_points(session, counts, counts.c.point)


def _with_points(session: Session, counts: Any, point: Any) -> pd.DataFrame:
    """The counts with their service point's code and agency, as :data:`COUNT_COLUMNS`."""
    rows = session.execute(
        select(
            ServicePoint.id,
            ServicePoint.public_code,
            Agency.id,
            Agency.code,
            Agency.sector,
            counts.c.bin,
            counts.c.responses,
            counts.c.answered,
            counts.c.satisfied,
            counts.c.score_sum,
            counts.c.score_squares,
        )
        .join(ServicePoint, ServicePoint.id == point)
        .join(Agency, Agency.id == ServicePoint.agency_id)
        .order_by(ServicePoint.id, counts.c.bin)
    ).all()
    frame = pd.DataFrame.from_records([tuple(row) for row in rows], columns=list(COUNT_COLUMNS))
    for column in COUNT_COLUMNS[5:]:
        frame[column] = frame[column].astype("int64")
    return frame


def monthly_volumes_in(
    session: Session, first: dt.date, last: dt.date, agency_ids: Collection[int] | None = None
) -> pd.DataFrame:
    """Entered service volumes (service_point_id, month, volume) of the months ``first``..``last``
    (first days of months, inclusive) at the service points of ``agency_ids`` (None: all)."""
    query = select(ServiceVolume.service_point_id, ServiceVolume.month, ServiceVolume.volume).where(
        ServiceVolume.month >= first, ServiceVolume.month <= last
    )
    if agency_ids is not None:
        query = query.where(
            ServiceVolume.service_point_id.in_(
                select(ServicePoint.id).where(ServicePoint.agency_id.in_(sorted(agency_ids)))
            )
        )
    return pd.DataFrame.from_records(
        [tuple(row) for row in session.execute(query)],
        columns=["service_point_id", "month", "volume"],
    )
