"""Keeping ``response``'s monthly partitions ahead of time (PostgreSQL, migration 0011).

``create_partitions`` makes the partitions of this month and the next ``months`` (Vietnam months)
that are missing, and one for every month that has rows waiting in the default partition (which
it moves there), then analyzes ``response`` (autovacuum never analyzes a partitioned table
itself). Running it again makes nothing new: ``flask --app wsgi create-partitions`` from cron
once a month keeps two years ready. On SQLite there is nothing to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.storage import partitions


@dataclass(frozen=True, kw_only=True)
class PartitionRun:
    """What a run did: ``partitioned`` is False where ``response`` is one plain table (SQLite);
    ``created`` the months given a partition; ``moved`` the rows taken out of the default one."""

    partitioned: bool
    created: tuple[dt.date, ...] = ()
    moved: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(partitions.partition_name(month) for month in self.created)


def months_ahead(today: dt.date, months: int) -> list[dt.date]:
    """This month's first day and those of the ``months`` after it."""
    month = today.replace(day=1)
    wanted = [month]
    for _ in range(months):
        month = partitions.next_month(month)
        wanted.append(month)
    return wanted


def create_partitions(session: Session, *, months: int, today: dt.date) -> PartitionRun:
    """Make the missing monthly partitions up to ``months`` after ``today``'s month, in the
    caller's transaction."""
    if not partitions.is_partitioned(session):
        return PartitionRun(partitioned=False)
    existing = partitions.partition_months(session)
    wanted = set(months_ahead(today, months)) | set(partitions.months_in_default(session))
    created = sorted(wanted - existing)
    moved = sum(partitions.create_partition(session, month) for month in created)
    partitions.analyze(session)
    return PartitionRun(partitioned=True, created=tuple(created), moved=moved)
