"""Small, explicit test data (the demo province is tested on its own)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.services.qr import new_public_code
from survey.storage.models import Agency, ServicePoint, ServiceVolume

SINCE = dt.date(2020, 1, 1)


@dataclass
class SmallProvince:
    province: Agency
    department: Agency
    hospital: Agency
    school: Agency
    retired_commune: Agency
    desk: ServicePoint
    counter: ServicePoint
    school_office: ServicePoint
    retired_desk: ServicePoint
    closed_desk: ServicePoint


def agency(
    session: Session,
    code: str,
    name: str,
    sector: str = "administrative",
    level: str = "province",
    parent: Agency | None = None,
    **fields: object,
) -> Agency:
    record = Agency(
        code=code,
        name_vi=name,
        name_en=name + " (en)",
        sector=sector,
        level=level,
        parent=parent,
        valid_from=fields.pop("valid_from", SINCE),
        **fields,
    )
    session.add(record)
    return record


def point(session: Session, owner: Agency, name: str, active: bool = True) -> ServicePoint:
    record = ServicePoint(
        agency=owner,
        public_code=new_public_code(),
        name_vi=name,
        name_en=name + " (en)",
        active=active,
    )
    session.add(record)
    return record


def small_province(session: Session) -> SmallProvince:
    province = agency(session, "P", "Tỉnh Thử Nghiệm")
    department = agency(session, "P-TP", "Sở Tư pháp", parent=province)
    hospital = agency(session, "P-BV", "Bệnh viện Đa khoa tỉnh", sector="health", parent=province)
    school = agency(
        session,
        "P-TH",
        "Trường Tiểu học Him Lam",
        sector="education",
        level="commune",
        parent=province,
    )
    successor = agency(
        session,
        "P-X2",
        "Phường Mường Thanh",
        level="commune",
        parent=province,
        valid_from=dt.date(2025, 7, 1),
    )
    retired = agency(
        session,
        "P-X1",
        "Xã Thanh Minh",
        level="commune",
        parent=province,
        valid_to=dt.date(2025, 7, 1),
        successor=successor,
    )
    desk = point(session, department, "Bộ phận một cửa")
    province_result = SmallProvince(
        province=province,
        department=department,
        hospital=hospital,
        school=school,
        retired_commune=retired,
        desk=desk,
        counter=point(session, hospital, "Quầy đăng ký khám bệnh"),
        school_office=point(session, school, "Văn phòng nhà trường"),
        retired_desk=point(session, retired, "Bộ phận một cửa xã"),
        closed_desk=point(session, department, "Quầy đã đóng", active=False),
    )
    session.flush()
    return province_result


def volume(session: Session, service_point: ServicePoint, month: dt.date, citizens: int) -> None:
    session.add(ServiceVolume(service_point=service_point, month=month, volume=citizens))


def count_rows(session: Session, model: type[Any]) -> int:
    """How many rows a model's table holds."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
