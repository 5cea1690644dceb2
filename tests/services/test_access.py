"""Role scopes over the agency hierarchy (survey.services.access)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from survey.services.access import (
    NOTHING,
    PERMISSIONS,
    Scope,
    agency_allowed,
    point_allowed,
    report_allowed,
    role_may,
    scope_for,
    visible_agency_ids,
)
from survey.services.accounts import create_user
from tests import factories
from tests.factories import SmallProvince

PASSWORD = "correct horse battery"


@pytest.fixture
def deep(session: Session, seeded: SmallProvince) -> dict[str, int]:
    """Below the department: a branch office and its desk unit (three levels), plus a commune
    merged into the retired one's successor."""
    branch = factories.agency(session, "P-TP-1", "Chi nhánh", parent=seeded.department)
    unit = factories.agency(session, "P-TP-1-a", "Tổ một cửa", parent=branch, level="commune")
    successor = seeded.retired_commune.successor
    assert successor is not None
    older = factories.agency(
        session,
        "P-X0",
        "Xã cũ",
        level="commune",
        parent=seeded.province,
        valid_to=dt.date(2025, 7, 1),
        successor=successor,
    )
    hamlet = factories.agency(session, "P-X0-t", "Thôn", level="commune", parent=older)
    session.commit()
    return {
        "branch": branch.id,
        "unit": unit.id,
        "successor": successor.id,
        "older": older.id,
        "hamlet": hamlet.id,
    }


def test_province_administrator_sees_everything(session: Session, seeded: SmallProvince):
    user = create_user(session, "chief", PASSWORD)
    scope = scope_for(session, user)
    assert scope.everything and scope.can_manage
    assert scope.allows(seeded.hospital) and scope.allows(seeded.school)
    assert visible_agency_ids(session, scope) is None


def test_sector_administrator_sees_every_agency_of_the_sector_only(
    session: Session, seeded: SmallProvince
):
    user = create_user(session, "health", PASSWORD, "sector_admin", sector="health")
    scope = scope_for(session, user)
    assert scope == Scope(everything=False, sector="health", agency_ids=None, can_manage=True)
    assert scope.allows(seeded.hospital) and scope.allows_point(seeded.counter)
    assert not scope.allows(seeded.department) and not scope.allows(seeded.retired_commune)
    assert not scope.allows_point(seeded.desk)
    assert visible_agency_ids(session, scope) == {seeded.hospital.id}


def test_agency_manager_sees_the_subtree_at_any_depth(
    session: Session, seeded: SmallProvince, deep: dict[str, int]
):
    user = create_user(
        session, "manager", PASSWORD, "agency_manager", scope_agency_id=seeded.department.id
    )
    scope = scope_for(session, user)
    assert scope.can_manage and not scope.everything and scope.sector is None
    assert scope.agency_ids == {seeded.department.id, deep["branch"], deep["unit"]}
    assert scope.allows_point(seeded.desk) and not scope.allows_point(seeded.counter)
    assert not scope.allows(seeded.province)  # not upwards


def test_a_successor_takes_in_the_history_of_the_agencies_it_replaced(
    session: Session, seeded: SmallProvince, deep: dict[str, int]
):
    user = create_user(
        session, "ward", PASSWORD, "agency_manager", scope_agency_id=deep["successor"]
    )
    scope = scope_for(session, user)
    assert scope.agency_ids == {
        deep["successor"],
        seeded.retired_commune.id,
        deep["older"],
        deep["hamlet"],
    }
    old = create_user(
        session, "old", PASSWORD, "agency_manager", scope_agency_id=seeded.retired_commune.id
    )
    assert scope_for(session, old).agency_ids == {seeded.retired_commune.id}  # not forwards


def test_viewers_are_read_only_for_a_sector_or_a_subtree(
    session: Session, seeded: SmallProvince, deep: dict[str, int]
):
    by_sector = scope_for(
        session, create_user(session, "viewer1", PASSWORD, "viewer", sector="education")
    )
    assert not by_sector.can_manage and by_sector.allows(seeded.school)
    assert not by_sector.allows(seeded.hospital)
    by_agency = scope_for(
        session,
        create_user(session, "viewer2", PASSWORD, "viewer", scope_agency_id=deep["branch"]),
    )
    assert not by_agency.can_manage and by_agency.agency_ids == {deep["branch"], deep["unit"]}


def test_unknown_roles_and_nobody_see_nothing(session: Session, seeded: SmallProvince):
    assert scope_for(session, None) == NOTHING
    user = create_user(session, "chief", PASSWORD)
    user.role = "mayor"
    assert scope_for(session, user) == NOTHING
    assert not NOTHING.allows(seeded.department) and not NOTHING.can_manage
    assert visible_agency_ids(session, NOTHING) == frozenset()


def test_permissions_leave_viewers_read_only_and_users_to_the_province():
    managing = {p for p, roles in PERMISSIONS.items() if p.startswith(("manage", "review"))}
    assert managing and all("viewer" not in PERMISSIONS[p] for p in managing)
    assert PERMISSIONS["manage_users"] == PERMISSIONS["view_audit"] == {"province_admin"}
    assert "viewer" in PERMISSIONS["view_reports"]


def test_what_a_url_names_is_checked_against_the_scope(session: Session, seeded: SmallProvince):
    health = Scope(everything=False, sector="health", agency_ids=None, can_manage=True)
    assert agency_allowed(session, health, seeded.hospital.id)
    assert not agency_allowed(session, health, seeded.department.id)
    assert agency_allowed(session, health, 10**6)  # unknown: the view answers 404
    assert point_allowed(session, health, seeded.counter.public_code)
    assert point_allowed(session, health, seeded.counter.id)
    assert not point_allowed(session, health, seeded.desk.public_code)
    assert not point_allowed(session, health, seeded.desk.id)
    assert report_allowed(session, health, "sector", "health")
    assert not report_allowed(session, health, "sector", "education")
    assert not report_allowed(session, health, "province", "all")
    assert report_allowed(session, health, "agency", "P-BV")
    assert not report_allowed(session, health, "agency", "P-TP")
    assert not role_may("viewer", "manage_kiosks") and role_may("agency_manager", "manage_kiosks")
