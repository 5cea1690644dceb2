"""Agencies and their service points as officials look them up: lists, one agency, its desks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row
from sqlalchemy.orm import Session

from survey.services.errors import InvalidInput, NotFound
from survey.storage import queries
from survey.storage.models import Agency, ServicePoint


def agencies_with_point_counts(
    session: Session, agency_ids: frozenset[int] | None
) -> Sequence[Row[Agency, int]]:
    """The agencies of ``agency_ids`` (None: every one) in hierarchy order, each with the
    number of its service points."""
    return queries.agencies_with_point_counts(session, agency_ids)


def agencies_by_code(session: Session, agency_ids: frozenset[int] | None) -> list[Agency]:
    """The agencies of ``agency_ids`` (None: every one), by code (for a form's choices)."""
    return [
        a for a in queries.agencies_by_code(session) if agency_ids is None or a.id in agency_ids
    ]


def find_agency(session: Session, agency_id: int) -> Agency:
    agency = queries.agency_by_id(session, agency_id)
    if agency is None:
        raise NotFound()
    return agency


def service_points_of(session: Session, agency_id: int) -> Sequence[ServicePoint]:
    """An agency's service points, open and closed, in the order they were added."""
    return queries.service_points_of_agency(session, agency_id)


def service_points_for_posters(session: Session, agency_code: str | None) -> Sequence[ServicePoint]:
    """The service points whose QR codes to print: one agency's (by code), or every one."""
    if agency_code is None:
        return queries.all_service_points(session)
    agency = queries.agency_by_code(session, agency_code)
    if agency is None:
        raise InvalidInput(
            f"Không có cơ quan nào mang mã «{agency_code}».",
            f"No agency has the code '{agency_code}'.",
        )
    return queries.service_points_of_agency(session, agency.id)
