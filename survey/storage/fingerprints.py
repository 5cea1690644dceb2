"""Fingerprints of the data a report reads: the data part of its cache key.

A fingerprint changes whenever a row the report depends on is added, changed or removed, and is
cheap next to computing the report. It covers

* the responses submitted in a time window (the period and the one before): added, removed,
  excluded or included again, a comment blanked;
* the service volumes and dossiers of the months whose quarters the window touches (the weights'
  population sizes: an import of volumes or dossiers changes the report);
* the small tables read whole: agencies (names, hierarchy, validity, mergers), service points,
  targets, questionnaires with their elements and items.

PostgreSQL: for each table (within its window), the number of rows, the sum of their ids and the
sum of their ``xmin`` — the id of the transaction that wrote the row version. Every INSERT or
UPDATE writes a row version with a new ``xmin`` and ids are never reused, so any write changes the
fingerprint; a streaming replica holds the same row versions, so it computes the same one. One
statement, no row leaves the server.

Other databases (SQLite): counts and id-weighted sums of the columns that matter for the large
tables (responses, volumes, dossiers), and a SHA-256 of every row of the small tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Executable,
    Select,
    Text,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from survey.storage.models import (
    Agency,
    Dossier,
    Element,
    Item,
    Questionnaire,
    Response,
    ServicePoint,
    ServiceVolume,
    Target,
)

# The small tables a report reads whole, with the columns that matter to it.
_REFERENCE: tuple[tuple[type[Any], tuple[InstrumentedAttribute[Any], ...]], ...] = (
    (
        Agency,
        (
            Agency.id,
            Agency.code,
            Agency.name_vi,
            Agency.english_name,
            Agency.sector,
            Agency.level,
            Agency.parent_id,
            Agency.valid_from,
            Agency.valid_to,
            Agency.successor_id,
        ),
    ),
    (
        ServicePoint,
        (
            ServicePoint.id,
            ServicePoint.agency_id,
            ServicePoint.public_code,
            ServicePoint.name_vi,
            ServicePoint.english_name,
            ServicePoint.active,
        ),
    ),
    (
        Target,
        (
            Target.id,
            Target.sector,
            Target.scope_name,
            Target.scope_agency_id,
            Target.period_start,
            Target.period_end,
            Target.low,
            Target.high,
            Target.description,
            Target.source,
        ),
    ),
    (
        Questionnaire,
        (
            Questionnaire.id,
            Questionnaire.code,
            Questionnaire.version,
            Questionnaire.sector,
            Questionnaire.active,
            Questionnaire.state,
        ),
    ),
    (
        Element,
        (
            Element.id,
            Element.questionnaire_id,
            Element.code,
            Element.position,
            Element.name_vi,
            Element.name_en,
            Element.weight,
        ),
    ),
    (
        Item,
        (
            Item.id,
            Item.questionnaire_id,
            Item.element_id,
            Item.code,
            Item.position,
            Item.text_vi,
            Item.text_en,
            Item.allows_not_applicable,
            Item.is_overall,
        ),
    ),
)
_SPREAD = 65521  # ids spread over weights below 2¹⁶: sums stay far from 64-bit overflow


def report_fingerprint(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    first_month: dt.date,
    end_month: dt.date,
) -> tuple[Any, ...]:
    """The fingerprint of the data of a report whose responses were submitted in
    ``[start, end)`` and whose volumes and dossiers are those of the months in
    ``[first_month, end_month)`` (whole quarters)."""
    windows: tuple[tuple[type[Any], list[ColumnElement[bool]]], ...] = (
        (Response, [Response.submitted_at >= start, Response.submitted_at < end]),
        (ServiceVolume, [ServiceVolume.month >= first_month, ServiceVolume.month < end_month]),
        (Dossier, [Dossier.received_month >= first_month, Dossier.received_month < end_month]),
        *((model, []) for model, _columns in _REFERENCE),
    )
    if session.get_bind().dialect.name == "postgresql":
        return _row_versions(session, windows)
    return _portable(session, windows)


def _row_versions(
    session: Session, windows: Sequence[tuple[type[Any], list[ColumnElement[bool]]]]
) -> tuple[Any, ...]:
    """PostgreSQL: count, Σ id and Σ xmin of every table's rows in its window, in one statement."""
    xmin = cast(cast(literal_column("xmin"), Text), BigInteger)
    parts = [
        select(
            func.concat_ws(
                ":",
                func.count(),
                func.coalesce(func.sum(model.id), 0),
                func.coalesce(func.sum(xmin), 0),
            )
        )
        .select_from(model)
        .where(*conditions)
        .scalar_subquery()
        for model, conditions in windows
    ]
    return tuple(session.execute(select(*parts)).one())


def _portable(
    session: Session, windows: Sequence[tuple[type[Any], list[ColumnElement[bool]]]]
) -> tuple[Any, ...]:
    conditions = dict(windows)
    responses = select(
        func.count(Response.id),
        func.max(Response.id),
        func.sum(Response.id),
        func.sum(case((Response.excluded.is_(True), Response.id), else_=0)),
        func.count(Response.comment),
        func.sum(func.length(Response.comment) * _spread(Response.id)),
    ).where(*conditions[Response])
    volumes = select(
        func.count(ServiceVolume.id),
        func.sum(ServiceVolume.id),
        func.sum(cast(ServiceVolume.volume, BigInteger) * _spread(ServiceVolume.id)),
        func.sum(ServiceVolume.service_point_id * _spread(ServiceVolume.id)),
        func.sum(case((ServiceVolume.planned.is_(True), ServiceVolume.id), else_=0)),
    ).where(*conditions[ServiceVolume])
    dossiers = select(
        func.count(Dossier.id),
        func.sum(Dossier.id),
        func.sum(Dossier.service_point_id * _spread(Dossier.id)),
    ).where(*conditions[Dossier])
    numbers = tuple(
        value for query in (responses, volumes, dossiers) for value in _one(session, query)
    )
    return numbers + tuple(
        _rows_digest(session, select(*columns).order_by(columns[0]))
        for _model, columns in _REFERENCE
    )


def _spread(column: InstrumentedAttribute[int]) -> ColumnElement[int]:
    """A weight from the row's id, so that two rows trading values change the sum."""
    return column % _SPREAD + 1


def _one(session: Session, query: Executable) -> tuple[Any, ...]:
    return tuple(session.execute(query).one())


def _rows_digest(session: Session, query: Select[Any]) -> str:
    digest = hashlib.sha256()
    for row in session.execute(query):
        digest.update(repr(tuple(row)).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
