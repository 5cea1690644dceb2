"""The schema is made by the migrations alone, from empty to head and back, on both engines."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask.testing import FlaskCliRunner
from sqlalchemy import Connection, create_engine, delete, func, inspect, select, text, update
from sqlalchemy.orm import Session

from survey.services.local_time import today_in_vietnam
from survey.storage import queries
from survey.storage.database import downgrade_database, upgrade_database
from survey.storage.models import Answer, Base, Questionnaire, Response, ServicePoint
from tests.factories import SmallProvince
from tests.test_response_summaries import assert_in_step


def test_migrations_from_empty_to_head_match_the_models(database_url: str):
    downgrade_database(database_url, "base")
    engine = create_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_database(database_url)
        with engine.connect() as connection:
            differences = _compare_with_models(connection)
        assert differences == []
        assert {"agency", "service_point", "response", "answer", "target"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        upgrade_database(database_url)
        engine.dispose()


def test_0009_empties_made_up_english_names_and_keeps_real_ones(database_url: str):
    """Copies of the Vietnamese name, with or without diacritics and in any case, were made up
    (the demo's "Truong Thpt Chuyen Le Quy Don"): they become NULL; real English names stay."""
    downgrade_database(database_url, "0008")
    engine = create_engine(database_url)
    agencies = {
        "A1": ("Trường THPT Chuyên Lê Quý Đôn", "Truong Thpt Chuyen Le Quy Don"),
        "A2": ("Tỉnh Điện Biên", "Tỉnh Điện Biên"),
        "A3": ("Sở Y tế", "Department of Health"),
        "A4": ("Sở Lao động – Thương binh và Xã hội", "So Lao Dong   Thuong Binh Va Xa Hoi"),
    }
    try:
        with engine.begin() as connection:
            for number, (code, (name_vi, name_en)) in enumerate(agencies.items(), start=1):
                connection.execute(
                    text(
                        "INSERT INTO agency (id, code, name_vi, name_en, sector, level, valid_from)"
                        " VALUES (:id, :code, :vi, :en, 'administrative', 'province', '2020-01-01')"
                    ),
                    {"id": number, "code": code, "vi": name_vi, "en": name_en},
                )
            connection.execute(
                text(
                    "INSERT INTO service_point (id, agency_id, public_code, code, name_vi, name_en,"
                    " active) VALUES (1, 3, 'QR1', 'P1', 'Quầy số 1', 'Quay so 1', :yes),"
                    " (2, 3, 'QR2', 'P2', 'Quầy số 2', 'Counter 2', :yes)"
                ),
                {"yes": True},
            )
        upgrade_database(database_url, "0009")
        with engine.connect() as connection:
            names = dict(connection.execute(text("SELECT code, name_en FROM agency")).all())
            points = dict(connection.execute(text("SELECT code, name_en FROM service_point")).all())
        assert names == {"A1": None, "A2": None, "A3": "Department of Health", "A4": None}
        assert points == {"P1": None, "P2": "Counter 2"}

        downgrade_database(database_url, "0008")
        with engine.connect() as connection:
            names = dict(connection.execute(text("SELECT code, name_en FROM agency")).all())
        assert names["A1"] == "Trường THPT Chuyên Lê Quý Đôn"
        assert names["A3"] == "Department of Health"
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM service_point"))
            connection.execute(text("DELETE FROM agency"))
        engine.dispose()
        upgrade_database(database_url)


# --- 0011: monthly partitions of response (PostgreSQL) -------------------------------------------

# What 0011 changes on PostgreSQL only, on purpose (see its docstring): the foreign keys to
# response.id point at response_key, and the idempotency key is unique per month in the table
# (across months through response_key). The partitions and response_key are not models.
PARTITIONED_DEPENDANTS = (
    "answer",
    "comment_read",
    "comment_review",
    "comment_state",
    "comment_topic",
    "dossier_rating",
    "response_decision",
    "response_flag",
)


def _expected_on_postgresql(difference: tuple[Any, ...]) -> bool:
    kind, what = difference[0], difference[1]
    if kind in {"remove_fk", "add_fk"}:
        suffix = "_response_key" if kind == "remove_fk" else "_response"
        return what.table.name in PARTITIONED_DEPENDANTS and what.name == (
            f"fk_{what.table.name}_response_id{suffix}"
        )
    if kind in {"remove_constraint", "add_constraint"} and what.table.name == "response":
        columns = [column.name for column in what.columns]
        return columns == (
            ["idempotency_key", "submitted_at"]
            if kind == "remove_constraint"
            else ["idempotency_key"]
        )
    return False


def _compare_with_models(connection: Connection) -> list[Any]:
    """compare_metadata; on PostgreSQL without the partitions, response_key and 0011's
    intended differences (each of which must be there)."""
    if connection.dialect.name != "postgresql":
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))
    partitions = set(
        connection.scalars(
            text(
                "SELECT inhrelid::regclass::text FROM pg_inherits "
                "WHERE inhparent = 'response'::regclass"
            )
        )
    )

    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        return not (type_ == "table" and (name in partitions or name == "response_key"))

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    differences = list(compare_metadata(context, Base.metadata))
    expected = [d for d in differences if _expected_on_postgresql(d)]
    assert len(expected) == 2 * len(PARTITIONED_DEPENDANTS) + 2, expected
    return [d for d in differences if not _expected_on_postgresql(d)]


