"""Every query the application runs. Services call these; views never touch SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, func, insert, select
from sqlalchemy.orm import Session, joinedload, selectinload

from survey.storage.models import (
    Agency,
    Answer,
    Item,
    Questionnaire,
    Response,
    ServicePoint,
    ServiceVolume,
    Target,
    User,
)


def service_point_by_code(session: Session, public_code: str) -> ServicePoint | None:
    return session.scalar(
        select(ServicePoint)
        .options(joinedload(ServicePoint.agency))
        .where(ServicePoint.public_code == public_code)
    )


def service_points_of_agency(session: Session, agency_id: int) -> Sequence[ServicePoint]:
    return session.scalars(
        select(ServicePoint)
        .options(joinedload(ServicePoint.agency))
        .where(ServicePoint.agency_id == agency_id)
        .order_by(ServicePoint.id)
    ).all()


def all_service_points(session: Session) -> Sequence[ServicePoint]:
    return session.scalars(
        select(ServicePoint).options(joinedload(ServicePoint.agency)).order_by(ServicePoint.id)
    ).all()


def agency_by_code(session: Session, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code))


def agency_by_id(session: Session, agency_id: int) -> Agency | None:
    return session.get(Agency, agency_id)


def agencies_with_point_counts(session: Session) -> Sequence[Row[Any]]:
    """Agencies in hierarchy order with the number of their service points."""
    return session.execute(
        select(Agency, func.count(ServicePoint.id).label("points"))
        .outerjoin(ServicePoint, ServicePoint.agency_id == Agency.id)
        .group_by(Agency.id)
        .order_by(Agency.sector, Agency.level, Agency.name_vi)
    ).all()


def active_questionnaire(session: Session, sector: str) -> Questionnaire | None:
    """The newest active version of a sector's questionnaire, items and elements loaded."""
    return session.scalar(
        select(Questionnaire)
        .options(
            selectinload(Questionnaire.items).joinedload(Item.element),
            selectinload(Questionnaire.elements),
        )
        .where(Questionnaire.sector == sector, Questionnaire.active.is_(True))
        .order_by(Questionnaire.version.desc())
        .limit(1)
    )


def questionnaire_by_code_version(
    session: Session, code: str, version: int
) -> Questionnaire | None:
    return session.scalar(
        select(Questionnaire).where(Questionnaire.code == code, Questionnaire.version == version)
    )


def all_questionnaires(session: Session) -> Sequence[Questionnaire]:
    return session.scalars(
        select(Questionnaire)
        .options(selectinload(Questionnaire.items).joinedload(Item.element))
        .order_by(Questionnaire.sector, Questionnaire.version)
    ).all()


def response_id_by_key(session: Session, idempotency_key: str) -> int | None:
    return session.scalar(select(Response.id).where(Response.idempotency_key == idempotency_key))


def insert_response(
    session: Session,
    *,
    idempotency_key: str,
    service_point_id: int,
    questionnaire_id: int,
    channel: str,
    language: str,
    submitted_at: dt.datetime,
    comment: str | None,
    answers: dict[int, int | None],
) -> int:
    """Insert a response and its answers (item id → value, None = not applicable)."""
    response = Response(
        idempotency_key=idempotency_key,
        service_point_id=service_point_id,
        questionnaire_id=questionnaire_id,
        channel=channel,
        language=language,
        submitted_at=submitted_at,
        comment=comment,
    )
    session.add(response)
    session.flush()
    if answers:
        session.execute(
            insert(Answer),
            [
                {"response_id": response.id, "item_id": item_id, "value": value}
                for item_id, value in answers.items()
            ],
        )
    return response.id


