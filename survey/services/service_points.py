"""Service points: retiring a desk keeps its history; its QR code stops taking answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.errors import NotFound
from survey.storage import queries


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
