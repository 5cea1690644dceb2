"""The look-ups views and commands call instead of querying storage themselves."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from survey.services.access import NOTHING, Scope
from survey.services.agencies import agencies_by_code, find_agency, service_points_for_posters
from survey.services.errors import InvalidInput, NotFound
from survey.services.kiosks import kiosks_in_scope, points_for_new_kiosks, register_kiosk
from survey.services.service_points import find_service_point, open_points_of_sector
from survey.services.targets import seed_targets, targets_in_scope
from tests.factories import SmallProvince

EVERYTHING = Scope(everything=True, sector=None, agency_ids=None, can_manage=True)
HEALTH = Scope(everything=False, sector="health", agency_ids=None, can_manage=True)


def test_kiosks_go_to_open_points_of_agencies_in_force_within_the_scope(
    session: Session, seeded: SmallProvince
):
    everywhere = {p.id for p in points_for_new_kiosks(session, EVERYTHING)}
    assert {seeded.desk.id, seeded.counter.id, seeded.school_office.id} <= everywhere
    assert seeded.closed_desk.id not in everywhere and seeded.retired_desk.id not in everywhere
    assert [p.id for p in points_for_new_kiosks(session, HEALTH)] == [seeded.counter.id]
    assert points_for_new_kiosks(session, NOTHING) == []

    register_kiosk(session, service_point_id=seeded.desk.id, label="Sảnh", user_id=None)
    assert [k.label for k in kiosks_in_scope(session, EVERYTHING)] == ["Sảnh"]
    assert kiosks_in_scope(session, HEALTH) == []


def test_a_sector_sees_only_its_own_targets(session: Session, seeded: SmallProvince):
    seed_targets(session)
    every = targets_in_scope(session, EVERYTHING)
    health = targets_in_scope(session, HEALTH)
    assert health and len(health) < len(every)
    assert all(target.sector == "health" for target in health)


def test_agency_and_point_look_ups(session: Session, seeded: SmallProvince):
    assert find_agency(session, seeded.hospital.id).code == "P-BV"
    with pytest.raises(NotFound):
        find_agency(session, 10**6)
    assert find_service_point(session, seeded.closed_desk.public_code).id == seeded.closed_desk.id
    with pytest.raises(NotFound):
        find_service_point(session, "NO-SUCH-CODE")
    assert [a.code for a in agencies_by_code(session, frozenset({seeded.hospital.id}))] == ["P-BV"]
    assert len(agencies_by_code(session, None)) == 6
    assert [p.id for p in open_points_of_sector(session, "health", limit=2)] == [seeded.counter.id]


def test_posters_are_for_one_agency_or_all_and_an_unknown_code_is_refused(
    session: Session, seeded: SmallProvince
):
    department = {p.id for p in service_points_for_posters(session, "P-TP")}
    assert department == {seeded.desk.id, seeded.closed_desk.id}
    assert len(service_points_for_posters(session, None)) == 5
    with pytest.raises(InvalidInput, match="P-NONE"):
        service_points_for_posters(session, "P-NONE")