def bulk_insert_responses(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert many responses at once (demo data, imports); returns id by idempotency key."""
    # Plain executemany, then one query for the ids: executemany with RETURNING is quadratic here.
    session.connection().execute(insert(Response.__table__), rows)
    keys = [row["idempotency_key"] for row in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 5_000):
        chunk = keys[start : start + 5_000]
        found = session.execute(
            select(Response.idempotency_key, Response.id).where(Response.idempotency_key.in_(chunk))
        )
        ids.update((key, response_id) for key, response_id in found)
    return ids


def bulk_insert_answers(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 20_000:
            session.connection().execute(insert(Answer.__table__), batch)
            batch = []
    if batch:
        session.connection().execute(insert(Answer.__table__), batch)


def bulk_insert_volumes(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(ServiceVolume.__table__), rows)


def response_counts(session: Session) -> Sequence[Row[Any]]:
    """Responses per agency (with its sector and level), agencies without responses included."""
    return session.execute(
        select(
            Agency.id,
            Agency.name_vi,
            Agency.name_en,
            Agency.sector,
            Agency.level,
            Agency.valid_to,
            func.count(Response.id).label("responses"),
            func.max(Response.submitted_at).label("latest"),
        )
        .outerjoin(ServicePoint, ServicePoint.agency_id == Agency.id)
        .outerjoin(Response, Response.service_point_id == ServicePoint.id)
        .group_by(Agency.id)
        .order_by(Agency.sector, func.count(Response.id).desc(), Agency.name_vi)
    ).all()


def latest_responses(session: Session, limit: int, offset: int = 0) -> Sequence[Response]:
    return session.scalars(
        select(Response)
        .options(
            joinedload(Response.service_point).joinedload(ServicePoint.agency),
            selectinload(Response.answers).joinedload(Answer.item),
        )
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()


def count_responses(session: Session) -> int:
    return session.scalar(select(func.count(Response.id))) or 0


def _submitted_between(
    start: dt.datetime | None, end: dt.datetime | None
) -> list[ColumnElement[bool]]:
    conditions = []
    if start is not None:
        conditions.append(Response.submitted_at >= start)
    if end is not None:
        conditions.append(Response.submitted_at < end)
    return conditions


def responses_for_export(
    session: Session, start: dt.datetime | None, end: dt.datetime | None
) -> Sequence[Row[Any]]:
    """One row per response with its point, agency and questionnaire (answers fetched apart)."""
    return session.execute(
        select(
            Response.id,
            Response.submitted_at,
            Response.channel,
            Response.comment,
            Response.service_point_id,
            ServicePoint.public_code,
            Agency.code.label("agency_code"),
            Agency.name_vi.label("agency_name"),
            Agency.level,
            Agency.sector,
            Questionnaire.code.label("questionnaire"),
            Questionnaire.version.label("questionnaire_version"),
        )
        .join(ServicePoint, Response.service_point_id == ServicePoint.id)
        .join(Agency, ServicePoint.agency_id == Agency.id)
        .join(Questionnaire, Response.questionnaire_id == Questionnaire.id)
        .where(*_submitted_between(start, end))
        .order_by(Response.id)
    ).all()


def answers_for_export(
    session: Session, start: dt.datetime | None, end: dt.datetime | None
) -> Sequence[Row[Any]]:
    """(response id, item code, value) for the responses that ``responses_for_export`` returns."""
    return session.execute(
        select(Answer.response_id, Item.code, Answer.value)
        .join(Item, Answer.item_id == Item.id)
        .join(Response, Answer.response_id == Response.id)
        .where(*_submitted_between(start, end))
    ).all()


def monthly_volumes(session: Session) -> Sequence[Row[Any]]:
    return session.execute(
        select(ServiceVolume.service_point_id, ServiceVolume.month, ServiceVolume.volume)
    ).all()


def all_targets(session: Session) -> Sequence[Target]:
    return session.scalars(
        select(Target).order_by(Target.scope_name, Target.period_start, Target.sector)
    ).all()


def target_exists(session: Session, **fields: Any) -> bool:
    return session.scalar(select(Target.id).filter_by(**fields).limit(1)) is not None


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def agency_by_name(session: Session, name_vi: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.name_vi == name_vi).limit(1))


def active_service_points_of_sector(
    session: Session, sector: str, limit: int
) -> Sequence[ServicePoint]:
    return session.scalars(
        select(ServicePoint)
        .join(Agency, ServicePoint.agency_id == Agency.id)
        .options(joinedload(ServicePoint.agency))
        .where(Agency.sector == sector, Agency.valid_to.is_(None), ServicePoint.active.is_(True))
        .order_by(ServicePoint.id)
        .limit(limit)
    ).all()
