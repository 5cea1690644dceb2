"""Dossier pages: the citizen's link and rating, and the officials' import, slips, figures,
complaints and clerks — with bad input and scopes."""

from __future__ import annotations

import csv as csvlib
import datetime as dt
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.dossiers.links import link_for
from survey.services.dossiers.settings import DossierSettings
from survey.storage import queries
from survey.storage.models import Complaint, Dossier, DossierRating, Response, Staff
from tests.conftest import form_fields
from tests.factories import SmallProvince, count_rows
from tests.qr_decode import decode_png
from tests.services.test_dossiers_import import csv, row
from tests.services.test_dossiers_official import dossier

PASSWORD = "a-long-password-789"
VN = dt.timezone(dt.timedelta(hours=7))


def sign_in(client: FlaskClient, session: Session, role: str = "province_admin", **scope) -> None:
    create_user(session, f"user-{role}", PASSWORD, role, **scope)
    session.commit()
    fields = form_fields(client.get("/admin/sign-in").get_data(as_text=True))
    answer = client.post(
        "/admin/sign-in", data={**fields, "username": f"user-{role}", "password": PASSWORD}
    )
    assert answer.status_code == 302


@pytest.fixture
def token(app: Flask, session: Session, seeded: SmallProvince) -> str:
    now = dt.datetime.now(VN)
    record = dossier(
        session,
        seeded.desk,
        1,
        now - dt.timedelta(days=3),
        now + dt.timedelta(days=2),
        now - dt.timedelta(days=1),
    )
    record.staff = Staff(clerk_code="CB001", name="Nguyễn Văn Tuấn", service_point=seeded.desk)
    settings = DossierSettings.from_config(app.config)
    _invitation, value = link_for(session, record, settings)
    session.commit()
    return value


def answers_for(html: str, overall: int, **extra: str) -> dict[str, str]:
    data = form_fields(html)
    for name in set(re.findall(r'name="(q_[a-z_0-9]+)"', html)):
        data[name] = "4"
    data["q_overall"] = str(overall)
    data.update(extra)
    return data


