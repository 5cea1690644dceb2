"""Every query the application runs. Services call these; views never touch SQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    SmallInteger,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, selectinload

from survey.storage.models import (
    Agency,
    Answer,
    AuditEvent,
    CommentLexiconTerm,
    CommentRead,
    CommentState,
    CommentTopic,
    Item,
    Kiosk,
    Questionnaire,
    QuestionnaireTranslation,
    Response,
    ResponseDecision,
    ResponseFlag,
    ServicePoint,
    ServiceVolume,
    SignInThrottle,
    Target,
    User,
    utc_now,
)

PUBLIC_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _table_of(model: type[Any]) -> Table:
    """A mapped class's table, as a Table (declarative types ``__table__`` as any FromClause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


_RESPONSE_TABLE = _table_of(Response)
_ANSWER_TABLE = _table_of(Answer)
_VOLUME_TABLE = _table_of(ServiceVolume)


def service_point_by_code(session: Session, public_code: str) -> ServicePoint | None:
    """The point with this public code; None for a code that cannot exist (wrong characters)."""
    if not PUBLIC_CODE.fullmatch(public_code):
        return None
    return session.scalar(
        select(ServicePoint)
        .options(joinedload(ServicePoint.agency))
        .where(ServicePoint.public_code == public_code)
    )


# Built once: the public form runs this on every submission, and building and keying a statement
# costs more Python time than the database spends answering it.
_POINT_AND_ACTIVE_VERSION = (
    select(ServicePoint, Questionnaire.id, Questionnaire.code, Questionnaire.version)
    .join(ServicePoint.agency)
    .outerjoin(
        Questionnaire,
        (Questionnaire.sector == Agency.sector) & Questionnaire.active.is_(True),
    )
    .options(contains_eager(ServicePoint.agency))
    .where(ServicePoint.public_code == bindparam("public_code"))
    .order_by(Questionnaire.version.desc())
    .limit(1)
)


def service_point_and_active_version(
    session: Session, public_code: str
) -> tuple[ServicePoint, tuple[int, str, int] | None] | None:
    """The point with this public code (agency loaded) and the (id, code, version) of the newest
    active questionnaire of its agency's sector, in one query: the public form asks this on every
    submission. None for an unknown code."""
    if not PUBLIC_CODE.fullmatch(public_code):
        return None
    row = session.execute(_POINT_AND_ACTIVE_VERSION, {"public_code": public_code}).first()
    if row is None:
        return None
    point, questionnaire_id, code, version = row
    return point, None if questionnaire_id is None else (questionnaire_id, code, version)


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


def _within(agency_ids: frozenset[int] | None) -> list[ColumnElement[bool]]:
    """Condition limiting rows to a user's agencies (None: every agency)."""
    return [] if agency_ids is None else [Agency.id.in_(agency_ids)]


def agencies_with_point_counts(
    session: Session, agency_ids: frozenset[int] | None = None
) -> Sequence[Row[Agency, int]]:
    """Agencies in hierarchy order with the number of their service points."""
    return session.execute(
        select(Agency, func.count(ServicePoint.id).label("points"))
        .outerjoin(ServicePoint, ServicePoint.agency_id == Agency.id)
        .where(*_within(agency_ids))
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


def response_origin_by_key(
    session: Session, idempotency_key: str
) -> Row[int, str, int, int | None] | None:
    """(id, channel, service_point_id, kiosk_id) of the response stored under this key."""
    return session.execute(
        select(Response.id, Response.channel, Response.service_point_id, Response.kiosk_id).where(
            Response.idempotency_key == idempotency_key
        )
    ).first()


# The public form's writes, built once for the same reason as the look-up above. A key that is
# already stored inserts nothing and returns no row (``ON CONFLICT DO NOTHING``): no error, which
# would abort the request's one transaction (PostgreSQL refuses every statement after it). No
# conflict target: on PostgreSQL ``response`` is partitioned by month (migration 0011), where no
# unique index can hold ``idempotency_key`` alone; there the key's trigger skips a stored key.
_RESPONSE_COLUMNS = (
    "idempotency_key",
    "service_point_id",
    "questionnaire_id",
    "channel",
    "language",
    "submitted_at",
    "comment",
    "kiosk_id",
    "device_time",
)


def _new_response(dialect_insert: Any) -> Any:
    return (
        dialect_insert(Response)
        .values({column: bindparam(column) for column in _RESPONSE_COLUMNS} | {"excluded": False})
        .on_conflict_do_nothing()
        .returning(Response.id)
    )


_STORE_RESPONSE = _new_response(sqlite.insert)
_STORE_RESPONSE_POSTGRESQL = _new_response(postgresql.insert)
_STORE_ANSWERS = insert(Answer)


def _latest_at_point(point: Any) -> Select[int]:
    """Ids of the point's latest ``:burst_latest`` responses submitted in [``:burst_start``,
    ``:burst_end``] (on SQLite the point's index is in id order: no sort, however busy)."""
    return (
        select(Response.id)
        .where(
            Response.service_point_id == point,
            Response.submitted_at >= bindparam("burst_start", type_=Response.submitted_at.type),
            Response.submitted_at <= bindparam("burst_end", type_=Response.submitted_at.type),
        )
        .order_by(Response.id.desc())
        .limit(bindparam("burst_latest"))
    )


def _response_with_answers_statement() -> Select[int, list[int] | None]:
    """PostgreSQL: ``WITH new_response AS (INSERT … ON CONFLICT DO NOTHING RETURNING id),
    new_answers AS (INSERT INTO answer SELECT new_response.id, given.* FROM new_response JOIN
    unnest(:item_ids, :answer_values) AS given ON true), identical AS (…) SELECT id, (SELECT
    array_agg(response_id) FROM identical) FROM new_response`` — one round trip, and one text for
    any number of answers, so it is compiled once per process and prepared once per connection.
    A stored key gives no row and no answers. ``identical``: the point's latest responses in the
    burst window whose answers are exactly the given ones (the statement's snapshot does not see
    its own insert), for the identical-burst check on arrival without another round trip."""
    created = _new_response(postgresql.insert).cte("new_response")
    item_ids = bindparam("item_ids", type_=ARRAY(Integer))
    values = bindparam("answer_values", type_=ARRAY(SmallInteger))
    given = func.unnest(item_ids, values).table_valued("item_id", "value").render_derived("given")
    stored_answers = insert(Answer).from_select(
        ["response_id", "item_id", "value"],
        select(created.c.id, given.c.item_id, given.c.value).select_from(
            created.join(given, true())  # one response row × its answers
        ),
    )
    mine = func.unnest(item_ids, values).table_valued("item_id", "value").render_derived("mine")
    identical = (
        select(Answer.response_id)
        .join(
            mine,
            (mine.c.item_id == Answer.item_id) & Answer.value.is_not_distinct_from(mine.c.value),
        )
        .where(Answer.response_id.in_(_latest_at_point(bindparam("service_point_id"))))
        .group_by(Answer.response_id)
        .having(func.count() == func.cardinality(item_ids))
        .cte("identical")
    )
    earlier = select(func.array_agg(identical.c.response_id)).scalar_subquery()
    return select(created.c.id, earlier).add_cte(stored_answers.cte("new_answers"))


_STORE_RESPONSE_WITH_ANSWERS = _response_with_answers_statement()


@dataclass(frozen=True)
class BurstWindow:
    """Where to look for responses identical to a new one: the point's ``latest`` responses
    submitted in [start, end]."""

    start: dt.datetime
    end: dt.datetime
    latest: int


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
    kiosk_id: int | None = None,
    device_time: dt.datetime | None = None,
    burst: BurstWindow | None = None,
) -> tuple[int | None, list[int] | None]:
    """Insert a response and its answers (item id → value, None = not applicable).

    Returns its id — None when a response with this ``idempotency_key`` is already stored
    (nothing is written) — and, on PostgreSQL with ``burst``, the ids of the responses in that
    window with exactly these answers, found by the same statement (None: not looked for).

    PostgreSQL gets one statement (every round trip to the server costs the busiest part of a
    submission); SQLite, in process, gets two. Kiosk responses carry their kiosk and device time
    in the same insert.
    """
    response = {
        "idempotency_key": idempotency_key,
        "service_point_id": service_point_id,
        "questionnaire_id": questionnaire_id,
        "channel": channel,
        "language": language,
        "submitted_at": submitted_at,
        "comment": comment,
        "kiosk_id": kiosk_id,
        "device_time": device_time,
    }
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        if not answers:
            stored = connection.execute(_STORE_RESPONSE_POSTGRESQL, response).scalar_one_or_none()
            return stored, None
        window = burst or BurstWindow(submitted_at, submitted_at, 0)
        row = connection.execute(
            _STORE_RESPONSE_WITH_ANSWERS,
            {
                **response,
                "item_ids": list(answers),
                "answer_values": list(answers.values()),
                "burst_start": window.start,
                "burst_end": window.end,
                "burst_latest": window.latest,
            },
        ).first()
        if row is None:
            return None, None
        return row[0], (list(row[1] or []) if burst is not None else None)
    response_id = connection.execute(_STORE_RESPONSE, response).scalar_one_or_none()
    if response_id is not None and answers:
        connection.execute(
            _STORE_ANSWERS,
            [{"response_id": response_id, "item_id": i, "value": v} for i, v in answers.items()],
        )
    return response_id, None


