"""The queries of a report's details, each one GROUP BY in the database (survey/services/reporting).

The overall item's counts come from :mod:`survey.storage.aggregates` (monthly summaries where they
apply). What the summaries cannot hold is read here, still aggregated where the data lives:
answers per value of every item (:func:`item_value_counts`), the per-respondent sums of the
element indices and their products (:func:`respondent_sums`, which must see each respondent's
answers together) and the newest comments (:func:`latest_comments`). Every query takes the same
filters as the counts: a time window with its bins, the agencies in scope, a channel, and leaves
out the responses an administrator excluded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, delete, false, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from survey.storage.models import (
    Agency,
    Answer,
    AnswerMonth,
    ElementMonth,
    Item,
    Response,
    ResponseMonth,
    ServicePoint,
)


def _time_bin(starts: Sequence[dt.datetime]) -> ColumnElement[Any]:
    if len(starts) == 1:
        return literal(0)
    return case(
        *[(Response.submitted_at < start, k) for k, start in enumerate(starts[1:])],
        else_=len(starts) - 1,
    )


def _response_filters(
    starts: Sequence[dt.datetime],
    end: dt.datetime,
    agency_ids: Collection[int] | None,
    channel: str | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Response.submitted_at >= starts[0],
        Response.submitted_at < end,
        Response.excluded.is_(False),
    ]
    if agency_ids is not None:
        conditions.append(
            Response.service_point_id.in_(
                select(ServicePoint.id).where(ServicePoint.agency_id.in_(sorted(agency_ids)))
            )
        )
    if channel is not None:
        conditions.append(Response.channel == channel)
    return conditions


def _ranges(within: Sequence[tuple[dt.datetime, dt.datetime]] | None) -> list[ColumnElement[bool]]:
    """Responses of the [start, end) ranges (none: nothing; None: no condition)."""
    if within is None:
        return []
    if not within:
        return [false()]
    return [or_(*[and_(Response.submitted_at >= a, Response.submitted_at < b) for a, b in within])]


VALUE_COLUMNS = ["service_point_id", "bin", "code", *[f"value_{v}" for v in range(1, 6)]]


def _value_frame(rows: Any) -> pd.DataFrame:
    frame = pd.DataFrame.from_records([tuple(row) for row in rows], columns=VALUE_COLUMNS)
    for column in VALUE_COLUMNS[3:]:
        frame[column] = frame[column].astype("int64")
    return frame


def summary_value_counts(
    session: Session,
    *,
    starts: Sequence[dt.date],
    months: Sequence[dt.date],
    agency_ids: Collection[int] | None = None,
) -> pd.DataFrame:
    """:func:`item_value_counts` of whole months from the monthly summaries (``answer_month``,
    kept by triggers: migration 0010): one row per service point, month and item read."""
    if not months:
        return _value_frame([])
    bin_of = (
        case(
            *[(AnswerMonth.month < start, k) for k, start in enumerate(starts[1:])],
            else_=len(starts) - 1,
        )
        if len(starts) > 1
        else literal(0)
    ).label("bin")
    query = (
        select(
            AnswerMonth.service_point_id,
            bin_of,
            Item.code,
            *[func.sum(getattr(AnswerMonth, f"value_{v}")) for v in range(1, 6)],
        )
        .join(Item, Item.id == AnswerMonth.item_id)
        .where(AnswerMonth.month.in_(sorted(months)))
        .group_by(AnswerMonth.service_point_id, bin_of, Item.code)
    )
    if agency_ids is not None:
        query = query.where(
            AnswerMonth.service_point_id.in_(
                select(ServicePoint.id).where(ServicePoint.agency_id.in_(sorted(agency_ids)))
            )
        )
    return _value_frame(session.execute(query))


def item_value_counts(
    session: Session,
    *,
    starts: Sequence[dt.datetime],
    end: dt.datetime,
    agency_ids: Collection[int] | None = None,
    channel: str | None = None,
    within: Sequence[tuple[dt.datetime, dt.datetime]] | None = None,
) -> pd.DataFrame:
    """Answers of each value 1–5 per service point, time bin and item code: columns
    ``service_point_id``, ``bin``, ``code``, ``value_1`` … ``value_5`` (blank answers — not
    applicable — are not counted). ``within``: only these [start, end) ranges."""
    if within is not None and not within:
        return _value_frame([])
    value = Answer.value
    time_bin = _time_bin(starts).label("bin")
    query = (
        select(
            Response.service_point_id,
            time_bin,
            Item.code,
            *[func.sum(case((value == v, 1), else_=0)).label(f"value_{v}") for v in range(1, 6)],
        )
        .select_from(Response)
        .join(Answer, Answer.response_id == Response.id)
        .join(Item, Item.id == Answer.item_id)
        .where(*_response_filters(starts, end, agency_ids, channel), value.is_not(None))
        .group_by(Response.service_point_id, time_bin, Item.code)
    )
    return _value_frame(session.execute(query.where(*_ranges(within))))


@dataclass(frozen=True, kw_only=True)
class ElementItems:
    """The item codes of a questionnaire's elements, in order, and those of the comprehensive
    index (every item but the overall one)."""

    elements: tuple[tuple[str, ...], ...]
    comprehensive: tuple[str, ...]


def respondent_sums(
    session: Session,
    *,
    starts: Sequence[dt.datetime],
    end: dt.datetime,
    items: ElementItems,
    agency_ids: Collection[int] | None = None,
    channel: str | None = None,
    satisfied_from: int = 4,
    within: Sequence[tuple[dt.datetime, dt.datetime]] | None = None,
) -> pd.DataFrame:
    """Per service point and time bin: ``responses``; for each element k the respondents with a
    valid answer in it (``answered<k>``), those with one in any element (``answered_any``); the
    sums ``x<j>`` of x = (satisfied answers per element, valid answers per element) and of their
    products ``xx<j>_<l>`` (:func:`analysis.aggregate_details.sum_columns`); and the respondents
    with a valid answer among the comprehensive items (``comprehensive_answered``) and those
    satisfied with every one they answered (``comprehensive_satisfied``).

    Two GROUP BYs in the database: per response (its answers side by side), then per point and
    bin; every response of the window counts, answered or not. ``within``: only the responses
    of these [start, end) ranges (None: the whole window).
    """
    value = Answer.value
    valid = value.is_not(None)
    satisfied = value >= satisfied_from
    time_bin = _time_bin(starts).label("bin")
    wanted = {code for codes in items.elements for code in codes} | set(items.comprehensive)
    ids: dict[str, list[int]] = {}
    for item_id, code in session.execute(
        select(Item.id, Item.code).where(Item.code.in_(sorted(wanted)))
    ):
        ids.setdefault(code, []).append(item_id)

    def count(codes: Sequence[str], condition: ColumnElement[bool]) -> ColumnElement[Any]:
        chosen = sorted(i for code in codes for i in ids.get(code, []))
        if not chosen:
            return literal(0)
        return func.coalesce(
            func.sum(case((and_(Answer.item_id.in_(chosen), condition), 1), else_=0)), 0
        )

    every = sorted(i for found in ids.values() for i in found)
    k_el = len(items.elements)
    per_response = (
        select(
            Response.service_point_id.label("point"),
            time_bin,
            *[count(codes, satisfied).label(f"a{k}") for k, codes in enumerate(items.elements)],
            *[count(codes, valid).label(f"b{k}") for k, codes in enumerate(items.elements)],
            count(items.comprehensive, valid).label("cv"),
            count(items.comprehensive, satisfied).label("cs"),
        )
        .select_from(Response)
        .outerjoin(Answer, and_(Answer.response_id == Response.id, Answer.item_id.in_(every)))
        .where(*_response_filters(starts, end, agency_ids, channel), *_ranges(within))
        .group_by(Response.id, Response.service_point_id, time_bin)
        .subquery("per_response")
    )
    c = per_response.c
    x = [c[f"a{k}"] for k in range(k_el)] + [c[f"b{k}"] for k in range(k_el)]
    one = literal(1)
    any_valid = sum((c[f"b{k}"] for k in range(k_el)), literal(0))
    columns: list[ColumnElement[Any]] = [
        func.count().label("responses"),
        *[
            func.sum(case((c[f"b{k}"] > 0, one), else_=0)).label(f"answered{k}")
            for k in range(k_el)
        ],
        func.sum(case((any_valid > 0, one), else_=0)).label("answered_any"),
        *[func.sum(v).label(f"x{j}") for j, v in enumerate(x)],
        *[
            func.sum(x[j] * x[m]).label(f"xx{j}_{m}")
            for j in range(len(x))
            for m in range(j, len(x))
        ],
        func.sum(case((c.cv > 0, one), else_=0)).label("comprehensive_answered"),
        func.sum(case((and_(c.cv > 0, c.cs == c.cv), one), else_=0)).label(
            "comprehensive_satisfied"
        ),
    ]
    query = select(c.point, c.bin, *columns).group_by(c.point, c.bin).order_by(c.point, c.bin)
    result = session.execute(query)
    names = ["service_point_id", "bin", *[column.name for column in columns]]
    frame = pd.DataFrame.from_records([tuple(row) for row in result], columns=names)
    for name in names[2:]:
        frame[name] = frame[name].astype("int64")
    return frame


def latest_comments(
    session: Session,
    *,
    start: dt.datetime,
    end: dt.datetime,
    agency_ids: Collection[int] | None = None,
    channel: str | None = None,
    limit: int = 20,
) -> list[tuple[dt.datetime, str, str, str]]:
    """The newest ``limit`` comments of the window: (moment, comment, agency code, its
    Vietnamese name), newest first."""
    query = (
        select(Response.submitted_at, Response.comment, Agency.code, Agency.name_vi)
        .join(ServicePoint, ServicePoint.id == Response.service_point_id)
        .join(Agency, Agency.id == ServicePoint.agency_id)
        .where(*_response_filters([start], end, agency_ids, channel), Response.comment.is_not(None))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1] or "", row[2], row[3]) for row in session.execute(query)]


def month_counts(
    session: Session, *, months: Sequence[dt.date], agency_ids: Collection[int] | None = None
) -> pd.DataFrame:
    """Per service point and month of ``months``: ``responses`` (not excluded) and ``answers``
    (answers 1–5 to any item) from the monthly summaries — what an element roll-up row must still
    match to be read."""
    if not months:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64") for c in ("service_point_id", "responses", "answers")}
        ).assign(month=pd.Series(dtype=object))
    answers = (
        select(
            AnswerMonth.service_point_id.label("point"),
            AnswerMonth.month.label("month"),
            func.sum(
                AnswerMonth.value_1
                + AnswerMonth.value_2
                + AnswerMonth.value_3
                + AnswerMonth.value_4
                + AnswerMonth.value_5
            ).label("answers"),
        )
        .where(AnswerMonth.month.in_(sorted(months)))
        .group_by(AnswerMonth.service_point_id, AnswerMonth.month)
        .subquery("answers")
    )
    query = (
        select(
            ResponseMonth.service_point_id,
            ResponseMonth.month,
            ResponseMonth.responses,
            func.coalesce(answers.c.answers, 0),
        )
        .outerjoin(
            answers,
            and_(
                answers.c.point == ResponseMonth.service_point_id,
                answers.c.month == ResponseMonth.month,
            ),
        )
        .where(ResponseMonth.month.in_(sorted(months)), ResponseMonth.responses > 0)
    )
    if agency_ids is not None:
        query = query.where(
            ResponseMonth.service_point_id.in_(
                select(ServicePoint.id).where(ServicePoint.agency_id.in_(sorted(agency_ids)))
            )
        )
    frame = pd.DataFrame.from_records(
        [tuple(row) for row in session.execute(query)],
        columns=["service_point_id", "month", "responses", "answers"],
    )
    for column in ("responses", "answers"):
        frame[column] = frame[column].astype("int64")
    return frame


def element_months(
    session: Session,
    *,
    shape: str,
    months: Sequence[dt.date],
    agency_ids: Collection[int] | None = None,
) -> pd.DataFrame:
    """The roll-up rows of ``shape`` for ``months``: ``service_point_id``, ``month``,
    ``responses``, ``answers`` and ``sums`` (a dict per row)."""
    query = select(
        ElementMonth.service_point_id,
        ElementMonth.month,
        ElementMonth.responses,
        ElementMonth.answers,
        ElementMonth.sums,
    ).where(ElementMonth.shape == shape, ElementMonth.month.in_(sorted(months)))
    if agency_ids is not None:
        query = query.where(
            ElementMonth.service_point_id.in_(
                select(ServicePoint.id).where(ServicePoint.agency_id.in_(sorted(agency_ids)))
            )
        )
    return pd.DataFrame.from_records(
        [tuple(row) for row in session.execute(query)] if months else [],
        columns=["service_point_id", "month", "responses", "answers", "sums"],
    )


def summary_months(session: Session) -> list[dt.date]:
    """The months (first days) with a response, from the monthly summaries."""
    return list(
        session.scalars(
            select(ResponseMonth.month)
            .where(ResponseMonth.responses > 0)
            .distinct()
            .order_by(ResponseMonth.month)
        )
    )


def delete_element_months(
    session: Session, *, shape: str, pairs: Sequence[tuple[int, dt.date]]
) -> None:
    """Remove the roll-up rows of ``shape`` for these (service point id, month) pairs."""
    for month in sorted({month for _, month in pairs}):
        points = sorted(int(point) for point, m in pairs if m == month)
        session.execute(
            delete(ElementMonth).where(
                ElementMonth.shape == shape,
                ElementMonth.month == month,
                ElementMonth.service_point_id.in_(points),
            )
        )


def save_element_months(session: Session, *, shape: str, rows: pd.DataFrame) -> None:
    """Replace the roll-up rows of ``shape`` for the (service point, month) pairs of ``rows``
    (columns as :func:`element_months`)."""
    if rows.empty:
        return
    pairs = list(zip(rows["service_point_id"].astype(int), rows["month"], strict=True))
    delete_element_months(session, shape=shape, pairs=pairs)
    session.execute(
        insert(ElementMonth),
        [
            {
                "service_point_id": int(row.service_point_id),
                "month": row.month,
                "shape": shape,
                "responses": int(row.responses),
                "answers": int(row.answers),
                "sums": {key: int(value) for key, value in row.sums.items()},
            }
            for row in rows.itertuples()
        ],
    )