def _respond(
    session: Session,
    point: ServicePoint,
    questionnaire: Questionnaire,
    at: dt.datetime,
    value: int,
    key: str | None = None,
) -> int | None:
    """The public form's insert; None when the key is stored already."""
    response_id, _ = queries.insert_response(
        session,
        idempotency_key=key or uuid.uuid4().hex,
        service_point_id=point.id,
        questionnaire_id=questionnaire.id,
        channel="qr",
        language="vi",
        submitted_at=at,
        comment=None,
        answers={item.id: value for item in questionnaire.items},
    )
    return response_id


def _stored(
    session: Session, point: ServicePoint, questionnaire: Questionnaire, at: dt.datetime, value: int
) -> int:
    response_id = _respond(session, point, questionnaire, at, value)
    assert response_id is not None
    return response_id


def _home(connection: Connection, response_id: int) -> str:
    """The table that holds the response: its partition, or ``response`` when not partitioned."""
    return str(
        connection.scalar(
            text("SELECT tableoid::regclass::text FROM response WHERE id = :id"),
            {"id": response_id},
        )
    )


def _snapshot(connection: Connection) -> tuple[list[Any], list[Any], list[Any]]:
    return (
        list(connection.execute(text("SELECT * FROM response ORDER BY id"))),
        list(connection.execute(text("SELECT * FROM answer ORDER BY response_id, item_id"))),
        list(connection.execute(text("SELECT * FROM response_month ORDER BY 1, 2"))),
    )


def _is_partitioned(connection: Connection) -> bool:
    return bool(
        connection.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table "
                "WHERE partrelid = 'response'::regclass)"
            )
        )
    )