def bulk_insert_responses(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert many responses at once (demo data, imports); returns id by idempotency key."""
    # Plain executemany, then one query for the ids: executemany with RETURNING is quadratic here.
    session.connection().execute(insert(_RESPONSE_TABLE), rows)
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
            session.connection().execute(insert(_ANSWER_TABLE), batch)
            batch = []
    if batch:
        session.connection().execute(insert(_ANSWER_TABLE), batch)


def bulk_insert_volumes(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(_VOLUME_TABLE), rows)


def response_counts(
    session: Session, agency_ids: frozenset[int] | None = None
) -> Sequence[Row[int, str, str, str, str, dt.date | None, int, dt.datetime]]:
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
        .where(*_within(agency_ids))
        .group_by(Agency.id)
        .order_by(Agency.sector, func.count(Response.id).desc(), Agency.name_vi)
    ).all()


def latest_responses(
    session: Session, limit: int, offset: int = 0, agency_ids: frozenset[int] | None = None
) -> Sequence[Response]:
    return session.scalars(
        select(Response)
        .options(
            joinedload(Response.service_point).joinedload(ServicePoint.agency),
            selectinload(Response.answers).joinedload(Answer.item),
        )
        .join(ServicePoint, Response.service_point_id == ServicePoint.id)
        .join(Agency, ServicePoint.agency_id == Agency.id)
        .where(*_within(agency_ids))
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


def _not_excluded(include_excluded: bool) -> list[ColumnElement[bool]]:
    """Responses an administrator excluded (a logged decision) leave indices unless asked for."""
    return [] if include_excluded else [Response.excluded.is_(False)]


def responses_for_export(
    session: Session,
    start: dt.datetime | None,
    end: dt.datetime | None,
    include_excluded: bool = True,
) -> Sequence[Row[*tuple[Any, ...]]]:
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
        .where(*_submitted_between(start, end), *_not_excluded(include_excluded))
        .order_by(Response.id)
    ).all()


def answers_for_export(
    session: Session,
    start: dt.datetime | None,
    end: dt.datetime | None,
    include_excluded: bool = True,
) -> Sequence[Row[int, str, int | None]]:
    """(response id, item code, value) for the responses that ``responses_for_export`` returns."""
    return session.execute(
        select(Answer.response_id, Item.code, Answer.value)
        .join(Item, Answer.item_id == Item.id)
        .join(Response, Answer.response_id == Response.id)
        .where(*_submitted_between(start, end), *_not_excluded(include_excluded))
    ).all()


def monthly_volumes(session: Session) -> Sequence[Row[int, dt.date, int]]:
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


# --- Kiosks and response integrity (survey/services/kiosks.py, survey/services/integrity.py) ---


def service_point_by_id(session: Session, point_id: int) -> ServicePoint | None:
    return session.scalar(
        select(ServicePoint)
        .options(joinedload(ServicePoint.agency))
        .where(ServicePoint.id == point_id)
    )


def questionnaire_with_items(session: Session, questionnaire_id: int) -> Questionnaire | None:
    """One questionnaire version with its items and elements loaded."""
    return session.scalar(
        select(Questionnaire)
        .options(
            selectinload(Questionnaire.items).joinedload(Item.element),
            selectinload(Questionnaire.elements),
        )
        .where(Questionnaire.id == questionnaire_id)
    )


def kiosk_by_id(session: Session, kiosk_id: int) -> Kiosk | None:
    return session.get(Kiosk, kiosk_id)


def kiosk_by_token_hash(session: Session, token_hash: str) -> Kiosk | None:
    return session.scalar(
        select(Kiosk)
        .options(joinedload(Kiosk.service_point).joinedload(ServicePoint.agency))
        .where(Kiosk.token_hash == token_hash)
    )


def kiosk_by_pairing_hash(session: Session, pairing_hash: str) -> Kiosk | None:
    return session.scalar(select(Kiosk).where(Kiosk.pairing_code_hash == pairing_hash))


def all_kiosks(session: Session) -> Sequence[Kiosk]:
    return session.scalars(
        select(Kiosk)
        .options(joinedload(Kiosk.service_point).joinedload(ServicePoint.agency))
        .order_by(Kiosk.revoked_at.is_not(None), Kiosk.id.desc())
    ).all()


def response_by_id(session: Session, response_id: int) -> Response | None:
    return session.get(Response, response_id)


def response_ids_between(session: Session, start: dt.datetime, end: dt.datetime) -> Sequence[int]:
    return session.scalars(
        select(Response.id)
        .where(Response.submitted_at >= start, Response.submitted_at < end)
        .order_by(Response.submitted_at, Response.id)
    ).all()


def kiosk_neighbours(
    session: Session, kiosk_id: int, start: dt.datetime, end: dt.datetime, exclude_id: int
) -> Sequence[Row[int, dt.datetime | None]]:
    """(id, device_time) of the kiosk's other responses whose device time is in [start, end]."""
    return session.execute(
        select(Response.id, Response.device_time)
        .where(
            Response.kiosk_id == kiosk_id,
            Response.device_time >= start,
            Response.device_time <= end,
            Response.id != exclude_id,
        )
        .order_by(Response.device_time)
    ).all()


def point_answer_rows(
    session: Session, point_id: int, start: dt.datetime, end: dt.datetime
) -> Sequence[Row[int, int, int | None]]:
    """(response id, item id, value) for the point's responses submitted in [start, end]."""
    return session.execute(
        select(Answer.response_id, Answer.item_id, Answer.value)
        .join(Response, Answer.response_id == Response.id)
        .where(
            Response.service_point_id == point_id,
            Response.submitted_at >= start,
            Response.submitted_at <= end,
        )
    ).all()


def _identical_latest_statement() -> Select[int]:
    """Ids of the point's latest responses in the burst window whose answers are exactly those of
    response ``response_id`` (itself included): answer rows joined item by item (``IS NOT
    DISTINCT FROM``: "not applicable" equals "not applicable"), kept when every item matches."""
    own, other = aliased(Answer, name="own"), aliased(Answer, name="other")
    own_count = (
        select(func.count())
        .select_from(Answer)
        .where(Answer.response_id == bindparam("response_id"))
        .scalar_subquery()
    )
    return (
        select(other.response_id)
        .join(own, (own.item_id == other.item_id) & own.value.is_not_distinct_from(other.value))
        .where(
            own.response_id == bindparam("response_id"),
            other.response_id.in_(_latest_at_point(bindparam("point_id"))),
        )
        .group_by(other.response_id)
        .having(func.count() == own_count)
        .order_by(other.response_id)
    )


# Built once: the public form runs it after every stored response (survey/services/integrity.py).
_IDENTICAL_LATEST = _identical_latest_statement()


def identical_latest_responses(
    session: Session, response_id: int, point_id: int, window: BurstWindow
) -> Sequence[int]:
    """Which of the point's latest responses in the window have exactly the answers of
    ``response_id`` (itself included). Bounded however busy the point is, and only matching ids
    come back."""
    parameters = {
        "response_id": response_id,
        "point_id": point_id,
        "burst_start": window.start,
        "burst_end": window.end,
        "burst_latest": window.latest,
    }
    # On the connection, as the public form's inserts: no ORM work for a plain column query.
    return session.connection().execute(_IDENTICAL_LATEST, parameters).scalars().all()


def count_point_responses(
    session: Session, point_id: int, start: dt.datetime, end: dt.datetime
) -> int:
    return (
        session.scalar(
            select(func.count(Response.id)).where(
                Response.service_point_id == point_id,
                Response.submitted_at >= start,
                Response.submitted_at <= end,
            )
        )
        or 0
    )


def point_month_volume(session: Session, point_id: int, month: dt.date) -> int | None:
    return session.scalar(
        select(ServiceVolume.volume).where(
            ServiceVolume.service_point_id == point_id, ServiceVolume.month == month
        )
    )


def flag_kinds_of(session: Session, response_ids: Iterable[int]) -> set[tuple[int, str]]:
    ids = list(response_ids)
    if not ids:
        return set()
    rows = session.execute(
        select(ResponseFlag.response_id, ResponseFlag.kind).where(ResponseFlag.response_id.in_(ids))
    )
    return {(response_id, kind) for response_id, kind in rows}


def add_flag(session: Session, response_id: int, kind: str, detail: str) -> bool:
    """Flag a response unless it already carries this kind of flag; whether a flag was added.

    ``ON CONFLICT DO NOTHING``: a flag added meanwhile by another request is no error (an error
    would abort the request's one transaction, the response being flagged with it)."""
    dialect = session.connection().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(ResponseFlag)
        .values(response_id=response_id, kind=kind, detail=detail, created_at=utc_now())
        .on_conflict_do_nothing(index_elements=[ResponseFlag.response_id, ResponseFlag.kind])
        .returning(ResponseFlag.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def flagged_response_ids(
    session: Session, limit: int, agency_ids: frozenset[int] | None = None
) -> Sequence[int]:
    """Responses with at least one flag, newest flag first (of these agencies unless None)."""
    scoped = []
    if agency_ids is not None:
        scoped = [
            ResponseFlag.response_id.in_(
                select(Response.id)
                .join(ServicePoint, Response.service_point_id == ServicePoint.id)
                .where(ServicePoint.agency_id.in_(agency_ids))
            )
        ]
    return session.scalars(
        select(ResponseFlag.response_id)
        .where(*scoped)
        .group_by(ResponseFlag.response_id)
        .order_by(func.max(ResponseFlag.created_at).desc(), ResponseFlag.response_id.desc())
        .limit(limit)
    ).all()


def responses_with_details(session: Session, response_ids: Sequence[int]) -> Sequence[Response]:
    return session.scalars(
        select(Response)
        .options(
            joinedload(Response.service_point).joinedload(ServicePoint.agency),
            selectinload(Response.answers).joinedload(Answer.item),
        )
        .where(Response.id.in_(list(response_ids)))
    ).all()


def flags_of(session: Session, response_ids: Sequence[int]) -> Sequence[ResponseFlag]:
    return session.scalars(
        select(ResponseFlag)
        .where(ResponseFlag.response_id.in_(list(response_ids)))
        .order_by(ResponseFlag.created_at, ResponseFlag.id)
    ).all()


def decisions_of(session: Session, response_ids: Sequence[int]) -> Sequence[ResponseDecision]:
    return session.scalars(
        select(ResponseDecision)
        .options(joinedload(ResponseDecision.decided_by))
        .where(ResponseDecision.response_id.in_(list(response_ids)))
        .order_by(ResponseDecision.decided_at, ResponseDecision.id)
    ).all()


def kiosk_labels(session: Session, kiosk_ids: Iterable[int]) -> dict[int, str]:
    ids = list(kiosk_ids)
    if not ids:
        return {}
    return dict(session.execute(select(Kiosk.id, Kiosk.label).where(Kiosk.id.in_(ids))).all())


def add_decision(
    session: Session, *, response_id: int, excluded: bool, reason: str, user_id: int
) -> None:
    session.add(
        ResponseDecision(
            response_id=response_id, excluded=excluded, reason=reason, decided_by_id=user_id
        )
    )
    session.execute(update(Response).where(Response.id == response_id).values(excluded=excluded))


def all_agencies(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).order_by(Agency.id)).all()


def responses_fingerprint(
    session: Session, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> tuple[Any, ...]:
    """Changes whenever a response of the time window is added, removed, excluded or included
    again: the key of cached reports (a new response today leaves last year's reports cached)."""
    row = session.execute(
        select(
            func.count(Response.id),
            func.max(Response.id),
            func.sum(case((Response.excluded.is_(True), 1), else_=0)),
        ).where(*_submitted_between(start, end))
    ).one()
    return tuple(row)


# --- Accounts, scopes, audit log, retention (services accounts, access, audit; cli_retention) ---


def agency_links(session: Session) -> Sequence[Row[int, str, int | None, int | None]]:
    """Every agency's (id, sector, parent_id, successor_id): the hierarchy a scope expands over."""
    return session.execute(
        select(Agency.id, Agency.sector, Agency.parent_id, Agency.successor_id)
    ).all()


def agencies_by_code(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).order_by(Agency.code)).all()


def all_users(session: Session) -> Sequence[User]:
    return session.scalars(
        select(User).options(joinedload(User.scope_agency)).order_by(User.username)
    ).all()


def user_by_id_for_update(session: Session, user_id: int) -> User | None:
    """The user, its row locked until the transaction ends (PostgreSQL; SQLite locks on write)."""
    return session.scalars(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def active_province_admin_ids(session: Session) -> Sequence[int]:
    """Locked as they are read: two administrators demoting each other at once cannot both see
    the other still in place."""
    return session.scalars(
        select(User.id)
        .where(User.role == "province_admin", User.active.is_(True))
        .with_for_update()
    ).all()


def sign_in_throttle(session: Session, username: str, address: str) -> SignInThrottle | None:
    return session.get(SignInThrottle, (username, address), populate_existing=True)


def sign_in_throttle_for_update(
    session: Session, username: str, address: str, now: dt.datetime
) -> SignInThrottle:
    """The counter row of (username, address), made if missing and locked until the transaction
    ends, so two servers counting the same failure at once both count it."""
    values = {"username": username, "address": address, "failures": 0, "updated_at": now}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        session.execute(module.insert(SignInThrottle).values(**values).on_conflict_do_nothing())
    elif sign_in_throttle(session, username, address) is None:
        session.execute(insert(SignInThrottle).values(**values))
    return session.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.username == username, SignInThrottle.address == address)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def sign_in_throttles_failing_since(
    session: Session, since: dt.datetime
) -> Sequence[SignInThrottle]:
    """Counter rows with failures counted after ``since`` (for the users page)."""
    return session.scalars(
        select(SignInThrottle).where(
            SignInThrottle.failures > 0, SignInThrottle.last_failed_at > since
        )
    ).all()


def clear_sign_in_failures(session: Session, username: str) -> int:
    """Forget the failed sign-ins of a username (an administrator lifts its delays); addresses it
    signed in from stay known."""
    result = session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.username == username)
        .values(failures=0, last_failed_at=None, window_started_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def forget_sign_in_throttles(
    session: Session, failed_before: dt.datetime, succeeded_before: dt.datetime
) -> None:
    """Drop stale counters: failures only, untouched since ``failed_before``; any row untouched
    since ``succeeded_before``."""
    session.execute(
        delete(SignInThrottle)
        .where(
            or_(
                and_(
                    SignInThrottle.succeeded_at.is_(None),
                    SignInThrottle.updated_at < failed_before,
                ),
                SignInThrottle.updated_at < succeeded_before,
            )
        )
        .execution_options(synchronize_session=False)
    )


def add_audit_event(session: Session, **fields: Any) -> AuditEvent:
    """Insert one audit event. There is deliberately no query that updates or deletes one."""
    event = AuditEvent(**fields)
    session.add(event)
    session.flush()
    return event


def audit_events(
    session: Session, limit: int, offset: int = 0, action: str | None = None
) -> Sequence[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    if action:
        query = query.where(AuditEvent.action == action)
    return session.scalars(query).all()


def count_audit_events(session: Session, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    return int(session.scalar(query) or 0)


def audit_actions(session: Session) -> Sequence[str]:
    return session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()


def count_comments_before(session: Session, cutoff: dt.datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.submitted_at < cutoff, Response.comment.is_not(None))
        )
        or 0
    )


def clear_comments_before(session: Session, cutoff: dt.datetime) -> int:
    """Blank the raw comments of responses submitted before ``cutoff``; the answers stay."""
    result = session.execute(
        update(Response)
        .where(Response.submitted_at < cutoff, Response.comment.is_not(None))
        .values(comment=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def latest_submission(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.max(Response.submitted_at)))


def first_submission(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.min(Response.submitted_at)))


def active_questionnaire_version(session: Session, sector: str) -> tuple[int, str, int] | None:
    """(id, code, version) of the newest active questionnaire of a sector."""
    row = session.execute(
        select(Questionnaire.id, Questionnaire.code, Questionnaire.version)
        .where(Questionnaire.sector == sector, Questionnaire.active.is_(True))
        .order_by(Questionnaire.version.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def root_agency(session: Session) -> Agency | None:
    """The province: the one agency without a parent (None when there are several or none)."""
    roots = session.scalars(select(Agency).where(Agency.parent_id.is_(None)).limit(2)).all()
    return roots[0] if len(roots) == 1 else None


def refresh_statistics(session: Session) -> None:
    """After a bulk load, let PostgreSQL's planner see the new row counts (it would otherwise
    plan joins over 10⁵ answers as if the tables were empty)."""
    if session.get_bind().dialect.name == "postgresql":
        for table in (_RESPONSE_TABLE, _ANSWER_TABLE, _VOLUME_TABLE):
            session.execute(text(f"ANALYZE {table.name}"))


# --- Comments: topics, inbox, read marks, lexicon changes (survey/services/comments/) ---

_AnySelect = TypeVar("_AnySelect", bound=Select[*tuple[Any, ...]])


def _comment_conditions(
    *,
    agency_ids: frozenset[int] | None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    sector: str | None = None,
    channel: str | None = None,
    topic: str | None = None,
    read: bool | None = None,
    scope_key: str = "",
) -> list[ColumnElement[bool]]:
    """Comments (not blank, response not excluded) of these agencies (None: every agency) that
    pass the inbox's filters. ``read`` looks at the marks of ``scope_key`` only."""
    conditions: list[ColumnElement[bool]] = [
        Response.comment.is_not(None),
        Response.excluded.is_(False),
        *_submitted_between(start, end),
    ]
    if agency_ids is not None:
        conditions.append(ServicePoint.agency_id.in_(agency_ids))
    if sector is not None:
        conditions.append(Agency.sector == sector)
    if channel is not None:
        conditions.append(Response.channel == channel)
    if topic is not None:
        conditions.append(
            Response.id.in_(select(CommentTopic.response_id).where(CommentTopic.topic == topic))
        )
    if read is not None:
        marked = select(CommentRead.response_id).where(CommentRead.scope_key == scope_key)
        conditions.append(Response.id.in_(marked) if read else Response.id.not_in(marked))
    return conditions


def _comments_from(query: _AnySelect) -> _AnySelect:
    """The query joined to the comment's service point and agency (for the scope filters)."""
    return query.join(ServicePoint, Response.service_point_id == ServicePoint.id).join(
        Agency, ServicePoint.agency_id == Agency.id
    )


def comment_page(
    session: Session, *, limit: int, offset: int, scope_key: str, **filters: Any
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Newest comments first, with their place, read mark (of ``scope_key``) and case link."""
    reader = aliased(User)
    query = (
        select(
            Response.id,
            Response.submitted_at,
            Response.comment,
            Response.channel,
            Agency.id.label("agency_id"),
            Agency.code.label("agency_code"),
            Agency.name_vi.label("agency_vi"),
            Agency.name_en.label("agency_en"),
            Agency.sector,
            ServicePoint.public_code,
            ServicePoint.name_vi.label("point_vi"),
            ServicePoint.name_en.label("point_en"),
            CommentRead.read_at,
            reader.username.label("read_by"),
            CommentState.lexicon_version,
            CommentState.complaint_case_id,
        )
        .select_from(Response)
        .outerjoin(
            CommentRead,
            (CommentRead.response_id == Response.id) & (CommentRead.scope_key == scope_key),
        )
        .outerjoin(reader, CommentRead.read_by_id == reader.id)
        .outerjoin(CommentState, CommentState.response_id == Response.id)
    )
    return session.execute(
        _comments_from(query)
        .where(*_comment_conditions(scope_key=scope_key, **filters))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()


def count_comments(session: Session, *, scope_key: str = "", **filters: Any) -> int:
    query = _comments_from(select(func.count(Response.id)).select_from(Response))
    return int(
        session.scalar(query.where(*_comment_conditions(scope_key=scope_key, **filters))) or 0
    )


def topics_of_comments(session: Session, response_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(response_ids)
    found: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(CommentTopic.response_id, CommentTopic.topic).where(
                CommentTopic.response_id.in_(ids[start : start + 1000])
            )
        )
        for response_id, topic in rows:
            found[response_id].append(topic)
    return found


def comments_to_tag(
    session: Session,
    version: str,
    limit: int,
    response_ids: Iterable[int] | None = None,
    **filters: Any,
) -> Sequence[Row[int, str | None]]:
    """(id, comment) of comments never tagged or tagged by another lexicon version, newest
    first; only among ``response_ids`` when given, else among those passing ``filters``."""
    query = (
        select(Response.id, Response.comment)
        .select_from(Response)
        .outerjoin(CommentState, CommentState.response_id == Response.id)
        .where(
            Response.comment.is_not(None),
            (CommentState.response_id.is_(None)) | (CommentState.lexicon_version != version),
        )
    )
    if response_ids is not None:
        query = query.where(Response.id.in_(list(response_ids)))
    elif filters:
        query = _comments_from(query).where(*_comment_conditions(**filters))
    return session.execute(
        query.order_by(Response.submitted_at.desc(), Response.id.desc()).limit(limit)
    ).all()


def count_comments_to_tag(session: Session, version: str, **filters: Any) -> int:
    query = (
        select(func.count(Response.id))
        .select_from(Response)
        .outerjoin(CommentState, CommentState.response_id == Response.id)
        .where((CommentState.response_id.is_(None)) | (CommentState.lexicon_version != version))
    )
    if filters:
        query = _comments_from(query).where(*_comment_conditions(**filters))
    else:
        query = query.where(Response.comment.is_not(None))
    return int(session.scalar(query) or 0)


def store_comment_topics(
    session: Session, topics: dict[int, frozenset[str]], version: str, when: dt.datetime
) -> None:
    """Replace the topics of these comments and note the lexicon version that found them (a
    linked complaint case is kept)."""
    ids = list(topics)
    if not ids:
        return
    session.execute(delete(CommentTopic).where(CommentTopic.response_id.in_(ids)))
    rows = [{"response_id": i, "topic": t} for i, found in topics.items() for t in sorted(found)]
    if rows:
        session.execute(insert(CommentTopic), rows)
    known = set(
        session.scalars(select(CommentState.response_id).where(CommentState.response_id.in_(ids)))
    )
    if known:
        session.execute(
            update(CommentState)
            .where(CommentState.response_id.in_(known))
            .values(lexicon_version=version, tagged_at=when)
            .execution_options(synchronize_session=False)
        )
    new = [
        {"response_id": i, "lexicon_version": version, "tagged_at": when}
        for i in ids
        if i not in known
    ]
    if new:
        session.execute(insert(CommentState), new)


def comment_topic_times(
    session: Session, *, start: dt.datetime, end: dt.datetime, **filters: Any
) -> tuple[Sequence[Row[dt.datetime, str]], Sequence[Row[dt.datetime]]]:
    """For the topic trend: (submitted_at, topic) of tagged comments, and submitted_at of every
    tagged comment (the denominator), in [start, end)."""
    conditions = _comment_conditions(start=start, end=end, **filters)
    tagged = _comments_from(
        select(Response.submitted_at)
        .select_from(Response)
        .join(CommentState, CommentState.response_id == Response.id)
    ).where(*conditions)
    with_topic = _comments_from(
        select(Response.submitted_at, CommentTopic.topic)
        .select_from(Response)
        .join(CommentTopic, CommentTopic.response_id == Response.id)
    ).where(*conditions)
    return session.execute(with_topic).all(), session.execute(tagged).all()


def comment_ids_within(
    session: Session, response_ids: Iterable[int], agency_ids: frozenset[int] | None
) -> set[int]:
    """Those of the ids that are comments of these agencies (None: every agency)."""
    ids = list(response_ids)
    if not ids:
        return set()
    query = _comments_from(select(Response.id).select_from(Response)).where(
        Response.id.in_(ids), Response.comment.is_not(None)
    )
    if agency_ids is not None:
        query = query.where(ServicePoint.agency_id.in_(agency_ids))
    return set(session.scalars(query))


def mark_comments(
    session: Session, response_ids: Iterable[int], scope_key: str, user_id: int | None, read: bool
) -> int:
    """Mark comments read (or unread again) for a scope; returns how many changed."""
    ids = set(response_ids)
    already = set(
        session.scalars(
            select(CommentRead.response_id).where(
                CommentRead.scope_key == scope_key, CommentRead.response_id.in_(ids)
            )
        )
    )
    if not read:
        if already:
            session.execute(
                delete(CommentRead).where(
                    CommentRead.scope_key == scope_key, CommentRead.response_id.in_(already)
                )
            )
        return len(already)
    new = sorted(ids - already)
    if new:
        session.execute(
            insert(CommentRead),
            [{"response_id": i, "scope_key": scope_key, "read_by_id": user_id} for i in new],
        )
    return len(new)


def lexicon_changes(session: Session) -> Sequence[CommentLexiconTerm]:
    return session.scalars(
        select(CommentLexiconTerm).order_by(CommentLexiconTerm.topic, CommentLexiconTerm.term)
    ).all()


def lexicon_change(session: Session, topic: str, term: str) -> CommentLexiconTerm | None:
    return session.scalar(
        select(CommentLexiconTerm).where(
            CommentLexiconTerm.topic == topic, CommentLexiconTerm.term == term
        )
    )


def replace_lexicon_changes(session: Session, rows: list[dict[str, Any]]) -> None:
    session.execute(delete(CommentLexiconTerm))
    if rows:
        session.execute(insert(CommentLexiconTerm), rows)


# --- Province set-up: organisation, volumes, paper responses (survey/services/setup/) ---------


def agency_ids_with_responses(session: Session) -> set[int]:
    """Agencies with at least one response at one of their points (their sector is fixed)."""
    return set(
        session.scalars(
            select(ServicePoint.agency_id)
            .where(select(Response.id).where(Response.service_point_id == ServicePoint.id).exists())
            .distinct()
        )
    )


def service_points_by_code(session: Session) -> dict[str, ServicePoint]:
    """Every service point by its code (agencies loaded)."""
    points = session.scalars(select(ServicePoint).options(joinedload(ServicePoint.agency))).all()
    return {point.code: point for point in points}


def service_point_ids_by_code(
    session: Session, agency_ids: frozenset[int] | None = None
) -> dict[str, int]:
    """Service points' own code (the one in the province's files; the QR's public code unless
    the province gave another) → id, only those of ``agency_ids`` when given (an import's
    look-up; a few thousand at most)."""
    query = select(ServicePoint.code, ServicePoint.id)
    if agency_ids is not None:
        query = query.where(ServicePoint.agency_id.in_(agency_ids))
    return {code: point_id for code, point_id in session.execute(query)}


def volumes_between(session: Session, first: dt.date, last: dt.date) -> Sequence[ServiceVolume]:
    """Stored volumes of the months ``first``..``last`` (first days of months, inclusive)."""
    return session.scalars(
        select(ServiceVolume).where(ServiceVolume.month >= first, ServiceVolume.month <= last)
    ).all()


def _local_month(column: Any, dialect: str) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC timestamp in Vietnam time (UTC+7, no daylight saving)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+7 hours")


def monthly_response_counts(
    session: Session, start: dt.datetime, end: dt.datetime
) -> dict[tuple[int, str], int]:
    """Responses per (service point id, ``YYYY-MM`` in Vietnam time) submitted in [start, end)."""
    month = _local_month(Response.submitted_at, session.get_bind().dialect.name).label("month")
    rows = session.execute(
        select(Response.service_point_id, month, func.count(Response.id))
        .where(Response.submitted_at >= start, Response.submitted_at < end)
        .group_by(Response.service_point_id, month)
    )
    return {(point_id, label): count for point_id, label, count in rows}


def _local_year(column: Any, dialect: str) -> ColumnElement[str]:
    """``YYYY`` of a UTC timestamp in Vietnam time (UTC+7, no daylight saving)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", column), "YYYY")
    return func.strftime("%Y", column, "+7 hours")


def yearly_response_counts(session: Session) -> dict[tuple[int, int], int]:
    """Respondents counted in the headline index (not excluded, overall question answered) per
    (agency id, calendar year in Vietnam time): which years a report scope has enough data for."""
    year = _local_year(Response.submitted_at, session.get_bind().dialect.name).label("year")
    rows = session.execute(
        select(ServicePoint.agency_id, year, func.count(Response.id))
        .join(ServicePoint, Response.service_point_id == ServicePoint.id)
        .join(Answer, Answer.response_id == Response.id)
        .join(Item, Answer.item_id == Item.id)
        .where(*_not_excluded(False), Item.is_overall.is_(True), Answer.value.is_not(None))
        .group_by(ServicePoint.agency_id, year)
    )
    return {(agency_id, int(label)): count for agency_id, label, count in rows}


def update_volumes(session: Session, rows: list[dict[str, Any]]) -> None:
    """Set ``volume`` and ``planned`` of stored volumes by id (``volume_id``)."""
    if rows:
        session.connection().execute(
            update(_VOLUME_TABLE)
            .where(_VOLUME_TABLE.c.id == bindparam("volume_id"))
            .values(volume=bindparam("new_volume"), planned=bindparam("new_planned")),
            rows,
        )


def existing_idempotency_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 5_000):
        chunk = list(keys[start : start + 5_000])
        found.update(
            session.scalars(
                select(Response.idempotency_key).where(Response.idempotency_key.in_(chunk))
            )
        )
    return found


def copy_rows(
    session: Session, table: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert many rows in the session's transaction: ``COPY … FROM STDIN`` on PostgreSQL (an
    order of magnitude faster than a many-row INSERT there), executemany elsewhere."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == 20_000:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)


def response_ids_by_key(session: Session, keys: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 5_000):
        chunk = list(keys[start : start + 5_000])
        found = session.execute(
            select(Response.idempotency_key, Response.id).where(Response.idempotency_key.in_(chunk))
        )
        ids.update((key, response_id) for key, response_id in found)
    return ids


def service_point_agencies_by_code(session: Session) -> dict[str, tuple[int, int]]:
    """Every point's code → (point id, agency id)."""
    return {
        code: (point_id, agency_id)
        for code, point_id, agency_id in session.execute(
            select(ServicePoint.code, ServicePoint.id, ServicePoint.agency_id)
        )
    }


def questionnaire_translations(
    session: Session, questionnaire_id: int
) -> Sequence[QuestionnaireTranslation]:
    return session.scalars(
        select(QuestionnaireTranslation)
        .where(QuestionnaireTranslation.questionnaire_id == questionnaire_id)
        .order_by(QuestionnaireTranslation.language, QuestionnaireTranslation.id)
    ).all()


# --- Dossiers, rating links, complaints, clerks (survey/services/dossiers/) --------------------
# Imported here rather than at the top so that this section merges without touching the others.

from sqlalchemy import (  # noqa: E402
    BigInteger,
    Column,
    Date,
    MetaData,
    String,
    type_coerce,
)

from survey.storage.models import (  # noqa: E402
    CommentReview,
    Complaint,
    ComplaintEvent,
    Dossier,
    DossierInvitation,
    DossierRating,
    Staff,
    UTCDateTime,
)

# The rows of one dossier import, checked row by row in Python and then compared with the stored
# dossiers in SQL (a temporary table of the import's own connection: gone when it ends).
DOSSIER_STAGING = Table(
    "dossier_import_staging",
    MetaData(),
    Column("row_number", Integer, primary_key=True),
    Column("code", String(64), nullable=False),
    Column("service_point_id", Integer, nullable=False),
    Column("clerk_code", String(64)),
    Column("procedure", String(300), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("received_month", Date, nullable=False),
    Column("due_at", UTCDateTime),
    Column("returned_at", UTCDateTime),
    Column("status", String(12), nullable=False),
    Column("fingerprint", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
)
_STAGED = DOSSIER_STAGING.c
STAGED_COLUMNS = tuple(column.name for column in DOSSIER_STAGING.columns)


def create_dossier_staging(session: Session) -> None:
    connection = session.connection()
    DOSSIER_STAGING.drop(connection, checkfirst=True)
    DOSSIER_STAGING.create(connection)


def drop_dossier_staging(session: Session) -> None:
    DOSSIER_STAGING.drop(session.connection(), checkfirst=True)


def _sqlite_time(value: dt.datetime | None) -> str | None:
    """What UTCDateTime stores on SQLite (SQLAlchemy's text form of the UTC time)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def stage_dossier_rows(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert checked rows: tuples in the order of ``STAGED_COLUMNS``, times aware.

    Straight through the driver (COPY on PostgreSQL, executemany elsewhere): SQLAlchemy's per-row
    parameter processing cost more than the database's work at two million rows. Times are given
    as each engine's ``UTCDateTime`` stores them, so comparisons with stored dossiers stay exact.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.driver == "psycopg":  # PostgreSQL: COPY, in the same transaction
        driver = connection.connection.driver_connection
        if driver is None:  # only a closed connection has none
            raise RuntimeError("the database connection is closed")
        with (
            driver.cursor() as cursor,  # type: ignore[attr-defined]
            cursor.copy(
                f"COPY {DOSSIER_STAGING.name} ({', '.join(STAGED_COLUMNS)}) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {DOSSIER_STAGING.name} ({', '.join(STAGED_COLUMNS)}) "  # noqa: S608 — table and column names are constants
        f"VALUES ({', '.join([marker] * len(STAGED_COLUMNS))})"
    )
    if connection.dialect.name == "sqlite":
        t = _sqlite_time
        rows = [(*r[:5], t(r[5]), r[6], t(r[7]), t(r[8]), r[9], r[10]) for r in rows]
    connection.exec_driver_sql(statement, rows)


def index_dossier_staging(session: Session) -> None:
    """An index on the staged codes, made once the rows are in (faster than keeping it up)."""
    session.execute(
        text("CREATE INDEX ix_dossier_import_staging_code ON dossier_import_staging (code)")
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE dossier_import_staging"))


def count_repeated_staged_codes(session: Session) -> int:
    """Rows beyond the first of their dossier code (0 when every code appears once)."""
    total = session.scalar(select(func.count()).select_from(DOSSIER_STAGING)) or 0
    distinct = session.scalar(select(func.count(func.distinct(_STAGED.code)))) or 0
    return int(total) - int(distinct)


def _first_rows() -> Any:
    return (
        select(_STAGED.code, func.min(_STAGED.row_number).label("first_row"))
        .group_by(_STAGED.code)
        .having(func.count() > 1)
        .subquery()
    )


def staged_repeats_that_differ(session: Session, limit: int) -> tuple[int, Sequence[Any]]:
    """(how many, the first ``limit``) rows that repeat an earlier row's code with other content:
    (row_number, code, first_row)."""
    first = _first_rows()
    original = DOSSIER_STAGING.alias("original")
    condition = (
        select(_STAGED.row_number, _STAGED.code, first.c.first_row)
        .join(first, first.c.code == _STAGED.code)
        .join(original, original.c.row_number == first.c.first_row)
        .where(_STAGED.row_number != first.c.first_row)
        .where(_STAGED.fingerprint != original.c.fingerprint)
    )
    count = session.scalar(select(func.count()).select_from(condition.subquery())) or 0
    rows = session.execute(condition.order_by(_STAGED.row_number).limit(limit)).all()
    return int(count), rows


def drop_repeated_staged_rows(session: Session) -> int:
    """Keep the first row of each code (the others were found identical to it)."""
    keep = select(func.min(_STAGED.row_number)).group_by(_STAGED.code)
    result = session.connection().execute(
        delete(DOSSIER_STAGING).where(_STAGED.row_number.not_in(keep))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def staged_identity_conflicts(session: Session, limit: int) -> tuple[int, Sequence[Any]]:
    """Staged rows whose code is stored with another service point or receipt time:
    (row_number, code, stored point code, stored received_at)."""
    condition = (
        select(
            _STAGED.row_number,
            _STAGED.code,
            ServicePoint.public_code,
            Dossier.received_at,
        )
        .join(Dossier, Dossier.code == _STAGED.code)
        .join(ServicePoint, ServicePoint.id == Dossier.service_point_id)
        .where(
            or_(
                Dossier.service_point_id != _STAGED.service_point_id,
                Dossier.received_at != _STAGED.received_at,
            )
        )
    )
    count = session.scalar(select(func.count()).select_from(condition.subquery())) or 0
    rows = session.execute(condition.order_by(_STAGED.row_number).limit(limit)).all()
    return int(count), rows


def add_unknown_staged_clerks(session: Session, now: dt.datetime) -> int:
    """A staff record (no name yet) for each clerk id the import names that is not known, at the
    service point of the clerk's first dossier in the file."""
    unknown = (
        select(_STAGED.clerk_code, func.min(_STAGED.service_point_id))
        .where(_STAGED.clerk_code.is_not(None))
        .where(~select(Staff.id).where(Staff.clerk_code == _STAGED.clerk_code).exists())
        .group_by(_STAGED.clerk_code)
    )
    rows = [
        {"clerk_code": code, "service_point_id": point, "created_at": now}
        for code, point in session.execute(unknown)
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Staff), rows[start : start + 5000])
    return len(rows)


def _staff_of_staged() -> Any:
    return select(Staff.id).where(Staff.clerk_code == _STAGED.clerk_code).scalar_subquery()


def insert_new_staged_dossiers(session: Session, now: dt.datetime) -> int:
    """Store every staged dossier whose code is not stored yet; returns how many."""
    new = select(
        _STAGED.code,
        _STAGED.service_point_id,
        _staff_of_staged(),
        _STAGED.procedure,
        _STAGED.received_at,
        _STAGED.received_month,
        _STAGED.due_at,
        _STAGED.returned_at,
        _STAGED.status,
        bindparam("changed_at", now, type_=UTCDateTime),
        bindparam("imported_at", now, type_=UTCDateTime),
    ).where(~select(Dossier.id).where(Dossier.code == _STAGED.code).exists())
    # SQLAlchemy keeps an INSERT's row count only when asked (psycopg would report -1).
    result = session.connection().execute(
        insert(Dossier)
        .execution_options(preserve_rowcount=True)
        .from_select(
            [
                "code",
                "service_point_id",
                "staff_id",
                "procedure",
                "received_at",
                "received_month",
                "due_at",
                "returned_at",
                "status",
                "status_changed_at",
                "imported_at",
            ],
            new,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _progress_differs() -> ColumnElement[bool]:
    stored_clerk = select(Staff.clerk_code).where(Staff.id == Dossier.staff_id).scalar_subquery()
    return or_(
        Dossier.status != _STAGED.status,
        Dossier.returned_at.is_distinct_from(_STAGED.returned_at),
        Dossier.due_at.is_distinct_from(_STAGED.due_at),
        Dossier.procedure != _STAGED.procedure,
        stored_clerk.is_distinct_from(_STAGED.clerk_code),
    )


def staged_progress_changes(session: Session) -> Iterable[Any]:
    """Stored dossiers whose staged row changes their progress, old and new values side by side:
    (code, status, new status, returned_at, new, due_at, new, procedure, new, clerk, new)."""
    stored_clerk = select(Staff.clerk_code).where(Staff.id == Dossier.staff_id).scalar_subquery()
    return session.execute(
        select(
            Dossier.code,
            Dossier.status,
            _STAGED.status,
            Dossier.returned_at,
            _STAGED.returned_at,
            Dossier.due_at,
            _STAGED.due_at,
            Dossier.procedure,
            _STAGED.procedure,
            stored_clerk,
            _STAGED.clerk_code,
        )
        .join(Dossier, Dossier.code == _STAGED.code)
        .where(_progress_differs())
        .order_by(_STAGED.row_number)
        .execution_options(yield_per=2000)
    )


def apply_staged_progress(session: Session, now: dt.datetime) -> int:
    """Bring stored dossiers up to their staged progress; returns how many changed."""
    result = session.connection().execute(
        update(Dossier)
        .where(Dossier.code == _STAGED.code)
        .where(_progress_differs())
        .values(
            status=_STAGED.status,
            returned_at=_STAGED.returned_at,
            due_at=_STAGED.due_at,
            procedure=_STAGED.procedure,
            staff_id=_staff_of_staged(),
            status_changed_at=case(
                (Dossier.status != _STAGED.status, bindparam("now", now, type_=UTCDateTime)),
                else_=Dossier.status_changed_at,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_staged(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DOSSIER_STAGING)) or 0)


def dossier_monthly_counts(session: Session) -> Sequence[Any]:
    """(service_point_id, month, dossiers received): the volume where none was entered by hand."""
    return session.execute(
        select(Dossier.service_point_id, Dossier.received_month, func.count()).group_by(
            Dossier.service_point_id, Dossier.received_month
        )
    ).all()


def dossier_by_code(session: Session, code: str) -> Dossier | None:
    return session.scalar(
        select(Dossier)
        .options(joinedload(Dossier.service_point).joinedload(ServicePoint.agency))
        .where(Dossier.code == code)
    )


def _raw_time(column: Any) -> Any:
    """A time column without UTCDateTime's per-row conversion, for tables read into pandas: UTC
    text on SQLite, an aware datetime on PostgreSQL (``pd.to_datetime(utc=True)`` reads both)."""
    return type_coerce(column, String).label(column.key)


def dossiers_received_between(
    session: Session, start: dt.datetime, end: dt.datetime
) -> Sequence[Any]:
    """(agency code, status, due_at, returned_at, overall rating or None, complained about) of each
    dossier received in [start, end); times as ``_raw_time``."""
    complained = select(Complaint.id).where(Complaint.dossier_id == Dossier.id).exists()
    return session.execute(
        select(
            Agency.code,
            Dossier.status,
            _raw_time(Dossier.due_at),
            _raw_time(Dossier.returned_at),
            DossierRating.overall,
            complained,
        )
        .join(ServicePoint, ServicePoint.id == Dossier.service_point_id)
        .join(Agency, Agency.id == ServicePoint.agency_id)
        .outerjoin(DossierRating, DossierRating.dossier_id == Dossier.id)
        .where(Dossier.received_at >= start, Dossier.received_at < end)
    ).all()


def complaints_opened_between(
    session: Session, start: dt.datetime, end: dt.datetime
) -> Sequence[Any]:
    """(agency code, due_at, closed_at, handling rating or None) of each complaint opened in
    [start, end)."""
    return session.execute(
        select(Agency.code, Complaint.due_at, Complaint.closed_at, Complaint.handling_rating)
        .join(Agency, Agency.id == Complaint.agency_id)
        .where(Complaint.opened_at >= start, Complaint.opened_at < end)
    ).all()


def invitation_of_dossier(session: Session, dossier_id: int) -> DossierInvitation | None:
    return session.scalar(
        select(DossierInvitation).where(DossierInvitation.dossier_id == dossier_id)
    )


def add_invitation(session: Session, **fields: Any) -> DossierInvitation:
    invitation = DossierInvitation(**fields)
    session.add(invitation)
    session.flush()
    return invitation


def invitation_by_token_hash(session: Session, digest: str) -> DossierInvitation | None:
    return session.scalar(
        select(DossierInvitation)
        .options(
            joinedload(DossierInvitation.dossier)
            .joinedload(Dossier.service_point)
            .joinedload(ServicePoint.agency)
        )
        .where(DossierInvitation.token_hash == digest)
    )


def count_invitation_open(session: Session, invitation_id: int, now: dt.datetime) -> None:
    session.execute(
        update(DossierInvitation)
        .where(DossierInvitation.id == invitation_id)
        .values(
            open_count=DossierInvitation.open_count + 1,
            first_opened_at=func.coalesce(
                DossierInvitation.first_opened_at, bindparam("now", now, type_=UTCDateTime)
            ),
        )
        .execution_options(synchronize_session=False)
    )


def dossiers_to_invite(
    session: Session, returned_since: dt.datetime, agency_ids: frozenset[int] | None
) -> Sequence[Dossier]:
    """Returned dossiers still inside their link's life, not rated, whose link was not sent."""
    query = (
        select(Dossier)
        .options(joinedload(Dossier.service_point))
        .outerjoin(DossierInvitation, DossierInvitation.dossier_id == Dossier.id)
        .where(Dossier.status == "returned", Dossier.returned_at >= returned_since)
        .where(DossierInvitation.sent_at.is_(None))
        .where(
            ~select(DossierRating.dossier_id).where(DossierRating.dossier_id == Dossier.id).exists()
        )
        .order_by(Dossier.returned_at, Dossier.id)
    )
    if agency_ids is not None:
        query = query.join(ServicePoint, ServicePoint.id == Dossier.service_point_id).where(
            ServicePoint.agency_id.in_(agency_ids)
        )
    return session.scalars(query).all()


def add_dossier_rating(session: Session, dossier_id: int, overall: int) -> DossierRating:
    rating = DossierRating(dossier_id=dossier_id, overall=overall)
    session.add(rating)
    session.flush()
    return rating


def dossier_rating(session: Session, dossier_id: int) -> DossierRating | None:
    return session.get(DossierRating, dossier_id)


def link_rating_to_response(session: Session, dossier_id: int, response_id: int) -> None:
    session.execute(
        update(DossierRating)
        .where(DossierRating.dossier_id == dossier_id)
        .values(response_id=response_id)
        .execution_options(synchronize_session=False)
    )


def mark_invitation_used(session: Session, invitation_id: int) -> None:
    session.execute(
        update(DossierInvitation)
        .where(DossierInvitation.id == invitation_id)
        .values(used=True)
        .execution_options(synchronize_session=False)
    )


def staff_names(session: Session) -> list[str]:
    return [name for name in session.scalars(select(Staff.name)) if name]


def add_comment_review(session: Session, response_id: int, reason: str) -> None:
    session.add(CommentReview(response_id=response_id, reason=reason))


def dossier_by_id(session: Session, dossier_id: int) -> Dossier | None:
    return session.scalar(
        select(Dossier)
        .options(
            joinedload(Dossier.service_point).joinedload(ServicePoint.agency),
            joinedload(Dossier.staff),
        )
        .where(Dossier.id == dossier_id)
    )


def latest_complaint_of_dossier(session: Session, dossier_id: int) -> Complaint | None:
    return session.scalar(
        select(Complaint)
        .where(Complaint.dossier_id == dossier_id)
        .order_by(Complaint.id.desc())
        .limit(1)
    )


def complaint_by_id(session: Session, complaint_id: int) -> Complaint | None:
    return session.scalar(
        select(Complaint)
        .options(
            joinedload(Complaint.agency),
            joinedload(Complaint.dossier),
            selectinload(Complaint.events).joinedload(ComplaintEvent.actor),
        )
        .where(Complaint.id == complaint_id)
    )


def complaints_in(
    session: Session, agency_ids: frozenset[int] | None, state: str, now: dt.datetime
) -> Sequence[Complaint]:
    query = select(Complaint).options(joinedload(Complaint.agency), joinedload(Complaint.dossier))
    if agency_ids is not None:
        query = query.where(Complaint.agency_id.in_(agency_ids))
    if state == "closed":
        query = query.where(Complaint.closed_at.is_not(None)).order_by(Complaint.closed_at.desc())
    else:
        query = query.where(Complaint.closed_at.is_(None)).order_by(Complaint.due_at, Complaint.id)
        if state == "overdue":
            query = query.where(Complaint.due_at < bindparam("now", now, type_=UTCDateTime))
    return session.scalars(query.limit(500)).all()


def clerk_dossiers(session: Session, start: dt.datetime, end: dt.datetime) -> Iterable[Any]:
    """(staff id, overall rating or None, complained about) of each dossier with a clerk received
    in [start, end), cancelled ones left out."""
    complained = select(Complaint.id).where(Complaint.dossier_id == Dossier.id).exists()
    return session.execute(
        select(Dossier.staff_id, DossierRating.overall, complained)
        .outerjoin(DossierRating, DossierRating.dossier_id == Dossier.id)
        .where(Dossier.staff_id.is_not(None), Dossier.status != "cancelled")
        .where(Dossier.received_at >= start, Dossier.received_at < end)
    )


def staff_in(session: Session, agency_ids: frozenset[int] | None) -> Sequence[Staff]:
    """Clerks (of the service points of ``agency_ids`` when given), named ones first by name."""
    query = select(Staff).options(joinedload(Staff.service_point).joinedload(ServicePoint.agency))
    if agency_ids is not None:
        query = query.join(ServicePoint, ServicePoint.id == Staff.service_point_id).where(
            ServicePoint.agency_id.in_(agency_ids)
        )
    return session.scalars(query.order_by(Staff.name.is_(None), Staff.name, Staff.clerk_code)).all()


def staff_by_id(session: Session, staff_id: int) -> Staff | None:
    return session.scalar(
        select(Staff)
        .options(joinedload(Staff.service_point).joinedload(ServicePoint.agency))
        .where(Staff.id == staff_id)
    )


def comment_reviews_in(
    session: Session, agency_ids: frozenset[int] | None
) -> Sequence[CommentReview]:
    query = (
        select(CommentReview)
        .options(joinedload(CommentReview.response).joinedload(Response.service_point))
        .join(Response, Response.id == CommentReview.response_id)
        .where(CommentReview.reviewed_at.is_(None))
        .order_by(CommentReview.id)
    )
    if agency_ids is not None:
        query = query.join(ServicePoint, ServicePoint.id == Response.service_point_id).where(
            ServicePoint.agency_id.in_(agency_ids)
        )
    return session.scalars(query.limit(200)).all()


def comment_review_by_id(session: Session, review_id: int) -> CommentReview | None:
    return session.scalar(
        select(CommentReview)
        .options(
            joinedload(CommentReview.response)
            .joinedload(Response.service_point)
            .joinedload(ServicePoint.agency)
        )
        .where(CommentReview.id == review_id)
    )


def invitation_counts(session: Session, start: dt.datetime, end: dt.datetime) -> Sequence[Any]:
    """Per agency code, for dossiers received in [start, end): links made, slips printed, links
    sent, links opened, ratings."""

    def counted(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    return session.execute(
        select(
            Agency.code,
            func.count(DossierInvitation.id),
            counted(DossierInvitation.slip_printed_at.is_not(None)),
            counted(DossierInvitation.sent_at.is_not(None)),
            counted(DossierInvitation.first_opened_at.is_not(None)),
            counted(DossierInvitation.used.is_(True)),
        )
        .join(Dossier, Dossier.id == DossierInvitation.dossier_id)
        .join(ServicePoint, ServicePoint.id == Dossier.service_point_id)
        .join(Agency, Agency.id == ServicePoint.agency_id)
        .where(Dossier.received_at >= start, Dossier.received_at < end)
        .group_by(Agency.code)
    ).all()


def unlink_dossier_ratings(session: Session, received_before: dt.datetime | None) -> int:
    """Forget which response answered which dossier (the overall answer stays with the dossier)
    for dossiers received before a time, or all; returns how many links were dropped."""
    query = update(DossierRating).where(DossierRating.response_id.is_not(None))
    if received_before is not None:
        query = query.where(
            DossierRating.dossier_id.in_(
                select(Dossier.id).where(
                    Dossier.received_at < bindparam("before", received_before, type_=UTCDateTime)
                )
            )
        )
    result = session.connection().execute(query.values(response_id=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
