"""Starting from the official list: a province and its communes and wards since 1 July 2025.

The list is the ``vietnam-provinces`` package (General Statistics Office codes: 34 provinces and
cities, 3,321 communes, wards and special zones). The province becomes an agency whose code is its
two-digit official code (``11`` for Điện Biên), each commune or ward an agency under it with its
five-digit code (``03127``), in force from 1 July 2025, and — unless asked not to — one service
point each, its one-stop desk (``03127-MC``). It goes through the organisation import: running it
again changes nothing; the units can then be renamed, moved and retired like any other.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from survey.services.errors import InvalidInput
from survey.services.importing import ImportReport, Row
from survey.services.setup.names import english_unit_name
from survey.services.setup.organisation import store_organisation
from survey.storage.database import all_or_nothing

REORGANISED = dt.date(2025, 7, 1)
DESK_VI = "Bộ phận tiếp nhận và trả kết quả"
DESK_EN = "One-stop reception desk"


@dataclass(frozen=True)
class OfficialUnit:
    code: str
    name: str
    kind: str  # tỉnh, thành phố trung ương, xã, phường, đặc khu


@dataclass(frozen=True)
class OfficialProvince:
    unit: OfficialUnit
    communes: tuple[OfficialUnit, ...]

    @property
    def full_name(self) -> str:
        if self.unit.name.startswith("Thành phố"):
            return self.unit.name
        return f"Tỉnh {self.unit.name}"


@cache
def official_provinces() -> dict[str, OfficialProvince]:
    """The 34 provinces by two-digit code, from the package's data."""
    from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

    data: list[dict[str, Any]] = json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    provinces = {}
    for entry in data:
        code = f"{int(entry['code']):02d}"
        communes = tuple(
            OfficialUnit(f"{int(ward['code']):05d}", ward["name"], ward["division_type"])
            for ward in sorted(entry["wards"], key=lambda ward: int(ward["code"]))
        )
        provinces[code] = OfficialProvince(
            OfficialUnit(code, entry["name"], entry["division_type"]), communes
        )
    return provinces


def province_choices() -> list[tuple[str, str]]:
    return [
        (code, f"{province.full_name} ({code})")
        for code, province in sorted(
            official_provinces().items(), key=lambda item: item[1].unit.name
        )
    ]


def setup_province(
    session: Session, province_code: str, *, actor: Any = None, with_desks: bool = True
) -> ImportReport:
    """Create (or leave as they are) the province and its communes and wards, in one
    transaction; ``ImportRefused`` if a stored unit with one of these codes says otherwise."""
    province = official_provinces().get(province_code.strip().zfill(2))
    if province is None:
        raise InvalidInput(
            f"Không có tỉnh, thành phố mang mã “{province_code}” trong danh mục 2025.",
            f"No province or city has the code “{province_code}” in the 2025 list.",
        )
    start = REORGANISED.isoformat()
    rows = [_row(1, province.unit.code, province.full_name, "", "province", start, "", "")]
    for number, commune in enumerate(province.communes, start=2):
        desk = (f"{commune.code}-MC", DESK_VI) if with_desks else ("", "")
        rows.append(
            _row(number, commune.code, commune.name, province.unit.code, "commune", start, *desk)
        )
    report = ImportReport()
    with all_or_nothing(session):
        store_organisation(
            session, rows, report, actor=actor, subject=f"official-list:{province.unit.code}"
        )
    return report


def _row(
    number: int,
    code: str,
    name: str,
    parent: str,
    level: str,
    start: str,
    point_code: str,
    point_name: str,
) -> Row:
    return Row(
        number,
        {
            "agency_code": code,
            "agency_name": name,
            "agency_name_en": english_unit_name(name) or "",
            "parent_code": parent,
            "sector": "administrative",
            "level": level,
            "valid_from": start,
            "valid_to": "",
            "successor_code": "",
            "service_point_code": point_code,
            "service_point_name": point_name,
            "service_point_name_en": DESK_EN if point_code else "",
        },
    )
