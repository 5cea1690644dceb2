"""Changing and ending satisfaction targets (adding and removing: ``survey.services.targets``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.access import OutOfScope, Scope
from survey.services.errors import InvalidInput, NotFound
from survey.storage.models import Target


def _target_in_scope(session: Session, scope: Scope, target_id: int) -> Target:
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound()
    if scope.sector is not None and target.sector != scope.sector:
        raise OutOfScope()
    return target


def target_for_editing(session: Session, scope: Scope, target_id: int) -> Target:
    return _target_in_scope(session, scope, target_id)


def edit_target(
    session: Session,
    actor: Any,
    scope: Scope,
    target_id: int,
    *,
    sector: str | None,
    first: dt.date,
    last: dt.date,
    low: float,
    high: float | None,
    description: str,
    source: str,
) -> Target:
    """Change a target's sector, dates, threshold or band and texts; the log keeps old and new."""
    target = _target_in_scope(session, scope, target_id)
    if scope.sector is not None and sector != scope.sector:
        raise OutOfScope()
    if last < first:
        raise InvalidInput(
            "Ngày kết thúc trước ngày bắt đầu.", "The end date is before the start date."
        )
    if not 0 <= low <= 1 or (high is not None and not low <= high <= 1):
        raise InvalidInput(
            "Mục tiêu phải từ 0 đến 100%, cận trên không nhỏ hơn cận dưới.",
            "A target lies between 0 and 100%, its upper bound not below its lower bound.",
        )
    values = {
        "sector": sector,
        "period_start": first,
        "period_end": last,
        "low": low,
        "high": high,
        "description": description,
        "source": source,
    }
    changed = {
        name: [getattr(target, name), value]
        for name, value in values.items()
        if getattr(target, name) != value
    }
    if changed:
        for name, (_old, value) in changed.items():
            setattr(target, name, value)
        audit.record(session, actor, "target.changed", f"target:{target.id}", changed)
        session.flush()
    return target


def end_target(session: Session, actor: Any, scope: Scope, target_id: int, last: dt.date) -> None:
    """End a target on ``last`` (it stays in the history of the reports it judged)."""
    target = _target_in_scope(session, scope, target_id)
    if last < target.period_start:
        raise InvalidInput(
            "Ngày kết thúc trước ngày bắt đầu của mục tiêu.",
            "The end date is before the target's start date.",
        )
    if last >= target.period_end:
        raise InvalidInput(
            "Mục tiêu đã kết thúc vào hoặc trước ngày này.",
            "The target already ends on or before this day.",
        )
    audit.record(
        session,
        actor,
        "target.ended",
        f"target:{target.id}",
        {"period_end": [target.period_end, last]},
    )
    target.period_end = last
    session.flush()
