"""The monthly partitions of ``response`` on PostgreSQL (migration 0011): which exist, and making
another. A partition holds one calendar month in Vietnam time (UTC+7) and is named
``response_pYYYY_MM``; ``response_default`` takes any row no month partition takes. SQLite keeps
one plain table (``is_partitioned`` is False there).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import text
from sqlalchemy.orm import Session

DEFAULT_PARTITION = "response_default"
_NAME = re.compile(r"response_p(\d{4})_(\d{2})")
_COLUMNS = (
    "id, idempotency_key, service_point_id, questionnaire_id, channel, language, submitted_at, "
    "comment, kiosk_id, device_time, excluded"
)


def partition_name(month: dt.date) -> str:
    return f"response_p{month.year:04d}_{month.month:02d}"


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _bounds(month: dt.date) -> tuple[str, str]:
    """The month's first and the next month's first moment in Vietnam, as timestamptz literals
    (built from dates only, so safe inside DDL, which takes no bound parameters)."""
    return f"{month.isoformat()} 00:00:00+07", f"{next_month(month).isoformat()} 00:00:00+07"


def is_partitioned(session: Session) -> bool:
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return False
    return bool(
        connection.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table "
                "WHERE partrelid = CAST(:t AS regclass))"
            ),
            {"t": "response"},
        )
    )


def partition_months(session: Session) -> set[dt.date]:
    """The months that have their own partition."""
    names = session.scalars(
        text(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = 'response'::regclass"
        )
    )
    months = set()
    for name in names:
        match = _NAME.fullmatch(name)
        if match:
            months.add(dt.date(int(match[1]), int(match[2]), 1))
    return months


def months_in_default(session: Session) -> list[dt.date]:
    """The Vietnam months of the rows the default partition holds (normally none)."""
    return list(
        session.scalars(
            text(
                f"SELECT DISTINCT summary_month(submitted_at) FROM {DEFAULT_PARTITION} ORDER BY 1"  # noqa: S608 — a fixed table name
            )
        )
    )


def create_partition(session: Session, month: dt.date) -> int:
    """Make ``month``'s partition; returns how many rows it took over from the default partition.

    PostgreSQL refuses a new partition while the default one holds rows of its range, so those
    are moved: the default partition is detached, the new one made, the rows copied into it and
    deleted from the detached table, and the default attached again, all in the caller's
    transaction. The triggers of migration 0011 see the same id stored again and count nothing
    twice, delete no answers and keep the key. Creating or attaching a partition locks
    ``response`` briefly: run it from cron at a quiet hour.
    """
    name = partition_name(month)
    start, end = _bounds(month)
    connection = session.connection()
    in_range = (
        "submitted_at >= CAST(:start AS timestamptz) AND submitted_at < CAST(:end AS timestamptz)"
    )
    bounds = {"start": start, "end": end}
    waiting = int(
        connection.scalar(
            text(f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE {in_range}"),  # noqa: S608 — fixed names
            bounds,
        )
        or 0
    )
    if waiting:
        connection.execute(text(f"ALTER TABLE response DETACH PARTITION {DEFAULT_PARTITION}"))
    connection.execute(
        text(f"CREATE TABLE {name} PARTITION OF response FOR VALUES FROM ('{start}') TO ('{end}')")
    )
    if waiting:
        connection.execute(
            text(
                f"INSERT INTO {name} ({_COLUMNS}) "  # noqa: S608 — fixed names
                f"SELECT {_COLUMNS} FROM {DEFAULT_PARTITION} WHERE {in_range}"
            ),
            bounds,
        )
        connection.execute(text(f"DELETE FROM {DEFAULT_PARTITION} WHERE {in_range}"), bounds)  # noqa: S608 — fixed names
        connection.execute(
            text(f"ALTER TABLE response ATTACH PARTITION {DEFAULT_PARTITION} DEFAULT")
        )
    return waiting


def analyze(session: Session) -> None:
    """Refresh the planner's statistics of the whole partitioned table: autovacuum analyzes each
    partition but never the partitioned parent, whose statistics estimate joins across months."""
    session.connection().execute(text("ANALYZE response"))
