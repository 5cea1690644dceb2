"""The administrator's first look: how many responses arrive, per agency and per sector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.storage import queries
from survey.storage.models import SECTORS, Response


@dataclass(frozen=True)
class AgencyCount:
    agency_id: int
    name_vi: str
    name_en: str
    sector: str
    level: str
    retired: bool
    responses: int
    latest: dt.datetime | None


@dataclass(frozen=True)
class ResponseOverview:
    total: int
    by_sector: dict[str, int]
    by_agency: list[AgencyCount]
    latest: Sequence[Response]


def response_overview(
    session: Session, latest_limit: int = 50, agency_ids: frozenset[int] | None = None
) -> ResponseOverview:
    """Counts and latest responses of the agencies a user may see (``None``: all of them)."""
    agencies = [
        AgencyCount(
            agency_id=row.id,
            name_vi=row.name_vi,
            name_en=row.name_en,
            sector=row.sector,
            level=row.level,
            retired=row.valid_to is not None,
            responses=row.responses,
            latest=row.latest,
        )
        for row in queries.response_counts(session, agency_ids)
    ]
    by_sector = dict.fromkeys(SECTORS, 0)
    for agency in agencies:
        by_sector[agency.sector] += agency.responses
    return ResponseOverview(
        total=sum(by_sector.values()),
        by_sector=by_sector,
        by_agency=agencies,
        latest=queries.latest_responses(session, latest_limit, agency_ids=agency_ids),
    )


def count_responses(session: Session) -> int:
    """Every stored response, flagged or not."""
    return queries.count_responses(session)
