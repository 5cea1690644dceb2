"""Satisfaction targets as data, seeded with the values of the provincial plans.

Sources: shared/context/targets.md (seed documents 000, 001, 004) and the national decisions
1565/QĐ-TTg (2025) and 282/QĐ-TTg (2026–2030).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

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
