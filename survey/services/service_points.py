"""Service points: finding one, a few open ones per sector, and retiring a desk (its history
stays; its QR code stops taking answers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.errors import NotFound
from survey.storage import queries
from survey.storage.models import ServicePoint


def find_service_point(session: Session, public_code: str) -> ServicePoint:
    """The service point with this public code, open or closed (its agency loaded)."""
    point = queries.service_point_by_code(session, public_code)
    if point is None:
        raise NotFound()
    return point


def open_points_of_sector(session: Session, sector: str, limit: int) -> Sequence[ServicePoint]:
    """The first ``limit`` open service points of agencies in force in a sector."""
    return queries.active_service_points_of_sector(session, sector, limit=limit)


def retire_service_point(session: Session, actor: Any, public_code: str) -> None:
    """Close a desk: its responses stay in every report, new answers get the friendly 404."""
    point = queries.service_point_by_code(session, public_code)
    if point is None:
        raise NotFound()
    if not point.active:
        return
    point.active = False
    audit.record(
        session,
        actor,
        "service_point.retired",
        f"service_point:{point.public_code}",
        {"agency": point.agency.code, "name": point.name_vi},
    )
    session.flush()
