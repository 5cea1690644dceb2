"""The demo province: the 2025 reorganisation and responses with real differences."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.services.demo import PROVINCE_CODE, REORGANISATION, load_demo_province
from survey.services.exports import responses_table
from survey.services.setup.values import fold
from survey.storage import queries
from survey.storage.models import Agency, ServicePoint, ServiceVolume, Target


def test_demo_province_loads_once_with_a_year_of_responses(session: Session):
    demo = load_demo_province(session)
    assert demo.created
    responses = queries.count_responses(session)
    assert 18_000 <= responses <= 22_000
    agencies = session.scalar(select(func.count(Agency.id)))
    volumes = session.scalar(select(func.count(ServiceVolume.id)))

    again = load_demo_province(session)
    assert again.created is False
    assert queries.count_responses(session) == responses
    assert session.scalar(select(func.count(Agency.id))) == agencies
    assert session.scalar(select(func.count(ServiceVolume.id))) == volumes

    # Three levels before 1 July 2025, two after: districts retired, communes merged.
    province = queries.agency_by_code(session, PROVINCE_CODE)
    assert province is not None and province.name_vi == "Tỉnh Điện Biên"
    # English names are written ones, diacritics kept; none is the Vietnamese name stripped.
    units = [*session.scalars(select(Agency)), *session.scalars(select(ServicePoint))]
    english = {unit.name_vi: unit.english_name for unit in units}
    assert english["Trường THPT Chuyên Lê Quý Đôn"] == (
        "Lê Quý Đôn Specialised Upper-Secondary School"
    )
    assert english["Bệnh viện Đa khoa tỉnh Điện Biên"] == "Điện Biên Provincial General Hospital"
    assert english["Huyện Tuần Giáo"] == "Tuần Giáo District"
    assert english["Phường Mường Thanh"] == "Mường Thanh Ward"
    assert all(english.values())
    assert [name for name_vi, name in english.items() if fold(name or "") == fold(name_vi)] == []
    districts = session.scalars(select(Agency).where(Agency.level == "district")).all()
    assert len(districts) == 10
    assert all(district.valid_to == REORGANISATION for district in districts)
    old_communes = session.scalars(
        select(Agency).where(Agency.level == "commune", Agency.valid_to == REORGANISATION)
    ).all()
    assert old_communes and all(c.successor is not None for c in old_communes)
    assert all(c.parent is not None and c.parent.level == "district" for c in old_communes)
    assert all(c.successor.parent_id == province.id for c in old_communes)  # type: ignore[union-attr]

    table = responses_table(session)
    assert set(table["period"]) == {"2025Q1", "2025Q2", "2025Q3", "2025Q4"}
    assert set(table["sector"]) == {"administrative", "health", "education"}
    assert table["weight"].notna().all()
    # No response at a retired agency after its retirement.
    retired_codes = {a.code for a in districts} | {c.code for c in old_communes}
    late = table[table["agency"].isin(retired_codes) & table["period"].isin(["2025Q3", "2025Q4"])]
    assert late.empty
    # Persistent differences between agencies: some well above 90%, some below 60% satisfied.
    satisfied = (table["q_overall"] >= 4).groupby(table["agency"]).agg(["mean", "size"])
    large = satisfied[satisfied["size"] >= 100]["mean"]
    assert large.max() > 0.85 and large.min() < 0.60
    # Every channel used is a real one and comments are present but rare.
    assert set(table["channel"]) <= {"qr", "kiosk"}
    assert 0.02 < table["comment"].notna().mean() < 0.10

    targets = session.scalars(select(Target).where(Target.scope_agency_id == province.id)).all()
    assert {(t.sector, t.low, t.high) for t in targets} >= {("administrative", 0.70, 0.75)}


def test_demo_volumes_cover_every_month_a_point_was_open(session: Session):
    load_demo_province(session)
    rows = pd.DataFrame([r._asdict() for r in queries.monthly_volumes(session)])
    months = rows.groupby("service_point_id")["month"].agg(["min", "max", "size"])
    assert set(months["size"]) <= {6, 12}
    assert (rows["volume"] > 0).all()
    assert months["min"].min() == dt.date(2025, 1, 1)