def test_0011_partitions_responses_by_month_on_postgresql(
    session: Session, seeded: SmallProvince, database_url: str, runner: FlaskCliRunner
):
    """Existing rows move into their months' partitions and back again on a downgrade; a new row
    lands in its month, one outside every month in the default partition; ids go on increasing;
    a key stored in one month is not stored again in another; moving a response to another
    month and deleting one keep answers and summaries right; ``create-partitions`` makes the
    missing months once, taking rows out of the default partition."""
    if not database_url.startswith("postgresql"):
        pytest.skip("responses are partitioned on PostgreSQL only")
    engine = create_engine(database_url)
    questionnaire = queries.active_questionnaire(session, "health")
    assert questionnaire is not None
    point = seeded.counter
    assert questionnaire.items  # loaded now: the migrations need every table free of readers
    session.close()
    this_month = today_in_vietnam().replace(day=1)
    try:
        downgrade_database(database_url, "0010")
        # Before: a plain table with a response of May 2024 (a month before any partition),
        # one made at 23:30 in Vietnam on 31 March 2025 (16:30 UTC: March in Vietnam) and one now.
        may_2024 = dt.datetime(2024, 5, 10, 3, tzinfo=dt.UTC)
        march_2025 = dt.datetime(2025, 3, 31, 16, 30, tzinfo=dt.UTC)
        first = _respond(session, point, questionnaire, may_2024, 5, key="kept-key")
        assert first is not None
        old = [
            first,
            _stored(session, point, questionnaire, march_2025, 4),
            _stored(session, point, questionnaire, dt.datetime.now(dt.UTC), 2),
        ]
        session.commit()
        session.close()
        with engine.connect() as connection:
            assert not _is_partitioned(connection)
            before = _snapshot(connection)

        upgrade_database(database_url)
        with engine.connect() as connection:
            assert _is_partitioned(connection)
            assert _snapshot(connection) == before
            assert _home(connection, old[0]) == "response_p2024_05"
            assert _home(connection, old[1]) == "response_p2025_03"
            assert _home(connection, old[2]) == (
                f"response_p{this_month.year}_{this_month.month:02d}"
            )
            partitions = set(
                connection.scalars(
                    text(
                        "SELECT inhrelid::regclass::text FROM pg_inherits "
                        "WHERE inhparent = 'response'::regclass"
                    )
                )
            )
        assert "response_default" in partitions
        month, ahead = dt.date(2024, 5, 1), this_month
        for _ in range(24):
            ahead = ahead.replace(year=ahead.year + ahead.month // 12, month=ahead.month % 12 + 1)
        while month <= ahead:  # every month from the oldest response to 24 months ahead
            assert f"response_p{month.year}_{month.month:02d}" in partitions
            month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
        assert len(partitions) == len({p for p in partitions if p.startswith("response_p")}) + 1

        # New rows: the same sequence; a far future month lands in the default partition; a
        # stored key in another month stores nothing.
        future = dt.datetime(2040, 1, 15, 3, tzinfo=dt.UTC)
        new = _stored(session, point, questionnaire, future, 3)
        assert new > max(old)
        assert _respond(session, point, questionnaire, march_2025, 1, key="kept-key") is None
        session.commit()
        with engine.connect() as connection:
            assert _home(connection, new) == "response_default"
        assert (
            session.scalar(select(Response.id).where(Response.idempotency_key == "kept-key"))
            == (old[0])
        )
        assert session.get(Response, new) is not None  # the ORM's primary key is still id alone
        assert_in_step(session)

        # Moving a response to another month moves its row and keeps its answers and the sums.
        answers_of_moved = session.scalar(
            select(func.count()).select_from(Answer).where(Answer.response_id == old[1])
        )
        session.execute(update(Response).where(Response.id == old[1]).values(submitted_at=may_2024))
        session.commit()
        with engine.connect() as connection:
            assert _home(connection, old[1]) == "response_p2024_05"
        assert answers_of_moved == session.scalar(
            select(func.count()).select_from(Answer).where(Answer.response_id == old[1])
        )
        assert_in_step(session)
        assert _respond(session, point, questionnaire, march_2025, 1, key="kept-key") is None

        # Deleting a response deletes its answers (and frees its key).
        session.execute(delete(Response).where(Response.id == old[0]))
        session.commit()
        assert session.scalars(select(Answer).where(Answer.response_id == old[0])).all() == []
        assert_in_step(session)
        again = _respond(session, point, questionnaire, may_2024, 5, key="kept-key")
        assert again is not None
        session.commit()
        session.close()

        # create-partitions: up to 26 months ahead (two more) and January 2040 from the default.
        result = runner.invoke(args=["create-partitions", "--months", "26"])
        assert result.exit_code == 0, result.output
        assert "Created 3 partitions" in result.output and "response_p2040_01" in result.output
        assert "Moved 1 responses out of the default partition" in result.output
        with engine.connect() as connection:
            assert _home(connection, new) == "response_p2040_01"
            assert connection.scalar(text("SELECT count(*) FROM response_default")) == 0
        assert_in_step(session)
        assert len(session.scalars(select(Answer).where(Answer.response_id == new)).all()) == len(
            questionnaire.items
        )
        session.close()
        result = runner.invoke(args=["create-partitions", "--months", "26"])
        assert result.exit_code == 0, result.output
        assert "has its partition already" in result.output

        # Down and up again: the same rows, answers and summaries.
        with engine.connect() as connection:
            before = _snapshot(connection)
        downgrade_database(database_url, "0010")
        with engine.connect() as connection:
            assert not _is_partitioned(connection)
            assert _snapshot(connection) == before
            referenced = connection.scalar(
                text(
                    "SELECT confrelid::regclass::text FROM pg_constraint "
                    "WHERE conname = 'fk_answer_response_id_response'"
                )
            )
            assert referenced == "response"
        later = _stored(session, point, questionnaire, dt.datetime.now(dt.UTC), 4)
        assert later > new
        session.commit()
        session.close()
        upgrade_database(database_url)
        with engine.connect() as connection:
            assert _is_partitioned(connection)
            rows, answers, _sums = _snapshot(connection)
            assert [row for row in rows if row.id != later] == before[0]
            assert [answer for answer in answers if answer.response_id != later] == before[1]
            assert _home(connection, later).startswith("response_p")
        assert_in_step(session)
    finally:
        session.close()
        engine.dispose()
        upgrade_database(database_url)


def test_create_partitions_has_nothing_to_do_on_sqlite(runner: FlaskCliRunner, database_url: str):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL: test_0011_partitions_responses_by_month_on_postgresql")
    result = runner.invoke(args=["create-partitions"])
    assert result.exit_code == 0, result.output
    assert "not partitioned" in result.output
