"""The monthly summaries (response_month, answer_month; migration 0009) always equal a recount of
the responses and answers, whichever way rows arrive or change: the public form's insert, the bulk
paths of imports and the demo, an administrator excluding and including a response, and any
UPDATE or DELETE. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (whose triggers sum a
whole INSERT statement at once)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from survey.services.exports import VIETNAM_TIME
from survey.storage import queries
from survey.storage.database import downgrade_database, upgrade_database
from survey.storage.models import (
    Answer,
    AnswerMonth,
    Questionnaire,
    Response,
    ResponseMonth,
    ServicePoint,
)
from tests.factories import SmallProvince

Key = tuple[int, dt.date]


def recount(session: Session) -> tuple[Counter[Key], dict[tuple[int, dt.date, int], list[int]]]:
    """The summaries computed from the rows, in Python."""
    responses = {
        rid: (point, moment.astimezone(VIETNAM_TIME).date().replace(day=1), excluded)
        for rid, point, moment, excluded in session.execute(
            select(Response.id, Response.service_point_id, Response.submitted_at, Response.excluded)
        )
    }
    days: Counter[Key] = Counter()
    for point, day, excluded in responses.values():
        if not excluded:
            days[point, day] += 1
    answers: dict[tuple[int, dt.date, int], list[int]] = {}
    for rid, item, value in session.execute(
        select(Answer.response_id, Answer.item_id, Answer.value)
    ):
        point, day, excluded = responses[rid]
        if excluded or value is None:
            continue
        answers.setdefault((point, day, item), [0] * 5)[value - 1] += 1
    return days, answers


def stored(session: Session) -> tuple[Counter[Key], dict[tuple[int, dt.date, int], list[int]]]:
    """The summaries as the database keeps them (rows emptied to 0 left out)."""
    days: Counter[Key] = Counter(
        {
            (point, day): n
            for point, day, n in session.execute(
                select(ResponseMonth.service_point_id, ResponseMonth.month, ResponseMonth.responses)
            )
            if n
        }
    )
    answers = {}
    for row in session.scalars(select(AnswerMonth)):
        counts = [row.value_1, row.value_2, row.value_3, row.value_4, row.value_5]
        if any(counts):
            answers[row.service_point_id, row.month, row.item_id] = counts
    return days, answers


def assert_in_step(session: Session) -> None:
    session.flush()
    assert stored(session) == recount(session)


def _submit(
    session: Session, point: ServicePoint, questionnaire: Questionnaire, at: dt.datetime, value: int
) -> int:
    """The public form's insert (queries.insert_response); the last item is not applicable."""
    items = [item.id for item in questionnaire.items]
    answers: dict[int, int | None] = {item: value for item in items}
    answers[items[0]] = None
    response_id, _ = queries.insert_response(
        session,
        idempotency_key=uuid.uuid4().hex,
        service_point_id=point.id,
        questionnaire_id=questionnaire.id,
        channel="qr",
        language="vi",
        submitted_at=at,
        comment=None,
        answers=answers,
    )
    assert response_id is not None
    return response_id


def test_summaries_follow_every_change(session: Session, seeded: SmallProvince) -> None:
    questionnaire = queries.active_questionnaire(session, "administrative")
    assert questionnaire is not None
    desk, other = seeded.desk, seeded.retired_desk
    # 16:59:59.999999 UTC on 31 March is 23:59:59 in Hà Nội, 17:00 UTC is April there
    edge = dt.datetime(2025, 3, 31, 16, 59, 59, 999_999, tzinfo=dt.UTC)
    ids = [
        _submit(session, desk, questionnaire, edge, 5),
        _submit(session, desk, questionnaire, edge + dt.timedelta(microseconds=1), 4),
        _submit(session, desk, questionnaire, edge + dt.timedelta(hours=2), 2),
        _submit(session, other, questionnaire, edge, 1),
    ]
    assert_in_step(session)
    assert {month for _, month in stored(session)[0]} == {dt.date(2025, 3, 1), dt.date(2025, 4, 1)}

    # the bulk path of imports and the demo: many rows in one statement
    keys = [f"bulk-{k}" for k in range(30)]
    created = queries.bulk_insert_responses(
        session,
        [
            {
                "idempotency_key": key,
                "service_point_id": desk.id,
                "questionnaire_id": questionnaire.id,
                "channel": "paper",
                "language": "vi",
                "submitted_at": edge + dt.timedelta(days=20 * (k % 3)),
                "comment": None,
                "excluded": k == 7,  # imported already excluded
            }
            for k, key in enumerate(keys)
        ],
    )
    queries.bulk_insert_answers(
        session,
        [
            {"response_id": created[key], "item_id": item.id, "value": 1 + (k + j) % 5}
            for k, key in enumerate(keys)
            for j, item in enumerate(questionnaire.items)
        ],
    )
    assert_in_step(session)

    # an administrator excludes a response, then includes it again (queries.add_decision)
    admin = _admin(session)

    def decide(response_id: int, excluded: bool) -> None:
        queries.add_decision(
            session, response_id=response_id, excluded=excluded, reason="test", user_id=admin
        )

    decide(ids[0], True)
    assert_in_step(session)
    decide(ids[0], False)
    assert_in_step(session)
    decide(created[keys[7]], False)
    assert_in_step(session)

    # any other change, as a DBA might make it
    session.execute(update(Answer).where(Answer.response_id == ids[1]).values(value=3))
    assert_in_step(session)  # the blank answer became a 3 too
    session.execute(
        update(Response)
        .where(Response.id == ids[2])
        .values(service_point_id=other.id, submitted_at=edge - dt.timedelta(days=45))
    )
    assert_in_step(session)
    session.execute(delete(Answer).where(Answer.response_id == ids[3]))
    session.execute(delete(Response).where(Response.id == ids[3]))
    assert_in_step(session)
    session.execute(update(Response).where(Response.id == ids[1]).values(excluded=True))
    session.execute(delete(Answer).where(Answer.response_id == ids[1]))
    session.execute(delete(Response).where(Response.id == ids[1]))
    assert_in_step(session)
    session.commit()
    assert_in_step(session)


def _admin(session: Session) -> int:
    from survey.services.accounts import create_user

    create_user(session, "summary-admin", "a-long-enough-password-1")
    user = queries.user_by_username(session, "summary-admin")
    assert user is not None
    return user.id


def test_the_migration_summarises_existing_responses(
    session: Session, seeded: SmallProvince, database_url: str
) -> None:
    questionnaire = queries.active_questionnaire(session, "health")
    assert questionnaire is not None
    start = dt.datetime(2025, 6, 1, 3, tzinfo=dt.UTC)
    for k in range(12):
        _submit(
            session, seeded.counter, questionnaire, start + dt.timedelta(hours=7 * k), k % 5 + 1
        )
    session.execute(update(Response).where(Response.id % 4 == 0).values(excluded=True))
    session.commit()
    expected = recount(session)
    session.close()
    session.get_bind().dispose()  # type: ignore[union-attr]
    downgrade_database(database_url, "0009")  # before the summaries: the backfill rebuilds them
    upgrade_database(database_url)
    assert stored(session) == expected
    assert sum(expected[0].values()) == 9
