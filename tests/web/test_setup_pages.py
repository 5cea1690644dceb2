"""The province set-up pages: organisation tree, points, volumes grid, uploads with a row-level
report, paper templates and responses, targets changed and ended, a closed point's QR."""

from __future__ import annotations

import datetime as dt
import io
import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from survey.services.accounts import create_user
from survey.storage import queries
from survey.storage.models import Agency, AuditEvent, Response, ServiceVolume, Target
from tests.conftest import form_fields
from tests.factories import SmallProvince
from tests.services.test_setup import ORGANISATION

PASSWORD = "a-long-password-789"


def _sign_in(client: FlaskClient, session: Session, role="province_admin", **scope) -> str:
    create_user(session, f"{role}-user", PASSWORD, role, **scope)
    session.commit()
    fields = form_fields(client.get("/admin/sign-in").get_data(as_text=True))
    answer = client.post(
        "/admin/sign-in", data={**fields, "username": f"{role}-user", "password": PASSWORD}
    )
    assert answer.status_code == 302
    client.get("/?lang=en")  # the pages in English from here on (the default is Vietnamese)
    return _token(client, "/admin/setup/agencies" if role != "viewer" else "/admin/")


def _token(client: FlaskClient, url: str) -> str:
    return form_fields(client.get(url).get_data(as_text=True))["csrf_token"]


