"""Targets and service points managed from the admin pages, each change in the audit log."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.storage.models import AuditEvent, ServicePoint, Target
from tests.conftest import form_fields
from tests.factories import SmallProvince

PASSWORD = "a-long-password-789"


def _sign_in(
    client: FlaskClient, session: Session, role: str = "province_admin", sector: str | None = None
) -> None:
    create_user(session, "manager", PASSWORD, role, sector=sector)
    session.commit()
    fields = form_fields(client.get("/admin/sign-in").get_data(as_text=True))
    answer = client.post(
        "/admin/sign-in", data={**fields, "username": "manager", "password": PASSWORD}
    )
    assert answer.status_code == 302


def test_add_and_remove_a_target_with_audit(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    page = client.get("/admin/targets")
    fields = form_fields(page.get_data(as_text=True))
    bad = client.post(
        "/admin/targets",
        data={
            **fields,
            "sector": "health",
            "first": "2026-01-01",
            "last": "2026-12-31",
            "low": "120",
            "description": "x",
        },
    )
    assert bad.status_code == 422 and 'role="alert"' in bad.get_data(as_text=True)
    added = client.post(
        "/admin/targets",
        data={
            **fields,
            "sector": "health",
            "first": "2026-01-01",
            "last": "2026-12-31",
            "low": "85",
            "high": "90",
            "description": "Y tế 85–90% năm 2026",
            "source": "KH 12/KH-UBND",
        },
    )
    assert added.status_code == 302
    target = session.scalars(
        select(Target).where(Target.description == "Y tế 85–90% năm 2026")
    ).one()
    assert (target.low, target.high, target.scope_name) == (0.85, 0.90, "Tỉnh Thử Nghiệm")
    listing = client.get("/admin/targets").get_data(as_text=True)
    assert "Y tế 85–90% năm 2026" in listing and "85%–90%" in listing
    target_id = target.id
    removed = client.post(f"/admin/targets/{target_id}/delete", data=form_fields(listing))
    assert removed.status_code == 302
    session.expunge_all()
    assert session.get(Target, target_id) is None
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["target.added", "target.deleted"]


def test_sector_administrator_manages_only_their_sector(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session, role="sector_admin", sector="health")
    fields = form_fields(client.get("/admin/targets").get_data(as_text=True))
    refused = client.post(
        "/admin/targets",
        data={
            **fields,
            "sector": "education",
            "first": "2026-01-01",
            "last": "2026-12-31",
            "low": "80",
            "description": "not mine",
        },
    )
    assert refused.status_code == 403
    assert session.scalars(select(Target).where(Target.description == "not mine")).first() is None


def test_closing_a_desk_keeps_answers_and_stops_new_ones(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    page = client.get(f"/admin/agencies/{seeded.department.id}").get_data(as_text=True)
    assert "Đóng điểm phục vụ này" in page
    closed = client.post(
        f"/admin/service-points/{seeded.desk.public_code}/retire", data=form_fields(page)
    )
    assert closed.status_code == 302
    session.expire_all()
    assert session.get(ServicePoint, seeded.desk.id).active is False  # type: ignore[union-attr]
    assert client.get(f"/s/{seeded.desk.public_code}").status_code == 404
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.action == "service_point.retired"
    assert event.subject == f"service_point:{seeded.desk.public_code}"
