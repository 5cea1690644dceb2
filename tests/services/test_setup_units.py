"""Agencies and points edited one at a time: the import's rules, the role's scope, the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from survey.services.access import OutOfScope, scope_for
from survey.services.errors import InvalidInput
from survey.services.importing import ImportRefused
from survey.services.setup.units import (
    agency_tree,
    close_service_point,
    save_agency,
    save_service_point,
    successor_point,
)
from survey.storage import queries
from survey.storage.models import User
from tests.factories import SmallProvince, point

NEW = {
    "agency_code": "P-TP-1",
    "agency_name": "Phòng Hành chính tư pháp",
    "parent_code": "P-TP",
    "sector": "administrative",
    "level": "province",
    "valid_from": "2025-01-01",
}


def _scope(session: Session, role: str, **fields):
    return scope_for(session, User(username="u", password_hash="x", role=role, **fields))


def test_a_manager_adds_below_its_agency_only(session: Session, seeded: SmallProvince):
    manager = _scope(session, "agency_manager", scope_agency_id=seeded.department.id)
    added = save_agency(session, None, manager, NEW, agency_id=None)
    assert added.parent.code == "P-TP"
    with pytest.raises(OutOfScope):
        save_agency(
            session, None, manager, {**NEW, "agency_code": "X", "parent_code": "P"}, agency_id=None
        )
    with pytest.raises(OutOfScope):
        save_agency(
            session, None, manager, {"agency_name": "Bệnh viện"}, agency_id=seeded.hospital.id
        )
    health = _scope(session, "sector_admin", sector="health")
    with pytest.raises(OutOfScope):
        save_agency(session, None, health, {**NEW, "agency_code": "Y"}, agency_id=None)


def test_the_import_rules_apply_to_one_form(session: Session, seeded: SmallProvince):
    everything = _scope(session, "province_admin")
    with pytest.raises(InvalidInput):
        save_agency(session, None, everything, {**NEW, "agency_code": "P-TP"}, agency_id=None)
    with pytest.raises(ImportRefused) as refused:
        save_agency(
            session, None, everything, {"parent_code": "P-TP"}, agency_id=seeded.province.id
        )
    assert "cycle" in refused.value.report.problems[0].message_en
    with pytest.raises(ImportRefused):
        save_agency(session, None, everything, {**NEW, "level": "hamlet"}, agency_id=None)


def test_tree_order_and_successor_points(session: Session, seeded: SmallProvince):
    tree = agency_tree(session, None)
    assert tree[0].agency.code == "P" and tree[0].depth == 0
    assert {node.agency.code for node in tree if node.depth == 1} == {
        "P-TP",
        "P-BV",
        "P-TH",
        "P-X1",
        "P-X2",
    }
    assert tree[-1].agency.code == "P-X1"  # retired last among its siblings
    today = dt.date.today()
    assert successor_point(session, seeded.retired_desk, today) is None
    ward_desk = point(session, seeded.retired_commune.successor, "Một cửa phường")
    session.commit()
    assert successor_point(session, seeded.retired_desk, today).id == ward_desk.id
    everything = _scope(session, "province_admin")
    save_service_point(
        session,
        None,
        everything,
        agency_id=seeded.department.id,
        code="TP-9",
        name_vi="Quầy 9",
        name_en="",
        adding=True,
    )
    with pytest.raises(InvalidInput):
        close_service_point(session, None, everything, seeded.desk.public_code, "NOWHERE")
    with pytest.raises(InvalidInput):
        close_service_point(
            session, None, everything, seeded.desk.public_code, seeded.closed_desk.code
        )
    close_service_point(session, None, everything, seeded.desk.public_code, "TP-9")
    nine = queries.service_points_by_code(session)["TP-9"]
    assert successor_point(session, seeded.desk, today).id == nine.id