def _upload(client: FlaskClient, url: str, content: bytes, name: str, **extra):
    token = _token(client, "/admin/setup")
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(
        {"csrf_token": token, "file": FileStorage(io.BytesIO(content), name), **extra}
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_organisation_upload_shows_the_report_and_refusals_in_a_table(
    client: FlaskClient, session: Session
):
    _sign_in(client, session)
    done = _upload(client, "/admin/setup/organisation", ORGANISATION.encode(), "org.csv")
    assert done.status_code == 200
    assert "Added: 5 agency, 4 service_point" in done.get_data(as_text=True)
    bad = ORGANISATION + "\nZ,Zed,NOWHERE,administrative,commune,2004-01-01,,,,\n"
    refused = _upload(client, "/admin/setup/organisation", bad.encode(), "org.csv")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<td class="num">8</td><td>parent_code</td><td>NOWHERE</td>' in html
    assert "No unit has this parent code" in html
    assert queries.agency_by_code(session, "Z") is None
    tree = client.get("/admin/setup/agencies").get_data(as_text=True)
    assert tree.index("Tỉnh Điện Biên") < tree.index("Huyện Điện Biên")
    assert 'class="depth-1 retired"' in tree


def test_a_large_upload_gets_the_clear_message(client: FlaskClient, session: Session):
    _sign_in(client, session)
    big = b"agency_code" + b" " * (51 * 1024 * 1024)
    answer = _upload(client, "/admin/setup/organisation", big, "org.csv")
    assert answer.status_code == 422 and "too large (at most 50 MB)" in answer.get_data(
        as_text=True
    )


def test_add_rename_move_and_retire_an_agency(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    token = _sign_in(client, session)
    added = client.post(
        "/admin/setup/agencies",
        data={
            "csrf_token": token,
            "code": "P-XA",
            "name_vi": "Xã Mới",
            "name_en": "",
            "parent_code": "P",
            "sector": "administrative",
            "level": "commune",
            "valid_from": "2025-07-01",
        },
    )
    assert added.status_code == 302
    agency = queries.agency_by_code(session, "P-XA")
    assert agency.parent.code == "P" and agency.name_en == "Xã Mới"
    cycle = client.post(
        f"/admin/setup/agencies/{seeded.province.id}",
        data={
            "csrf_token": token,
            "name_vi": "Tỉnh Thử Nghiệm",
            "parent_code": "P-XA",
            "sector": "administrative",
            "level": "province",
            "valid_from": "2020-01-01",
        },
    )
    assert cycle.status_code == 422 and "cycle" in cycle.get_data(as_text=True)
    moved = client.post(
        f"/admin/setup/agencies/{agency.id}",
        data={
            "csrf_token": token,
            "name_vi": "Xã Mới Đổi Tên",
            "parent_code": "P-TP",
            "sector": "administrative",
            "level": "commune",
            "valid_from": "2025-07-01",
        },
    )
    assert moved.status_code == 302
    session.expire_all()
    assert agency.name_vi == "Xã Mới Đổi Tên" and agency.parent.code == "P-TP"
    retired_successor = client.post(
        f"/admin/setup/agencies/{agency.id}/retire",
        data={"csrf_token": token, "valid_to": "2026-01-01", "successor_code": "P-X1"},
        follow_redirects=True,
    )
    assert "itself retired" in retired_successor.get_data(as_text=True)
    client.post(
        f"/admin/setup/agencies/{agency.id}/retire",
        data={"csrf_token": token, "valid_to": "2026-01-01", "successor_code": "P-X2"},
    )
    session.expire_all()
    assert agency.valid_to == dt.date(2026, 1, 1) and agency.successor.code == "P-X2"
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"agency.added", "agency.changed", "agency.retired"} <= actions


def test_points_added_renamed_closed_to_a_successor_and_reopened(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    token = _sign_in(client, session)
    department = seeded.department.id
    client.post(
        f"/admin/setup/agencies/{department}/points",
        data={
            "csrf_token": token,
            "point-code": "TP-2",
            "point-name_vi": "Quầy 2",
            "point-name_en": "Desk 2",
        },
    )
    new = queries.service_points_by_code(session)["TP-2"]
    duplicate = client.post(
        f"/admin/setup/agencies/{department}/points",
        data={"csrf_token": token, "point-code": "TP-2", "point-name_vi": "Quầy khác"},
        follow_redirects=True,
    )
    assert "already exists" in duplicate.get_data(as_text=True)
    client.post(
        f"/admin/setup/points/{new.public_code}",
        data={"csrf_token": token, "code": "TP-2", "name_vi": "Quầy số 2", "name_en": "Desk 2"},
    )
    session.expire_all()
    assert new.name_vi == "Quầy số 2"
    closed = client.post(
        f"/admin/setup/points/{seeded.desk.public_code}/close",
        data={"csrf_token": token, "successor_code": "TP-2"},
    )
    assert closed.status_code == 302
    session.expire_all()
    assert not seeded.desk.active and seeded.desk.successor_id == new.id
    # The closed desk's QR now shows the successor's form, and answers go to the successor.
    form = client.get(f"/s/{seeded.desk.public_code}")
    assert form.status_code == 200 and "Desk 2" in form.get_data(as_text=True)
    client.post(f"/admin/setup/points/{seeded.desk.public_code}/reopen", data={"csrf_token": token})
    session.expire_all()
    assert seeded.desk.active and seeded.desk.successor_id is None
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "service_point.added",
        "service_point.changed",
        "service_point.retired",
        "service_point.reopened",
    } <= actions


def test_a_retired_communes_point_leads_to_its_successors_point(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    from tests.factories import point

    successor_desk = point(session, seeded.retired_commune.successor, "Bộ phận một cửa phường")
    session.commit()
    page = client.get(f"/s/{seeded.retired_desk.public_code}")
    assert page.status_code == 200
    assert "Bộ phận một cửa phường" in page.get_data(as_text=True)
    assert successor_desk.active


def test_volumes_grid_and_upload(client: FlaskClient, session: Session, seeded: SmallProvince):
    token = _sign_in(client, session)
    page = client.get("/admin/setup/volumes?period=2025-Q3").get_data(as_text=True)
    assert f'name="volume|{seeded.desk.code}|2025-07"' in page
    assert "lack a volume" in page and "responses ÷ 20%" in page
    saved = client.post(
        "/admin/setup/volumes?period=2025-Q3",
        data={
            "csrf_token": token,
            f"volume|{seeded.desk.code}|2025-07": "150",
            f"volume|{seeded.desk.code}|2025-08": "",
        },
    )
    assert saved.status_code == 302
    assert session.scalar(select(func.count()).select_from(ServiceVolume)) == 1
    bad = client.post(
        "/admin/setup/volumes?period=2025-Q3",
        data={"csrf_token": token, f"volume|{seeded.desk.code}|2025-08": "many"},
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and f"{seeded.desk.code} · 2025-08" in html
    uploaded = _upload(
        client,
        "/admin/setup/volumes/upload",
        f"service_point_code,month,citizens_served\n{seeded.desk.code},2025-09,90\n".encode(),
        "volumes.csv",
    )
    assert uploaded.status_code == 200 and "Added: 1 volume" in uploaded.get_data(as_text=True)


def test_a_sector_administrator_sets_volumes_of_its_sector_only(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session, "sector_admin", sector="health")
    page = client.get("/admin/setup/volumes?period=2025-Q3").get_data(as_text=True)
    assert seeded.counter.code in page and seeded.desk.code not in page
    refused = _upload(
        client,
        "/admin/setup/volumes/upload",
        f"service_point_code,month,citizens_served\n{seeded.desk.code},2025-09,90\n".encode(),
        "volumes.csv",
    )
    assert refused.status_code == 422
    assert client.get("/admin/setup/questionnaires").status_code == 403


def test_paper_template_and_responses_upload(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    _sign_in(client, session)
    listing = client.get("/admin/setup/questionnaires").get_data(as_text=True)
    assert "administrative:1" in listing
    template = client.get("/admin/setup/questionnaires/administrative:1/template.csv")
    header = template.get_data().decode("utf-8-sig").strip()
    assert header.startswith("service_point_code,submitted_at,q_access")
    body = f"{header}\n{seeded.desk.code},2025-08-03 08:30,5,4,4,5,,3,4,\n".encode()
    url = "/admin/setup/questionnaires/administrative:1/responses"
    first = _upload(client, url, body, "paper.csv", channel="paper")
    assert first.status_code == 200 and "Added: 1 response" in first.get_data(as_text=True)
    again = _upload(client, url, body, "paper.csv", channel="paper")
    assert "unchanged: 1 response" in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Response)) == 1
    xlsx = client.get("/admin/setup/questionnaires/administrative:1/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_a_target_is_changed_and_ended(client: FlaskClient, session: Session, seeded):
    token = _sign_in(client, session)
    target = Target(
        sector="health",
        scope_name="Tỉnh Thử Nghiệm",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        low=0.8,
        description="Y tế 2026",
    )
    session.add(target)
    session.commit()
    page = client.get(f"/admin/setup/targets/{target.id}")
    assert page.status_code == 200 and 'value="80.0"' in page.get_data(as_text=True)
    client.post(
        f"/admin/setup/targets/{target.id}",
        data={
            "csrf_token": token,
            "sector": "health",
            "first": "2026-01-01",
            "last": "2026-12-31",
            "low": "85",
            "description": "Y tế 2026 (sửa)",
        },
    )
    session.expire_all()
    assert target.low == 0.85 and target.description == "Y tế 2026 (sửa)"
    client.post(
        f"/admin/setup/targets/{target.id}/end", data={"csrf_token": token, "last": "2026-06-30"}
    )
    session.expire_all()
    assert target.period_end == dt.date(2026, 6, 30)
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["target.changed", "target.ended"]


def test_start_from_the_official_list(client: FlaskClient, session: Session):
    token = _sign_in(client, session)
    page = client.get("/admin/setup").get_data(as_text=True)
    assert re.search(r'<option value="11">Tỉnh Điện Biên \(11\)</option>', page)
    done = client.post(
        "/admin/setup/official-province", data={"csrf_token": token, "province": "11"}
    )
    assert done.status_code == 200 and "Added: 46 agency, 45 service_point" in done.get_data(
        as_text=True
    )
    assert session.scalar(select(func.count()).select_from(Agency)) == 46
    again = client.post(
        "/admin/setup/official-province", data={"csrf_token": token, "province": "11"}
    )
    assert "unchanged: 46 agency, 45 service_point" in again.get_data(as_text=True)


def test_a_questionnaire_version_drafted_edited_previewed_translated_and_published(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    token = _sign_in(client, session)
    made = client.post("/admin/setup/questionnaires/education:1/draft", data={"csrf_token": token})
    assert made.headers["Location"].endswith("/admin/setup/questionnaires/education:2/edit")
    page = client.get("/admin/setup/questionnaires/education:2/edit").get_data(as_text=True)
    assert 'name="item-0-code" value="education_access"' in page
    fields = {  # the text inputs; the checkboxes are set below as a browser would send them
        name: value
        for name, value in re.findall(
            r'name="((?:item|element)-\d+-[a-z_]+)" value="([^"]*)"', page
        )
        if not name.endswith(("-na", "-overall"))
    }
    fields |= {
        name: text
        for name, text in re.findall(
            r'<textarea name="(item-\d+-text_(?:vi|en))"[^>]*>([^<]*)</textarea>', page
        )
    }
    fields |= {f"item-{n}-na": "1" for n in (4,)} | {"item-6-overall": "1"}
    new_item = {
        "item-7-order": "1.5",
        "item-7-code": "meals",
        "item-7-text_vi": "Bữa ăn bán trú đủ chất",
        "item-7-text_en": "School meals are nourishing",
        "item-7-element": "facilities",  # the element keeps its code
    }
    bad = client.post(
        "/admin/setup/questionnaires/education:2/edit",
        data={
            "csrf_token": token,
            "title_vi": "Phiếu",
            "title_en": "Form",
            **fields,
            **new_item,
            "item-7-code": "procedures",
        },
    )
    assert bad.status_code == 422 and "one code means one question" in bad.get_data(as_text=True)
    saved = client.post(
        "/admin/setup/questionnaires/education:2/edit",
        data={"csrf_token": token, "title_vi": "Phiếu", "title_en": "Form", **fields, **new_item},
    )
    assert saved.status_code == 302
    draft = queries.questionnaire_by_code_version(session, "education", 2)
    items = [item.code for item in queries.questionnaire_with_items(session, draft.id).items]
    assert items[:3] == ["education_access", "meals", "education_facilities"]
    phone = client.get("/admin/setup/questionnaires/education:2/preview").get_data(as_text=True)
    assert "preview-phone" in phone and "School meals are nourishing" in phone
    kiosk = client.get("/admin/setup/questionnaires/education:2/preview?view=kiosk")
    assert "preview-kiosk" in kiosk.get_data(as_text=True)

    page = client.get("/admin/setup/questionnaires/education:2/translations?language=tdd")
    keys = re.findall(r'name="text\|([^"]+)"', page.get_data(as_text=True))
    assert keys[:2] == ["language", "title"] and "item:meals" in keys
    translated = client.post(
        "/admin/setup/questionnaires/education:2/translations",
        data={"csrf_token": token, "language": "tdd", **{f"text|{k}": f"ꪼꪒ {k}" for k in keys}},
    )
    assert translated.status_code == 302
    preview = client.get("/admin/setup/questionnaires/education:2/preview?language=tdd")
    assert "ꪼꪒ item:meals" in preview.get_data(as_text=True)
    template = client.get("/admin/setup/questionnaires/education:2/translations/tdd.csv")
    assert "ꪼꪒ item:meals" in template.get_data().decode("utf-8-sig")
    uploaded = _upload(
        client,
        "/admin/setup/questionnaires/education:2/translations/upload",
        template.get_data(),
        "tdd.csv",
        language="tdd",
    )
    assert uploaded.status_code == 200 and "unchanged:" in uploaded.get_data(as_text=True)

    published = client.post(
        "/admin/setup/questionnaires/education:2/publish", data={"csrf_token": token}
    )
    assert published.status_code == 302
    form = client.get(f"/s/{seeded.school_office.public_code}").get_data(as_text=True)
    assert "School meals are nourishing" in form
    listing = client.get("/admin/setup/questionnaires").get_data(as_text=True)
    assert "education:1 · Public education · retired" in listing
    frozen = client.post(
        "/admin/setup/questionnaires/education:2/edit",
        data={"csrf_token": token, "title_vi": "x", "title_en": "y"},
    )
    assert frozen.status_code == 409


def test_the_english_name_is_edited_on_the_agency_page_and_shown_to_citizens(
    client: FlaskClient, session: Session, seeded: SmallProvince
):
    """An agency without an English name: the form's field is empty (not a copy of the
    Vietnamese name), and the English questionnaire shows the Vietnamese name, marked as such."""
    seeded.department.name_en = None
    seeded.desk.name_en = ""
    session.commit()
    token = _sign_in(client, session)
    url = f"/admin/setup/agencies/{seeded.department.id}"
    page = client.get(url).get_data(as_text=True)
    assert '<input id="name_en" maxlength="300" name="name_en" type="text" value="">' in page
    assert 'name="name_en" value="" maxlength="300"' in page  # the desk's rename form
    english = client.get(f"/s/{seeded.desk.public_code}?lang=en").get_data(as_text=True)
    assert '<p class="agency" lang="vi">Sở Tư pháp</p>' in english
    assert '<p class="desk" lang="vi">Bộ phận một cửa</p>' in english

    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "name_vi": "Sở Tư pháp",
            "name_en": "Department of Justice",
            "parent_code": "P",
            "sector": "administrative",
            "level": "province",
            "valid_from": "2020-01-01",
        },
    )
    assert saved.status_code == 302
    session.expire_all()
    assert seeded.department.english_name == "Department of Justice"
    assert 'value="Department of Justice"' in client.get(url).get_data(as_text=True)
    english = client.get(f"/s/{seeded.desk.public_code}?lang=en").get_data(as_text=True)
    assert '<p class="agency">Department of Justice</p>' in english
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.details["name_en"] == [None, "Department of Justice"]
