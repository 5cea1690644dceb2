"""Rating links and the one rating per dossier; complaints from low ratings; privacy."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.access import scope_for
from survey.services.dossiers import complaints
from survey.services.dossiers.links import (
    InvalidLink,
    LinkExpired,
    derive_token,
    link_for,
    pending_invitations,
    resolve,
    token_hash,
)
from survey.services.dossiers.privacy import mask_identifiers, names_a_person
from survey.services.dossiers.rating import AlreadyRated, questionnaire_for, rate_dossier
from survey.services.dossiers.settings import DossierSettingError, DossierSettings
from survey.services.errors import InvalidAnswers, InvalidInput
from survey.storage.models import (
    AuditEvent,
    CommentReview,
    Complaint,
    DossierInvitation,
    DossierRating,
    Response,
    Staff,
    User,
)
from tests.factories import SmallProvince
from tests.services.test_dossiers_official import dossier, vn

SETTINGS = DossierSettings(link_key="a-test-key-that-is-long-enough")
NOW = vn(3, 10, 10).astimezone(dt.UTC)


@pytest.fixture
def returned(session: Session, seeded: SmallProvince):
    record = dossier(session, seeded.desk, 1, vn(3, 2), vn(3, 5, 17), vn(3, 4))
    session.commit()
    return record


def answers(session: Session, link, overall: int = 4) -> tuple[object, dict[str, int | None]]:
    questionnaire = questionnaire_for(session, link)
    values: dict[str, int | None] = {item.code: 4 for item in questionnaire.items}
    values["overall"] = overall
    return questionnaire, values


def rate(session: Session, token: str, overall: int = 4, key: str = "rate-0000000000000001", **kw):
    link = resolve(session, token, SETTINGS, now=NOW)
    questionnaire, values = answers(session, link, overall)
    options = {"comment": None, "is_complaint": False, "language": "vi"} | kw
    return rate_dossier(
        session,
        token,
        questionnaire=questionnaire,
        answers=values,
        idempotency_key=key,
        settings=SETTINGS,
        now=NOW,
        **options,
    )


def test_tokens_are_derived_hashed_and_stable(session: Session, returned):
    invitation, token = link_for(session, returned, SETTINGS)
    session.commit()
    assert len(token) == 22 and returned.code not in token
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    again, same = link_for(session, returned, SETTINGS)
    assert again.id == invitation.id and same == token  # re-printing gives the same link
    other = derive_token(SETTINGS.link_key, returned.id + 1, invitation.nonce)
    assert other != token


def test_a_changed_key_reissues_the_link(session: Session, returned):
    _invitation, token = link_for(session, returned, SETTINGS)
    rotated = DossierSettings(link_key="another-key-after-rotation")
    _invitation, new = link_for(session, returned, rotated, actor=None)
    session.commit()
    assert new != token
    with pytest.raises(InvalidLink):
        resolve(session, token, rotated, now=NOW)
    assert resolve(session, new, rotated, now=NOW).dossier.id == returned.id
    assert session.scalars(select(AuditEvent.action)).all() == ["dossier.link_reissued"]


@pytest.mark.parametrize("token", ["", "short", "x" * 22, "a/b" * 8, "é" * 22, "A" * 200])
def test_forged_or_malformed_tokens_are_invalid(session: Session, returned, token: str):
    link_for(session, returned, SETTINGS)
    session.commit()
    with pytest.raises(InvalidLink) as refused:
        resolve(session, token, SETTINGS, now=NOW)
    assert "không hợp lệ" in refused.value.message_vi


def test_links_expire_30_days_after_return_and_opens_are_counted(session: Session, returned):
    _invitation, token = link_for(session, returned, SETTINGS)
    session.commit()
    resolve(session, token, SETTINGS, now=vn(4, 3), count_open=True)  # 30 days after 4 March
    resolve(session, token, SETTINGS, now=vn(4, 3), count_open=True)
    with pytest.raises(LinkExpired):
        resolve(session, token, SETTINGS, now=vn(4, 4))
    invitation = session.scalars(select(DossierInvitation)).one()
    session.refresh(invitation)
    assert invitation.open_count == 2 and invitation.first_opened_at == vn(4, 3)
    longer = DossierSettings(link_key=SETTINGS.link_key, link_days=60)
    assert resolve(session, token, longer, now=vn(4, 4)).dossier.id == returned.id


def test_one_rating_per_dossier_double_tap_stores_one(session: Session, returned):
    _invitation, token = link_for(session, returned, SETTINGS)
    session.commit()
    first = rate(session, token, 5)
    assert first.created and first.complaint is None
    tap = rate(session, token, 5)  # the same form sent again
    assert not tap.created
    with pytest.raises(AlreadyRated) as refused:
        rate(session, token, 3, key="rate-0000000000000002")  # another form
    assert refused.value.message_en == "This dossier has already been rated. Thank you!"
    assert refused.value.message_vi == "Hồ sơ này đã được đánh giá. Cảm ơn Ông/Bà!"
    assert len(session.scalars(select(Response)).all()) == 1
    rating = session.scalars(select(DossierRating)).one()
    assert rating.overall == 5 and rating.response_id is not None
    assert session.scalars(select(DossierInvitation.used)).one() is True


def test_the_response_holds_no_dossier_and_none_mode_keeps_no_link(session: Session, returned):
    assert not any("dossier" in column.name for column in Response.__table__.columns)
    none = DossierSettings(link_key=SETTINGS.link_key, rating_link="none")
    _invitation, token = link_for(session, returned, none)
    session.commit()
    link = resolve(session, token, none, now=NOW)
    questionnaire, values = answers(session, link, 4)
    rate_dossier(
        session,
        token,
        questionnaire=questionnaire,
        answers=values,
        idempotency_key="rate-none-000000000001",
        comment=None,
        is_complaint=False,
        language="vi",
        settings=none,
        now=NOW,
    )
    rating = session.scalars(select(DossierRating)).one()
    assert rating.overall == 4 and rating.response_id is None


def test_bad_answers_store_nothing_and_leave_the_dossier_unrated(session: Session, returned):
    _invitation, token = link_for(session, returned, SETTINGS)
    session.commit()
    link = resolve(session, token, SETTINGS, now=NOW)
    questionnaire, values = answers(session, link)
    values.pop(next(code for code in values if code != "overall"))
    with pytest.raises(InvalidAnswers):
        rate_dossier(
            session,
            token,
            questionnaire=questionnaire,
            answers=values,
            idempotency_key="rate-bad-00000000000001",
            comment=None,
            is_complaint=False,
            language="vi",
            settings=SETTINGS,
            now=NOW,
        )
    assert session.scalars(select(DossierRating)).all() == []
    assert rate(session, token, 4).created  # still rateable


def test_a_low_rating_opens_a_complaint_that_staff_close_and_the_citizen_rates(
    session: Session, returned, seeded: SmallProvince
):
    _invitation, token = link_for(session, returned, SETTINGS)
    session.commit()
    result = rate(session, token, 2, comment="Chờ lâu, gọi 0912 345 678, CCCD 001203004567")
    case = result.complaint
    assert case is not None and case.source == "low_rating"
    assert case.due_at == NOW + dt.timedelta(days=10)
    assert "0912" not in case.description and "001203004567" not in case.description
    stored = session.scalars(select(Response.comment)).one()
    assert stored is not None and "001203004567" not in stored and "0912" not in stored
    manager = User(username="manager", password_hash="x", role="province_admin")
    session.add(manager)
    session.commit()
    with pytest.raises(InvalidInput):
        complaints.rate_handling(session, case, 4)  # not closed yet
    complaints.add_note(session, case, "Đã gọi lại cho công dân.", manager)
    with pytest.raises(InvalidInput):
        complaints.close(session, case, "  ", manager)
    complaints.close(session, case, "Đã trả kết quả, xin lỗi công dân.", manager)
    with pytest.raises(complaints.ComplaintClosed):
        complaints.close(session, case, "again", manager)
    assert complaints.rate_handling(session, case, 4) is True
    assert complaints.rate_handling(session, case, 1) is False  # the first rating stays
    session.refresh(case)
    assert [e.kind for e in case.events] == ["opened", "note", "closed", "rated"]
    assert case.handling_rating == 4
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["complaint.opened", "complaint.noted", "complaint.closed", "complaint.rated"]


def test_a_comment_marked_as_complaint_opens_one_case_and_names_are_flagged(
    session: Session, returned, seeded: SmallProvince
):
    session.add(Staff(clerk_code="CB001", name="Nguyễn Văn Tuấn"))
    _invitation, token = link_for(session, returned, SETTINGS)
    session.commit()
    result = rate(
        session,
        token,
        1,
        comment="Anh Tuấn hẹn sai ngày, hồ sơ H40.123.45-260302-010001",
        is_complaint=True,
    )
    assert result.complaint is not None and result.complaint.source == "comment"
    assert "[mã hồ sơ]" in result.complaint.description
    assert len(session.scalars(select(Complaint)).all()) == 1
    review = session.scalars(select(CommentReview)).one()
    assert review.reason in ("staff_name", "titled_name")


def test_overdue_cases_are_listed_and_officials_open_cases(
    session: Session, returned, seeded: SmallProvince
):
    department = seeded.department.id
    manager = User(
        username="tp", password_hash="x", role="agency_manager", scope_agency_id=department
    )
    session.add(manager)
    session.commit()
    scope = scope_for(session, manager)
    case = complaints.open_by_official(
        session,
        dossier_code=returned.code.lower(),
        agency_id=None,
        description="Công dân phản ánh qua đường dây nóng",
        settings=SETTINGS,
        actor=manager,
        scope=scope,
    )
    assert case.dossier_id == returned.id and case.source == "staff"
    general = complaints.open_by_official(
        session,
        dossier_code="",
        agency_id=seeded.department.id,
        description="Phản ánh chung",
        settings=SETTINGS,
        actor=manager,
        scope=scope,
    )
    ids = frozenset({seeded.department.id})
    later = general.due_at + dt.timedelta(seconds=1)
    assert {c.id for c in complaints.cases(session, ids, state="overdue", now=later)} == {
        case.id,
        general.id,
    }
    assert complaints.cases(session, ids, state="overdue", now=NOW) == []
    with pytest.raises(InvalidInput):
        complaints.open_by_official(
            session,
            dossier_code="NOT-A-CODE",
            agency_id=None,
            description="x",
            settings=SETTINGS,
            actor=manager,
            scope=scope,
        )
    with pytest.raises(InvalidInput):  # the hospital is outside the manager's scope
        complaints.open_by_official(
            session,
            dossier_code="",
            agency_id=seeded.hospital.id,
            description="x",
            settings=SETTINGS,
            actor=manager,
            scope=scope,
        )


def test_pending_invitations_are_exported_once(session: Session, returned, seeded: SmallProvince):
    dossier(session, seeded.desk, 2, vn(3, 3), vn(3, 9))  # not returned: no invitation yet
    session.commit()
    first = list(pending_invitations(session, SETTINGS, "https://x.vn", channel="sms", now=NOW))
    session.commit()
    assert [p.dossier_code for p in first] == [returned.code]
    assert first[0].link.startswith("https://x.vn/d/") and returned.code not in first[0].link
    again = list(pending_invitations(session, SETTINGS, "https://x.vn", channel="sms", now=NOW))
    assert again == []
    invitation = session.scalars(select(DossierInvitation)).one()
    assert invitation.channel == "sms" and invitation.sent_at == NOW


def test_settings_and_privacy_helpers():
    with pytest.raises(DossierSettingError):
        DossierSettings.from_config({"DOSSIER_LINK_DAYS": "thirty"})
    with pytest.raises(DossierSettingError):
        DossierSettings.from_config({"DOSSIER_RATING_LINK": "sometimes"})
    settings = DossierSettings.from_config({"SECRET_KEY": "k", "DOSSIER_LINK_DAYS": 45})
    assert settings.link_days == 45 and settings.link_key == "k"
    assert mask_identifiers("CCCD 001 203 004567, phí 150.000.000.000") == (
        "CCCD [số định danh], phí 150.000.000.000"
    )
    assert names_a_person("chị Hoa rất nhiệt tình", []) == "titled_name"
    assert names_a_person("Nhanh, chu đáo", ["Trần Thị Hoa"]) is None
    assert names_a_person("cảm ơn thi hoa", ["Trần Thị Hoa"]) == "staff_name"


def test_a_province_can_drop_the_links_after_computing(session: Session, returned):
    from survey.services.dossiers.rating import unlink_ratings

    _invitation, token = link_for(session, returned, SETTINGS)
    session.commit()
    rate(session, token, 2)
    assert session.scalars(select(DossierRating.response_id)).one() is not None
    assert unlink_ratings(session, dt.date(2026, 3, 1)) == 0  # received on 2 March: kept
    assert unlink_ratings(session, None) == 1
    rating = session.scalars(select(DossierRating)).one()
    session.refresh(rating)
    assert rating.response_id is None and rating.overall == 2
    assert "dossier_ratings.unlinked" in session.scalars(select(AuditEvent.action)).all()