def test_rate_once_then_kindly_refused_and_a_double_tap_stores_one(
    client: FlaskClient, session: Session, token: str
):
    page = client.get(f"/d/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Đánh giá việc giải quyết hồ sơ" in html
    assert "H40." not in html  # the dossier's code is not on the citizen's page
    data = answers_for(html, 5)
    sent = client.post(f"/d/{token}", data=data)
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/d/{token}/thanks")
    assert client.get(sent.headers["Location"]).status_code == 200
    tap = client.post(f"/d/{token}", data=data)  # the same form again: a double tap
    assert tap.status_code == 302
    again = client.get(f"/d/{token}")
    assert again.status_code == 200
    assert "Hồ sơ này đã được đánh giá" in again.get_data(as_text=True)
    other = answers_for(html, 1, submission_id="another-form-0000000001")
    refused = client.post(f"/d/{token}", data=other)
    assert refused.status_code == 409
    assert "Hồ sơ này đã được đánh giá. Cảm ơn Ông/Bà!" in refused.get_data(as_text=True)
    assert len(session.scalars(select(Response)).all()) == 1
    assert session.scalars(select(DossierRating.overall)).all() == [5]


def test_forged_malformed_and_expired_links(
    app: Flask, client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    forged = client.get("/d/AAAAAAAAAAAAAAAAAAAAAA")
    assert forged.status_code == 404 and "không hợp lệ" in forged.get_data(as_text=True)
    assert client.get("/d/short").status_code == 404
    assert client.get("/d/" + "x" * 500).status_code == 404
    assert client.get("/d/AAAAAAAAAAAAAAAAAAAAAA?lang=en").status_code == 404
    old = dossier(
        session,
        seeded.desk,
        2,
        dt.datetime(2026, 1, 5, 8, tzinfo=VN),
        dt.datetime(2026, 1, 9, tzinfo=VN),
        dt.datetime(2026, 1, 8, tzinfo=VN),
    )
    _invitation, expired = link_for(session, old, DossierSettings.from_config(app.config))
    session.commit()
    gone = client.get(f"/d/{expired}?lang=en")
    assert gone.status_code == 410 and "has expired" in gone.get_data(as_text=True)


def test_a_low_rating_opens_a_complaint_closed_by_staff_and_rated_by_the_citizen(
    client: FlaskClient, session: Session, token: str
):
    html = client.get(f"/d/{token}").get_data(as_text=True)
    client.post(
        f"/d/{token}", data=answers_for(html, 1, comment="Anh Tuấn hẹn sai, gọi 0912345678")
    )
    thanks = client.get(f"/d/{token}/thanks").get_data(as_text=True)
    assert "Chúng tôi đã chuyển phản ánh" in thanks
    case = session.scalars(select(Complaint)).one()
    assert "0912345678" not in case.description
    citizen = client.get(f"/d/{token}").get_data(as_text=True)
    assert "đang được xử lý" in citizen
    staff = client.application.test_client()
    sign_in(staff, session)
    listing = staff.get("/admin/dossiers/complaints").get_data(as_text=True)
    assert f"#{case.id}" in listing
    page = staff.get(f"/admin/dossiers/complaints/{case.id}").get_data(as_text=True)
    fields = form_fields(page)
    empty = staff.post(f"/admin/dossiers/complaints/{case.id}/close", data={**fields, "text": ""})
    assert empty.status_code == 400
    closed = staff.post(
        f"/admin/dossiers/complaints/{case.id}/close",
        data={**fields, "text": "Đã liên hệ và xin lỗi công dân."},
    )
    assert closed.status_code == 302
    again = staff.post(
        f"/admin/dossiers/complaints/{case.id}/close", data={**fields, "text": "again"}
    )
    assert again.status_code == 409
    form = client.get(f"/d/{token}").get_data(as_text=True)
    assert 'name="rating"' in form
    rated = client.post(f"/d/{token}/handling", data={**form_fields(form), "rating": "4"})
    assert rated.status_code == 302
    session.refresh(case)
    assert case.handling_rating == 4
    assert "Cảm ơn Ông/Bà đã đánh giá việc xử lý" in client.get(f"/d/{token}").get_data(
        as_text=True
    )


def test_import_page_reports_rows_and_refuses_out_of_scope_points(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    sign_in(client, session, "agency_manager", scope_agency_id=seeded.department.id)
    page = client.get("/admin/dossiers/import")
    fields = form_fields(page.get_data(as_text=True))
    good = csv(row(seeded.desk.public_code))
    stored = client.post(
        "/admin/dossiers/import",
        data={**fields, "file": (io.BytesIO(good), "dossiers.csv")},
        content_type="multipart/form-data",
    )
    assert stored.status_code == 200 and "Đã nhập 1 dòng" in stored.get_data(as_text=True)
    bad = csv(row(seeded.counter.public_code, "H40.123.45-260126-010002"), row("x", "bad-code"))
    refused = client.post(
        "/admin/dossiers/import?lang=en",
        data={**fields, "file": (io.BytesIO(bad), "dossiers.csv")},
        content_type="multipart/form-data",
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "nothing was stored" in text
    assert "No service point within your scope" in text and "three parts" in text
    assert count_rows(session, Dossier) == 1
    empty = client.post("/admin/dossiers/import", data=fields, content_type="multipart/form-data")
    assert empty.status_code == 400


def test_slips_encode_the_link_not_the_code(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    sign_in(client, session)
    the_dossier = session.scalars(select(Dossier)).one()
    malformed = client.get("/admin/dossiers/?code=H40.123.45-260230-010001&lang=en")
    assert malformed.status_code == 200 and "not a real date" in malformed.get_data(as_text=True)
    unknown = client.get("/admin/dossiers/?code=H40.123.45-260126-019999&lang=en")
    assert "No dossier with this code" in unknown.get_data(as_text=True)
    lookup = client.get(f"/admin/dossiers/?code={the_dossier.code.lower()}")
    assert lookup.status_code == 302
    assert lookup.headers["Location"].endswith(f"/admin/dossiers/{the_dossier.id}")
    assert client.get(lookup.headers["Location"]).status_code == 200
    png = client.get(f"/admin/dossiers/{the_dossier.id}/slip.png")
    assert png.mimetype == "image/png"
    assert decode_png(png.data) == [f"https://survey.example.vn/d/{token}"]
    svg = client.get(f"/admin/dossiers/{the_dossier.id}/slip.svg")
    assert svg.mimetype == "image/svg+xml"
    pdf = client.get(f"/admin/dossiers/{the_dossier.id}/slip.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(f"/admin/dossiers/{the_dossier.id}/slip.gif").status_code == 404
    assert client.get("/admin/dossiers/999999/slip.png").status_code == 404
    invitation = queries.invitation_of_dossier(session, the_dossier.id)
    assert invitation is not None and invitation.slip_printed_at is not None


def test_invitations_are_exported_once(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    sign_in(client, session)
    fields = form_fields(client.get("/admin/dossiers/").get_data(as_text=True))
    first = client.post("/admin/dossiers/invitations.csv", data={**fields, "channel": "zalo"})
    rows = list(csvlib.DictReader(io.StringIO(first.data.decode("utf-8-sig"))))
    assert [r["link"] for r in rows] == [f"https://survey.example.vn/d/{token}"]
    second = client.post("/admin/dossiers/invitations.csv", data={**fields, "channel": "zalo"})
    assert list(csvlib.DictReader(io.StringIO(second.data.decode("utf-8-sig")))) == []


def test_official_page_shows_the_ratios_and_the_sentence(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    sign_in(client, session, "viewer", scope_agency_id=seeded.department.id)
    today = dt.datetime.now(VN).date()
    page = client.get(f"/admin/dossiers/official?first={today.year}-01-01&last={today}&lang=en")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "The official ratio (100.0%) counts as satisfied the 100.0% of dossiers" in text
    assert "Bệnh viện" not in text  # outside the viewer's scope
    download = client.get(f"/admin/dossiers/official.csv?first={today.year}-01-01&last={today}")
    header = download.data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("agency_code,dossiers,rated,dissatisfied,complained,overdue")
    bad = client.get("/admin/dossiers/official?first=yesterday&last=today")
    assert bad.status_code == 200  # the default period, with the form's error


def test_clerks_page_hides_small_counts_and_staff_are_scoped(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    sign_in(client, session, "agency_manager", scope_agency_id=seeded.department.id)
    page = client.get("/admin/dossiers/staff?lang=en").get_data(as_text=True)
    assert "Nguyễn Văn Tuấn" in page and "fewer than 30 ratings" in page
    member = session.scalars(select(Staff)).one()
    edit = client.get(f"/admin/dossiers/staff/{member.id}")
    fields = form_fields(edit.get_data(as_text=True))
    saved = client.post(
        f"/admin/dossiers/staff/{member.id}",
        data={**fields, "name": "Nguyễn Văn Tuấn Anh", "active_from": "2025-01-01"},
    )
    assert saved.status_code == 302
    session.refresh(member)
    assert member.name == "Nguyễn Văn Tuấn Anh" and member.active_from == dt.date(2025, 1, 1)
    outsider = Staff(clerk_code="BV1", name="Y tá", service_point=seeded.counter)
    session.add(outsider)
    session.commit()
    assert client.get(f"/admin/dossiers/staff/{outsider.id}").status_code == 404
    case = Complaint(
        agency_id=seeded.hospital.id,
        source="staff",
        description="",
        opened_at=dt.datetime.now(dt.UTC),
        due_at=dt.datetime.now(dt.UTC),
    )
    session.add(case)
    session.commit()
    assert client.get(f"/admin/dossiers/complaints/{case.id}").status_code == 404


def test_comments_naming_a_person_are_reviewed(
    client: FlaskClient, session: Session, seeded: SmallProvince, token: str
):
    from survey.storage.models import AuditEvent, CommentReview

    html = client.get(f"/d/{token}").get_data(as_text=True)
    client.post(f"/d/{token}", data=answers_for(html, 4, comment="Cảm ơn chị Hoa nhiệt tình"))
    review = session.scalars(select(CommentReview)).one()
    sign_in(client, session, "agency_manager", scope_agency_id=seeded.department.id)
    page = client.get("/admin/dossiers/reviews").get_data(as_text=True)
    assert "Cảm ơn chị Hoa nhiệt tình" in page
    fields = form_fields(page)
    decided = client.post(
        f"/admin/dossiers/reviews/{review.id}", data={**fields, "decision": "blank"}
    )
    assert decided.status_code == 302
    assert session.scalars(select(Response.comment)).one() is None
    assert "comment.reviewed" in session.scalars(select(AuditEvent.action)).all()
    assert "Cảm ơn chị Hoa" not in client.get("/admin/dossiers/reviews").get_data(as_text=True)
    wrong = client.post(f"/admin/dossiers/reviews/{review.id}", data={**fields, "decision": "x"})
    assert wrong.status_code == 400
    missing = client.post("/admin/dossiers/reviews/999999", data={**fields, "decision": "keep"})
    assert missing.status_code == 404


def test_the_rating_form_checks_its_own_csrf_token_and_keeps_the_answers(
    client: FlaskClient, session: Session, token: str
):
    html = client.get(f"/d/{token}").get_data(as_text=True)
    data = answers_for(html, 4)
    data.pop("csrf_token")
    answer = client.post(f"/d/{token}", data=data)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Vui lòng bấm Gửi lại" in page or "bấm Gửi lại" in page
    assert 'value="4" checked' in page or "checked" in page
    assert session.scalars(select(Response)).all() == []
