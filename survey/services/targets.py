"""Satisfaction targets as data, seeded with the values of the provincial plans.

Sources: the provincial plans (seed documents 000, 001, 004) and the national decisions
1565/QĐ-TTg (2025) and 282/QĐ-TTg (2026–2030).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.access import OutOfScope, Scope
from survey.services.errors import InvalidInput, NotFound
from survey.storage import queries
from survey.storage.models import Target

NATIONAL = "Toàn quốc"


@dataclass(frozen=True)
class TargetSpec:
    scope_name: str
    sector: str | None
    start: dt.date
    end: dt.date
    low: float
    high: float | None
    description: str
    source: str


def _year(first: int, last: int | None = None) -> tuple[dt.date, dt.date]:
    return dt.date(first, 1, 1), dt.date(last or first, 12, 31)


SHIPPED_TARGETS: tuple[TargetSpec, ...] = (
    TargetSpec(
        "Tỉnh Điện Biên",
        "administrative",
        *_year(2015),
        0.70,
        0.75,
        "Hài lòng với dịch vụ của cơ quan hành chính nhà nước: 70–75% năm 2015",
        "QĐ 115/QĐ-UBND tỉnh Điện Biên (2012)",
    ),
    TargetSpec(
        "Tỉnh Điện Biên",
        "health",
        *_year(2015),
        0.60,
        None,
        "Hài lòng với đơn vị sự nghiệp công lĩnh vực y tế: trên 60% năm 2015",
        "QĐ 115/QĐ-UBND tỉnh Điện Biên (2012)",
    ),
    TargetSpec(
        "Tỉnh Điện Biên",
        "education",
        *_year(2015),
        0.60,
        None,
        "Hài lòng với đơn vị sự nghiệp công lĩnh vực giáo dục: trên 60% năm 2015",
        "QĐ 115/QĐ-UBND tỉnh Điện Biên (2012)",
    ),
    TargetSpec(
        "Tỉnh Cà Mau",
        "administrative",
        *_year(2017),
        0.95,
        None,
        "Hài lòng với sự phục vụ của cơ quan hành chính nhà nước: trên 95% đầu năm 2017",
        "QĐ 70/QĐ-UBND tỉnh Cà Mau (2016)",
    ),
    TargetSpec(
        "Tỉnh Đắk Lắk",
        "administrative",
        *_year(2013, 2015),
        0.60,
        None,
        "Hài lòng với cơ quan hành chính (cơ chế một cửa): trên 60% giai đoạn 2013–2015",
        "QĐ 323/QĐ-UBND tỉnh Đắk Lắk (2012)",
    ),
    TargetSpec(
        "Tỉnh Đắk Lắk",
        "health",
        *_year(2015),
        0.60,
        None,
        "Hài lòng với dịch vụ y tế công: trên 60% năm 2015",
        "QĐ 323/QĐ-UBND (2012)",
    ),
    TargetSpec(
        "Tỉnh Đắk Lắk",
        "education",
        *_year(2015),
        0.60,
        None,
        "Hài lòng với dịch vụ giáo dục công: trên 60% năm 2015",
        "QĐ 323/QĐ-UBND (2012)",
    ),
    TargetSpec(
        "Tỉnh Đắk Lắk",
        "health",
        *_year(2020),
        0.80,
        None,
        "Hài lòng với dịch vụ y tế công: trên 80% năm 2020",
        "QĐ 323/QĐ-UBND (2012)",
    ),
    TargetSpec(
        "Tỉnh Đắk Lắk",
        "education",
        *_year(2020),
        0.80,
        None,
        "Hài lòng với dịch vụ giáo dục công: trên 80% năm 2020",
        "QĐ 323/QĐ-UBND (2012)",
    ),
    TargetSpec(
        "Tỉnh Đắk Lắk",
        "administrative",
        *_year(2020),
        0.80,
        None,
        "Hài lòng với thủ tục hành chính và sự phục vụ của cơ quan hành chính: trên 80% năm 2020",
        "QĐ 323/QĐ-UBND (2012)",
    ),
    TargetSpec(
        NATIONAL,
        "administrative",
        *_year(2015),
        0.60,
        None,
        "Hài lòng với dịch vụ hành chính: trên 60% năm 2015",
        "NQ 30c/NQ-CP (2011)",
    ),
    TargetSpec(
        NATIONAL,
        "administrative",
        *_year(2020),
        0.80,
        None,
        "Hài lòng với dịch vụ hành chính: trên 80% năm 2020",
        "NQ 30c/NQ-CP (2011)",
    ),
    TargetSpec(
        NATIONAL,
        "education",
        *_year(2020),
        0.80,
        None,
        "Hài lòng với dịch vụ giáo dục công: trên 80% năm 2020",
        "NQ 30c/NQ-CP (2011)",
    ),
    TargetSpec(
        NATIONAL,
        "health",
        *_year(2025),
        0.80,
        None,
        "Hài lòng với dịch vụ y tế công: trên 80% năm 2025",
        "Chương trình tổng thể CCHC",
    ),
    TargetSpec(
        NATIONAL,
        "administrative",
        *_year(2026, 2030),
        0.95,
        None,
        "Hài lòng với việc giải quyết thủ tục hành chính: ít nhất 95% giai đoạn 2026–2030",
        "QĐ 282/QĐ-TTg",
    ),
)


def seed_targets(session: Session) -> int:
    """Store the shipped targets that are not stored yet; link them to a province if it exists."""
    added = 0
    for spec in SHIPPED_TARGETS:
        fields = {
            "scope_name": spec.scope_name,
            "sector": spec.sector,
            "period_start": spec.start,
            "period_end": spec.end,
            "low": spec.low,
        }
        if queries.target_exists(session, **fields):
            continue
        scope = queries.agency_by_name(session, spec.scope_name)
        session.add(
            Target(
                **fields,
                high=spec.high,
                scope_agency_id=scope.id if scope else None,
                description=spec.description,
                source=spec.source,
            )
        )
        added += 1
    session.flush()
    return added


def targets_in_scope(session: Session, scope: Scope) -> list[Target]:
    """The targets a scope may see and manage: every one, or only its sector's."""
    return [t for t in queries.all_targets(session) if scope.sector in (None, t.sector)]


def add_target(
    session: Session,
    actor: Any,
    scope: Any,
    *,
    sector: str | None,
    first: dt.date,
    last: dt.date,
    low: float,
    high: float | None,
    description: str,
    source: str,
) -> Target:
    """Add a province target (shares 0–1) and log it; sector administrators: their sector only."""
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
    province = queries.root_agency(session)
    target = Target(
        sector=sector,
        scope_name=province.name_vi if province else NATIONAL,
        scope_agency_id=province.id if province else None,
        period_start=first,
        period_end=last,
        low=low,
        high=high,
        description=description,
        source=source,
    )
    session.add(target)
    session.flush()
    audit.record(
        session,
        actor,
        "target.added",
        f"target:{target.id}",
        {
            "sector": sector,
            "from": first,
            "to": last,
            "low": low,
            "high": high,
            "description": description,
        },
    )
    session.flush()
    return target


def delete_target(session: Session, actor: Any, scope: Any, target_id: int) -> None:
    """Remove a target and log what it was."""
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound()
    if scope.sector is not None and target.sector != scope.sector:
        raise OutOfScope()
    audit.record(
        session,
        actor,
        "target.deleted",
        f"target:{target.id}",
        {
            "sector": target.sector,
            "scope": target.scope_name,
            "from": target.period_start,
            "to": target.period_end,
            "low": target.low,
            "high": target.high,
        },
    )
    session.delete(target)
    session.flush()
