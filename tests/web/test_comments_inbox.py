"""The comments inbox: scope (a user never sees, marks or exports another scope's comments),
filters, read marks per scope, topic counts, exports, and the province's lexicon page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.accounts import create_user
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from survey.storage.models import AuditEvent, CommentRead, ServicePoint
from tests.factories import SmallProvince

PASSWORD = "tide-Marble-quiet-47-Lantern"
HOSPITAL_SECRET = "Điều dưỡng khoa nội cáu gắt với bệnh nhân"
SCHOOL_SECRET = "Trường thu nhiều khoản ngoài học phí"


def _comment(session: Session, point: ServicePoint, text: str, key: str, month: int = 8) -> int:
    found, questionnaire = open_service_point(session, point.public_code)
    return submit_response(
        session,
        point=found,
        questionnaire=questionnaire,
        answers={item.code: 3 for item in questionnaire.items},
        idempotency_key=f"inbox-{key}-0123456789",
        channel="qr" if month != 5 else "kiosk",
        comment=text,
        submitted_at=dt.datetime(2025, month, 10, 3, tzinfo=dt.UTC),
    ).response_id


@pytest.fixture
def comments(session: Session, seeded: SmallProvince) -> dict[str, int]:
    return {
        "desk_waiting": _comment(session, seeded.desk, "Chờ đợi quá lâu ở bộ phận một cửa", "a"),
        "desk_praise": _comment(session, seeded.desk, "Cán bộ hướng dẫn tận tình", "b", 5),
        "desk_formula": _comment(session, seeded.desk, '=HYPERLINK("http://x","bấm")', "c"),
        "hospital": _comment(session, seeded.counter, HOSPITAL_SECRET, "d"),
        "school": _comment(session, seeded.school_office, SCHOOL_SECRET, "e"),
    }


def _sign_in(client: FlaskClient, session: Session, username: str, **scope: object) -> None:
    create_user(session, username, PASSWORD, **scope)  # type: ignore[arg-type]
    session.commit()
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/admin/sign-in",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 302


def _token(client: FlaskClient, path: str = "/admin/comments") -> str:
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    return token.group(1)


def test_an_agency_manager_sees_marks_and_exports_only_their_agencys_comments(
    client: FlaskClient, session: Session, seeded: SmallProvince, comments: dict[str, int]
):
    _sign_in(
        client, session, "tp.manager", role="agency_manager", scope_agency_id=seeded.department.id
    )
    page = client.get("/admin/comments")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Chờ đợi quá lâu" in html and "Cán bộ hướng dẫn tận tình" in html
    assert HOSPITAL_SECRET not in html and SCHOOL_SECRET not in html
    assert seeded.hospital.name_vi not in html  # not even in the agency filter
    assert "3 comments, 3 unread" in html or "3 ý kiến, 3 chưa đọc" in html
    # naming another scope's agency in the filter is refused
    assert client.get(f"/admin/comments?agency={seeded.hospital.id}").status_code == 403
    # marking another scope's comment is refused, and nothing is marked
    token = _token(client)
    answer = client.post(
        "/admin/comments/read",
        data={"csrf_token": token, "response_id": [comments["desk_waiting"], comments["hospital"]]},
    )
    assert answer.status_code == 403
    assert session.scalars(select(CommentRead)).all() == []
    # exports hold the scope only, and are logged
    text = client.get("/admin/comments/export.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {int(r["response_id"]) for r in rows} == {
        comments["desk_waiting"],
        comments["desk_praise"],
        comments["desk_formula"],
    }
    assert HOSPITAL_SECRET not in text and SCHOOL_SECRET not in text
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.downloaded")
    ).one()
    assert event.actor_name == "tp.manager" and event.details["rows"] == 3
    assert event.subject == f"comments:agency:{seeded.department.id}"


def test_a_sector_administrator_sees_their_sector_only(
    client: FlaskClient, session: Session, seeded: SmallProvince, comments: dict[str, int]
):
    _sign_in(client, session, "yte.admin", role="sector_admin", sector="health")
    html = client.get("/admin/comments").get_data(as_text=True)
    assert HOSPITAL_SECRET in html
    assert "Chờ đợi quá lâu" not in html and SCHOOL_SECRET not in html
    xlsx = client.get("/admin/comments/export.xlsx").data
    cells = [
        c.value for row in openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows() for c in row
    ]
    assert HOSPITAL_SECRET in cells and SCHOOL_SECRET not in cells


def test_read_marks_are_kept_per_scope_and_logged(
    app, session: Session, seeded: SmallProvince, comments: dict[str, int]
):
    chief, manager = app.test_client(), app.test_client()
    _sign_in(chief, session, "chief", role="province_admin")
    _sign_in(
        manager, session, "tp.manager", role="agency_manager", scope_agency_id=seeded.department.id
    )
    answer = chief.post(
        "/admin/comments/read",
        data={
            "csrf_token": _token(chief),
            "response_id": [comments["desk_waiting"]],
            "back": "read=unread",
        },
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith(
        "/admin/comments?read=unread"
    )
    chief_page = chief.get("/admin/comments?read=unread").get_data(as_text=True)
    assert "Chờ đợi quá lâu" not in chief_page and HOSPITAL_SECRET in chief_page
    # the department's own inbox still shows it unread: its team has not read it
    assert "Chờ đợi quá lâu" in manager.get("/admin/comments?read=unread").get_data(as_text=True)
    read_page = chief.get("/admin/comments?read=read").get_data(as_text=True)
    assert "Chờ đợi quá lâu" in read_page and "chief" in read_page
    chief.post(
        "/admin/comments/read",
        data={
            "csrf_token": _token(chief),
            "response_id": [comments["desk_waiting"]],
            "action": "unread",
        },
    )
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("comments.%"))).all()
    assert [e.action for e in events] == ["comments.marked_read", "comments.marked_unread"]
    assert events[0].details["responses"] == [comments["desk_waiting"]]
    assert session.scalars(select(CommentRead)).all() == []


def test_a_viewer_reads_but_does_not_mark(
    client: FlaskClient, session: Session, seeded: SmallProvince, comments: dict[str, int]
):
    _sign_in(client, session, "tp.viewer", role="viewer", scope_agency_id=seeded.department.id)
    html = client.get("/admin/comments").get_data(as_text=True)
    assert "Chờ đợi quá lâu" in html and 'name="response_id"' not in html
    answer = client.post(
        "/admin/comments/read",
        data={"csrf_token": _token(client), "response_id": [comments["desk_waiting"]]},
    )
    assert answer.status_code == 403


def test_filters_topic_counts_and_trend(
    client: FlaskClient, session: Session, seeded: SmallProvince, comments: dict[str, int]
):
    _sign_in(client, session, "chief", role="province_admin")
    html = client.get("/admin/comments?period=2025").get_data(as_text=True)
    counts = html[html.index('id="topic-counts"') :]
    # waiting (one-stop desk), attitude (hospital), fees (school), praise (desk) — one each
    for name in ("Thời gian chờ đợi", "Thái độ, tác phong cán bộ", "Khen ngợi"):
        assert re.search(rf">{re.escape(name)}</a></th>\s*<td class=\"num\">1</td>", counts), name
    assert 'role="img"' in counts  # the trend's small chart has a text alternative
    waiting = client.get("/admin/comments?topic=waiting").get_data(as_text=True)
    assert "Chờ đợi quá lâu" in waiting and HOSPITAL_SECRET not in waiting
    by_channel = client.get("/admin/comments?channel=kiosk").get_data(as_text=True)
    assert "Cán bộ hướng dẫn tận tình" in by_channel and "Chờ đợi quá lâu" not in by_channel
    quarter = client.get("/admin/comments?period=2025-Q2").get_data(as_text=True)
    assert "Cán bộ hướng dẫn tận tình" in quarter and "Chờ đợi quá lâu" not in quarter
    health = client.get("/admin/comments?sector=health").get_data(as_text=True)
    assert HOSPITAL_SECRET in health and SCHOOL_SECRET not in health
    for bad in ("topic=nope", "period=2025-Q9", "agency=abc", "read=maybe", "channel=fax"):
        assert client.get(f"/admin/comments?{bad}").status_code == 400, bad


def test_exported_comments_never_become_formulas(
    client: FlaskClient, session: Session, seeded: SmallProvince, comments: dict[str, int]
):
    _sign_in(client, session, "chief", role="province_admin")
    text = client.get(f"/admin/comments/export.csv?agency={seeded.department.id}").data
    rows = {r["response_id"]: r for r in csv.DictReader(io.StringIO(text.decode("utf-8-sig")))}
    assert rows[str(comments["desk_formula"])]["comment"].startswith("'=")
    assert rows[str(comments["desk_waiting"])]["topics"] == "waiting"
    book = openpyxl.load_workbook(io.BytesIO(client.get("/admin/comments/export.xlsx").data))
    sheet = book["comments"]
    header = [c.value for c in sheet[1]]
    cells = [
        sheet.cell(row=r, column=header.index("comment") + 1) for r in range(2, sheet.max_row + 1)
    ]
    risky = [c for c in cells if str(c.value).startswith("=")]
    assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky)


def test_the_lexicon_page_is_for_province_administrators(
    app, session: Session, seeded: SmallProvince, comments: dict[str, int]
):
    chief, sector = app.test_client(), app.test_client()
    _sign_in(chief, session, "chief", role="province_admin")
    _sign_in(sector, session, "hc.admin", role="sector_admin", sector="administrative")
    assert sector.get("/admin/comments/lexicon").status_code == 403
    page = chief.get(
        "/admin/comments/lexicon?text=Kh%C3%B4ng+ph%E1%BA%A3i+ch%E1%BB%9D+%C4%91%E1%BB%A3i"
    )
    assert page.status_code == 200
    trial = page.get_data(as_text=True)
    assert re.search(r'id="trial-topics">[^<]*Khen ngợi', trial)
    token = _token(chief, "/admin/comments/lexicon")
    added = chief.post(
        "/admin/comments/lexicon",
        data={"csrf_token": token, "topic": "facilities", "term": "Máy nước nóng", "polarity": "="},
    )
    assert added.status_code == 302
    assert "máy nước nóng" in chief.get("/admin/comments/lexicon").get_data(as_text=True)
    refused = chief.post(
        "/admin/comments/lexicon/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"topic,term\nnoise,x\n"), "bad.csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "row 2" in refused.get_data(as_text=True) or "dòng 2" in refused.get_data(as_text=True)
    exported = chief.get("/admin/comments/lexicon.csv").data
    reimported = chief.post(
        "/admin/comments/lexicon/import",
        data={"csrf_token": token, "file": (io.BytesIO(exported), "tu-dien.csv")},
        content_type="multipart/form-data",
    )
    assert reimported.status_code == 302
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("comment_lexicon.%"))
    ).all()
    assert actions == ["comment_lexicon.changed", "comment_lexicon.imported"]
