"""Services flush but do not commit; all-or-nothing imports undo only their own writes; the few
records that must outlive a rolled-back request get a transaction of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.dossiers.staff import import_staff
from survey.services.importing import ImportRefused
from survey.services.service_points import retire_service_point
from survey.storage.database import all_or_nothing, separate_transaction
from survey.storage.models import Agency, AuditEvent, ServicePoint, Staff
from tests.factories import SmallProvince


@pytest.fixture
def fresh(app: Flask) -> Iterator[Session]:
    """Another session: it sees what was committed, nothing else."""
    other: Session = app.extensions["survey.sessions"]()
    yield other
    other.close()


# --- services flush, callers commit ------------------------------------------------------------


def test_a_service_flushes_and_leaves_the_commit_to_its_caller(
    session: Session, seeded: SmallProvince, fresh: Session
):
    retire_service_point(session, None, seeded.desk.public_code)
    assert session.scalar(select(AuditEvent.action)) == "service_point.retired"  # flushed
    assert fresh.get(ServicePoint, seeded.desk.id).active  # not committed
    assert fresh.scalar(select(AuditEvent)) is None
    session.rollback()
    fresh.expire_all()
    assert fresh.get(ServicePoint, seeded.desk.id).active
    assert fresh.scalar(select(AuditEvent)) is None


def test_all_or_nothing_undoes_its_block_and_keeps_the_callers_writes(
    session: Session, seeded: SmallProvince, fresh: Session
):
    seeded.desk.name_vi = "Đổi trước khối"  # the caller's own write
    session.flush()
    with pytest.raises(RuntimeError), all_or_nothing(session):
        seeded.hospital.name_vi = "Đổi trong khối"
        session.flush()
        raise RuntimeError("refused halfway")
    assert seeded.hospital.name_vi == "Bệnh viện Đa khoa tỉnh"  # restored
    session.commit()
    assert fresh.get(ServicePoint, seeded.desk.id).name_vi == "Đổi trước khối"
    assert fresh.get(Agency, seeded.hospital.id).name_vi == "Bệnh viện Đa khoa tỉnh"


def test_a_block_that_succeeds_is_still_the_callers_to_commit_or_not(
    session: Session, seeded: SmallProvince, fresh: Session
):
    # The block is the transaction's first write: on SQLite its SAVEPOINT must not become a
    # transaction of its own, committed when the block ends.
    with all_or_nothing(session):
        seeded.hospital.name_vi = "Đổi trong khối"
        session.flush()
    session.rollback()
    assert fresh.get(Agency, seeded.hospital.id).name_vi == "Bệnh viện Đa khoa tỉnh"


def test_a_refused_import_leaves_nothing_and_the_caller_goes_on(
    session: Session, seeded: SmallProvince, fresh: Session
):
    session.add(Staff(clerk_code="C1", name="Nguyễn Văn A", service_point_id=seeded.desk.id))
    session.commit()
    audit.record(session, None, "test.before", "caller")  # the caller's write before the import
    staff_list = (
        "clerk_id,name,service_point_code\n"
        f"C1,Trần Thị B,{seeded.desk.code}\n"  # a change, applied before the next row is read
        f"C2,,{seeded.desk.code}\n"  # no name: the whole file is refused
    )
    with pytest.raises(ImportRefused):
        import_staff(session, staff_list.encode(), filename="staff.csv")
    assert session.scalar(select(Staff.name).where(Staff.clerk_code == "C1")) == "Nguyễn Văn A"
    session.commit()
    assert fresh.scalars(select(Staff.name)).all() == ["Nguyễn Văn A"]
    assert fresh.scalars(select(AuditEvent.action)).all() == ["test.before"]


def test_a_separate_transaction_outlives_the_callers_rollback(
    session: Session, seeded: SmallProvince, fresh: Session
):
    with separate_transaction(session) as own:
        audit.record(own, audit.ANONYMOUS, "sign_in.failed", "user:someone")
    seeded.desk.name_vi = "Không được lưu"  # the caller's own write, rolled back
    session.flush()
    session.rollback()
    assert fresh.scalars(select(AuditEvent.action)).all() == ["sign_in.failed"]
    assert fresh.get(ServicePoint, seeded.desk.id).name_vi == "Bộ phận một cửa"
