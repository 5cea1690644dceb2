"""Signed-in officials: dashboard, agencies, QR codes and poster sheets."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from tests.conftest import form_fields
from tests.factories import SmallProvince
from tests.qr_decode import decode_png

PASSWORD = "correct horse battery"


def _sign_in(client: FlaskClient, session: Session, password: str = PASSWORD) -> int:
    if session.info.get("user_created") is None:
        create_user(session, "officer", PASSWORD)
        session.commit()
        session.info["user_created"] = True
    fields = form_fields(client.get("/admin/sign-in").get_data(as_text=True))
    answer = client.post(
        "/admin/sign-in", data={**fields, "username": "officer", "password": password}
    )
    return answer.status_code


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/agencies", "/admin/agencies/1", "/admin/agencies/1/posters.pdf"]
)
def test_admin_pages_need_sign_in(client: FlaskClient, path: str):
    answer = client.get(path)
    assert answer.status_code == 302 and "/admin/sign-in" in answer.headers["Location"]


def test_wrong_password_is_refused_with_a_message(client: FlaskClient, session: Session):
    assert _sign_in(client, session, password="not the password") == 401
    page = client.get("/admin/sign-in?lang=en").get_data(as_text=True)
    assert "Sign in for officials" in page
    assert client.get("/admin/").status_code == 302


def test_dashboard_counts_responses_per_agency_and_sector(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    fields = form_fields(client.get(f"/s/{seeded.counter.public_code}").get_data(as_text=True))
    answers = {
        f"q_{code}": "4"
        for code in (
            "access",
            "transparency",
            "facilities",
            "staff_courtesy",
            "staff_explanation",
            "results",
            "overall",
        )
    }
    assert (
        client.post(
            f"/s/{seeded.counter.public_code}", data={**fields, **answers, "comment": "Rất tốt"}
        ).status_code
        == 302
    )
    assert _sign_in(client, session) == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert '<span id="total">1</span>' in page
    assert "Bệnh viện Đa khoa tỉnh" in page and "Rất tốt" in page
    assert "Dịch vụ y tế công" in page


def test_qr_codes_decode_to_the_service_point_url(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    png = client.get(f"/admin/service-points/{seeded.desk.public_code}/qr.png")
    assert png.mimetype == "image/png"
    assert decode_png(png.data) == [f"https://survey.example.vn/s/{seeded.desk.public_code}"]
    svg = client.get(f"/admin/service-points/{seeded.desk.public_code}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert client.get(f"/admin/service-points/{seeded.desk.public_code}/qr.gif").status_code == 404
    assert client.get("/admin/service-points/nope/qr.png").status_code == 404


def test_poster_sheet_has_every_point_with_vietnamese_text(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    agency_page = client.get(f"/admin/agencies/{seeded.department.id}").get_data(as_text=True)
    assert seeded.desk.public_code in agency_page
    pdf = client.get(f"/admin/agencies/{seeded.department.id}/posters.pdf")
    assert pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 1  # two posters per A4 page
    assert round(float(reader.pages[0].mediabox.width) / 72 * 25.4) == 210
    assert "Sở Tư pháp" in text and "Bộ phận một cửa" in text and "Quầy đã đóng" in text
    assert "Quét mã QR để đánh giá mức độ hài lòng" in text
    assert f"/s/{seeded.desk.public_code}" in text
    empty = client.get(f"/admin/agencies/{seeded.province.id}/posters.pdf")
    assert empty.status_code == 404
    assert client.get("/admin/agencies/99999").status_code == 404


def test_sign_out_needs_a_post_with_token(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    assert client.get("/admin/sign-out").status_code == 405
    assert client.post("/admin/sign-out").status_code == 400  # no CSRF token
    fields = form_fields(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/sign-out", data=fields).status_code == 302
    assert client.get("/admin/").status_code == 302
