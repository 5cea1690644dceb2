"""The responses export read as a stream: small lookups first, then one row per response.

The whole-table export (``survey.services.exports.responses_table``) loads every response and
answer into pandas; the file export instead reads

* :func:`stratum_counts`: responses per service point and quarter (one GROUP BY), the
  denominators of the weights, known before the first row is written;
* :func:`point_labels`, :func:`questionnaire_labels`, :func:`item_ids_by_code`: the few hundred
  rows that name points, agencies, questionnaires and items;
* :func:`response_rows`: one row per response in id order with its answers pivoted by the
  database, read through a server-side cursor in batches, so that memory does not grow with the
  responses.

Quarters and wall-clock times are Vietnam's (UTC+7, no daylight saving) and computed by the
database with one expression per engine, the same for the counts and for the rows, so a response
is always counted in the stratum it is written in. Times are cut to the second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Row,
    String,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from survey.storage.models import (
    Agency,
    Answer,
    Item,
    Questionnaire,
    Response,
    ServicePoint,
)

#: Rows fetched from the cursor at a time.
BATCH_ROWS = 10_000

#: Columns of :func:`response_rows`; one or more packed answer columns follow.
ROW_COLUMNS = (
    "id",
    "service_point_id",
    "questionnaire_id",
    "channel",
    "period",
    "submitted_at",
    "comment",
)

#: Answer columns packed into one integer (digits 0–6: 6 × 10¹⁸ + … fits a signed 64-bit sum).
PACKED_DIGITS = 18
NOT_APPLICABLE_DIGIT = 6


def _filters(
    start: dt.datetime | None, end: dt.datetime | None, include_excluded: bool
) -> list[ColumnElement[bool]]:
    """Submitted in [start, end) (either open); excluded responses only if asked for."""
    conditions: list[ColumnElement[bool]] = []
    if start is not None:
        conditions.append(Response.submitted_at >= start)
    if end is not None:
        conditions.append(Response.submitted_at < end)
    if not include_excluded:
        conditions.append(Response.excluded.is_(False))
    return conditions


def _vietnam_wall_clock(dialect: str) -> tuple[ColumnElement[str], ColumnElement[str]]:
    """(``2025Q3``, ``2025-07-01T08:30:00+0700``): quarter and time of ``submitted_at`` in
    Vietnam, cut to the second.

    PostgreSQL: the stored instant as UTC wall clock plus seven hours (a fixed offset, as the
    summaries of migration 0010 do). SQLite keeps ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC text; its
    first 19 characters are read with the ``+7 hours`` modifier.
    """
    if dialect == "postgresql":
        utc = func.timezone(_constant("UTC"), Response.submitted_at)
        local = utc + literal_column("interval '7 hours'")
        return (
            func.to_char(local, _constant('YYYY"Q"Q'), type_=String),
            func.to_char(local, _constant('YYYY-MM-DD"T"HH24:MI:SS"+0700"'), type_=String),
        )
    seven_hours = _constant("+7 hours")
    utc_text = func.substr(Response.submitted_at, _integer(1), _integer(19))
    month = cast(func.strftime(_constant("%m"), utc_text, seven_hours), Integer)
    year = func.strftime(_constant("%Y"), utc_text, seven_hours, type_=String)
    quarter = year + _constant("Q") + cast((month + _integer(2)) // _integer(3), String)
    clock = func.strftime(_constant("%Y-%m-%dT%H:%M:%S+0700"), utc_text, seven_hours, type_=String)
    return quarter, clock


def _integer(value: int) -> ColumnElement[int]:
    """An integer written into the statement rather than bound (a constant of the query)."""
    return literal_column(str(int(value)), Integer)


def _constant(text: str) -> ColumnElement[str]:
    """A text written into the statement rather than bound (a constant of the query)."""
    return literal_column("'" + text.replace("'", "''") + "'", String)


def stratum_counts(
    session: Session,
    start: dt.datetime | None,
    end: dt.datetime | None,
    include_excluded: bool = False,
) -> dict[tuple[int, str], int]:
    """Responses per (service point id, quarter label like ``2025Q3``) among those
    :func:`response_rows` returns."""
    quarter, _ = _vietnam_wall_clock(session.get_bind().dialect.name)
    label = quarter.label("period")
    rows = session.execute(
        select(Response.service_point_id, label, func.count())
        .where(*_filters(start, end, include_excluded))
        .group_by(Response.service_point_id, label)
    )
    return {(point_id, period): count for point_id, period, count in rows}


def point_labels(session: Session) -> Sequence[Row[int, str, str, str, str, str]]:
    """(service point id, public code, agency code, agency name, level, sector) of every point."""
    return session.execute(
        select(
            ServicePoint.id,
            ServicePoint.public_code,
            Agency.code,
            Agency.name_vi,
            Agency.level,
            Agency.sector,
        ).join(Agency, ServicePoint.agency_id == Agency.id)
    ).all()


def questionnaire_labels(session: Session) -> Sequence[Row[int, str, int]]:
    """(questionnaire id, code, version) of every questionnaire."""
    return session.execute(
        select(Questionnaire.id, Questionnaire.code, Questionnaire.version)
    ).all()


def item_ids_by_code(session: Session) -> dict[str, list[int]]:
    """Item code → the ids of the items of every questionnaire version with that code."""
    ids: dict[str, list[int]] = {}
    for item_id, code in session.execute(select(Item.id, Item.code).order_by(Item.id)):
        ids.setdefault(code, []).append(item_id)
    return ids


def response_rows(
    session: Session,
    start: dt.datetime | None,
    end: dt.datetime | None,
    item_ids: Sequence[Sequence[int]],
    include_excluded: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> Generator[Sequence[Sequence[Any]]]:
    """Batches of rows, one per response in id order: :data:`ROW_COLUMNS` (``period`` and
    ``submitted_at`` in Vietnam time, e.g. ``2025Q3`` and ``2025-07-01T08:30:00+0700``), then the
    answers to the columns of ``item_ids`` (one entry per column: the ids of the items that answer
    it), packed as :func:`unpack_answers` reads them.

    Packing: column k of a group of :data:`PACKED_DIGITS` is one decimal digit of an integer, the
    first column the most significant — the answer 1–5, :data:`NOT_APPLICABLE_DIGIT` for "not
    applicable", 0 for no answer. The database sums ``digit × 10^position`` over the response's
    answers (a left join, so a response without answers has its row, with NULL): one aggregate
    per group of columns instead of one per column (those were most of the time on SQLite). A
    response answers an item code at most once (the items of its questionnaire have distinct
    codes), so digits never carry into each other.

    Rows index like tuples (the first batch SQLAlchemy's rows, the others the driver's tuples).
    The cursor is server-side on PostgreSQL and read ``batch_rows`` at a time on both engines.
    Consume the iterator before using the session for anything else.
    """
    quarter, clock = _vietnam_wall_clock(session.get_bind().dialect.name)
    packed: list[ColumnElement[int]] = []
    for first in range(0, len(item_ids), PACKED_DIGITS):
        group = item_ids[first : first + PACKED_DIGITS]
        place = {
            item_id: 10 ** (len(group) - 1 - position)
            for position, ids in enumerate(group)
            for item_id in ids
        }
        if not place:
            packed.append(literal_column("NULL", BigInteger))
            continue
        digit = func.coalesce(Answer.value, _integer(NOT_APPLICABLE_DIGIT))
        power = case(
            {_integer(item_id): _integer(value) for item_id, value in place.items()},
            value=Answer.item_id,
        )
        packed.append(cast(func.sum(digit * power), BigInteger))
    query = (
        select(
            Response.id,
            Response.service_point_id,
            Response.questionnaire_id,
            Response.channel,
            quarter,
            clock,
            Response.comment,
            *packed,
        )
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(*_filters(start, end, include_excluded))
        # (id, submitted_at) is the key on PostgreSQL, where responses are partitioned by month
        # (migration 0011): grouping by both lets the response's other columns be selected
        .group_by(Response.id, Response.submitted_at)
        .order_by(Response.id)
    )
    result = session.connection().execute(query, execution_options={"yield_per": batch_rows})
    try:
        # SQLAlchemy reads the first row ahead on a streamed result: its first batch drains that
        # look-ahead (a short one is the whole result: SQLAlchemy may have closed the cursor
        # then). The rest comes straight from the driver's cursor as plain tuples: no type
        # of these columns converts results, and building SQLAlchemy rows cost about a fifth of
        # the export's time (benchmarks/export.py).
        ahead = result.fetchmany(batch_rows)
        if ahead:
            yield ahead
        cursor = result.cursor
        while len(ahead) == batch_rows and (batch := cursor.fetchmany(batch_rows)):
            yield batch
    finally:
        result.close()


_BLANK_DIGITS = str.maketrans("", "", "0" + str(NOT_APPLICABLE_DIGIT))


def packed_widths(columns: int) -> list[int]:
    """How many answer columns each packed integer of :func:`response_rows` holds."""
    return [min(PACKED_DIGITS, columns - first) for first in range(0, columns, PACKED_DIGITS)]


def unpack_answers(packed: int | None, width: int) -> str:
    """The ``width`` answers of one packed integer as CSV cells: ``4,5,,3`` (blank for "not
    applicable" and for no answer)."""
    digits = str(packed or 0).zfill(width)
    return ",".join(digits).translate(_BLANK_DIGITS)
