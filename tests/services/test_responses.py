"""submit_response: validation against the questionnaire, privacy, exactly-once storage."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.services.errors import InvalidAnswers, UnknownServicePoint
from survey.services.questionnaires import open_service_point
from survey.services.responses import mask_personal_data, submit_response
from survey.storage import queries
from survey.storage.models import Answer, Response
from tests.factories import SmallProvince

FULL_ADMIN_ANSWERS = {
    "access": 5,
    "procedures": 4,
    "staff_courtesy": 4,
    "staff_guidance": 3,
    "results": None,
    "feedback": None,
    "overall": 4,
}


def _submit(session: Session, seeded: SmallProvince, key: str = "k" * 20, **changes: object):
    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    answers = {**FULL_ADMIN_ANSWERS, **changes}
    return submit_response(
        session,
        point=point,
        questionnaire=questionnaire,
        answers=answers,  # type: ignore[arg-type]
        idempotency_key=key,
        channel="qr",
        comment="Cán bộ nhiệt tình",
    )


def test_valid_response_is_stored_with_its_answers(session: Session, seeded: SmallProvince):
    result = _submit(session, seeded)
    assert result.created
    stored = session.get(Response, result.response_id)
    assert stored is not None
    assert stored.channel == "qr"
    assert stored.questionnaire.code == "administrative"
    assert stored.comment == "Cán bộ nhiệt tình"
    values = {answer.item.code: answer.value for answer in stored.answers}
    assert values == FULL_ADMIN_ANSWERS


def test_same_idempotency_key_stores_one_response(session: Session, seeded: SmallProvince):
    first = _submit(session, seeded, key="double-tap-000000001")
    second = _submit(session, seeded, key="double-tap-000000001", overall=1)
    assert second.created is False
    assert second.response_id == first.response_id
    assert queries.count_responses(session) == 1
    overall = session.scalar(
        select(Answer.value)
        .join(Answer.item)
        .where(Answer.response_id == first.response_id, Answer.item.has(code="overall"))
    )
    assert overall == 4  # the first answer is kept, the re-sent one ignored


def test_not_applicable_only_where_the_item_allows_it(session: Session, seeded: SmallProvince):
    with pytest.raises(InvalidAnswers) as error:
        _submit(session, seeded, overall=None)
    assert "1 đến 5" in error.value.message_vi
    assert queries.count_responses(session) == 0


@pytest.mark.parametrize("value", [0, 6, -1, True, "4"])
def test_out_of_scale_values_are_refused(session: Session, seeded: SmallProvince, value: object):
    with pytest.raises(InvalidAnswers):
        _submit(session, seeded, access=value)
    assert session.scalar(select(func.count(Answer.item_id))) == 0


def test_missing_and_unknown_items_are_named(session: Session, seeded: SmallProvince):
    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    answers = dict(FULL_ADMIN_ANSWERS)
    del answers["staff_courtesy"]
    with pytest.raises(InvalidAnswers) as missing:
        submit_response(
            session,
            point=point,
            questionnaire=questionnaire,
            answers=answers,
            idempotency_key="x" * 20,
            channel="qr",
        )
    assert "lịch sự" in missing.value.message_vi
    with pytest.raises(InvalidAnswers) as unknown:
        submit_response(
            session,
            point=point,
            questionnaire=questionnaire,
            answers={**FULL_ADMIN_ANSWERS, "bogus": 3},
            idempotency_key="y" * 20,
            channel="qr",
        )
    assert "bogus" in unknown.value.message_en


def test_bad_idempotency_key_and_channel_are_refused(session: Session, seeded: SmallProvince):
    with pytest.raises(InvalidAnswers):
        _submit(session, seeded, key="short")
    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    with pytest.raises(InvalidAnswers):
        submit_response(
            session,
            point=point,
            questionnaire=questionnaire,
            answers=FULL_ADMIN_ANSWERS,
            idempotency_key="z" * 20,
            channel="fax",
        )


def test_phone_numbers_and_emails_are_masked_before_storage(
    session: Session, seeded: SmallProvince
):
    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    result = submit_response(
        session,
        point=point,
        questionnaire=questionnaire,
        answers=FULL_ADMIN_ANSWERS,
        idempotency_key="mask-000000000001",
        channel="qr",
        comment="Gọi tôi 0912 345 678 hoặc +84 912.345.679, email an.nguyen@example.vn nhé",
    )
    stored = session.get(Response, result.response_id)
    assert stored is not None and stored.comment is not None
    assert "0912" not in stored.comment and "912.345" not in stored.comment
    assert "example.vn" not in stored.comment
    assert stored.comment.count("[số điện thoại]") == 2
    assert "[email]" in stored.comment


def test_mask_keeps_ordinary_numbers():
    assert mask_personal_data("Chờ 45 phút, hồ sơ số 2025/123") == "Chờ 45 phút, hồ sơ số 2025/123"


def test_overlong_comment_is_refused(session: Session, seeded: SmallProvince):
    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    with pytest.raises(InvalidAnswers) as error:
        submit_response(
            session,
            point=point,
            questionnaire=questionnaire,
            answers=FULL_ADMIN_ANSWERS,
            idempotency_key="long-00000000001",
            channel="qr",
            comment="a" * 1001,
        )
    assert "1000" in error.value.message_en


def test_unknown_closed_and_retired_points_are_not_open(session: Session, seeded: SmallProvince):
    for code in ("no-such-code", seeded.closed_desk.public_code, seeded.retired_desk.public_code):
        with pytest.raises(UnknownServicePoint):
            open_service_point(session, code)


def test_each_sector_gets_its_own_questionnaire(session: Session, seeded: SmallProvince):
    sectors = {}
    for point in (seeded.desk, seeded.counter, seeded.school_office):
        _point, questionnaire = open_service_point(session, point.public_code)
        sectors[point.agency.sector] = questionnaire
    assert {q.code for q in sectors.values()} == {"administrative", "health", "education"}
    for questionnaire in sectors.values():
        overall = [item for item in questionnaire.items if item.is_overall]
        assert len(overall) == 1
        assert 5 <= len(questionnaire.items) <= 9  # short enough for under a minute
        assert len(questionnaire.elements) == 5


# --- Personal data in comments: identity, insurance and dossier numbers, phones in any spelling --

PHONE, ID, DOSSIER, EMAIL = "[số điện thoại]", "[số giấy tờ]", "[mã hồ sơ]", "[email]"


@pytest.mark.parametrize(
    ("comment", "masked"),
    [
        # Citizen ID (CCCD, 12 digits) and old ID card (CMND, 9 digits), any grouping.
        ("CCCD 001203004567 của tôi", f"CCCD {ID} của tôi"),
        ("CCCD: 001 203 004 567.", f"CCCD: {ID}."),
        ("số CCCD 001.203.004.567", f"số CCCD {ID}"),
        ("CMND 123456789", f"CMND {ID}"),
        ("CMND 123 456 789, cấp năm 2010", f"CMND {ID}, cấp năm 2010"),
        ("cmnd:123-456-789", f"cmnd:{ID}"),
        # Health-insurance card (2 letters, 1 + 2 + 10 digits) and social-insurance number.
        ("Thẻ BHYT DN4797915140156 bị từ chối", f"Thẻ BHYT {ID} bị từ chối"),
        ("thẻ bhyt dn 4 79 7915140156", f"thẻ bhyt {ID}"),
        ("mã số BHXH 7915140156", f"mã số BHXH {ID}"),
        # Phones: +84 in brackets or not, spaces, dots, dashes; landlines with area codes.
        ("Gọi (+84) 912 345 678 nhé", f"Gọi {PHONE} nhé"),
        ("Gọi +84 912.345.678", f"Gọi {PHONE}"),
        ("sđt 0912-345-678", f"sđt {PHONE}"),
        ("sđt 0912.345.678", f"sđt {PHONE}"),
        ("sđt0912345678", f"sđt{PHONE}"),
        ("84912345678", PHONE),
        ("Máy bàn (028) 3829 1234", f"Máy bàn {PHONE}"),
        ("Máy bàn 028 3829 1234", f"Máy bàn {PHONE}"),
        ("Máy bàn 028.3829.1234", f"Máy bàn {PHONE}"),
        ("ĐT: 0912\u00a0345\u00a0678", f"ĐT: {PHONE}"),
        # Dossier codes of the national format (agency code - YYMMDD - number).
        ("Hồ sơ 000.00.20.H12-251203-0001 chưa có kết quả", f"Hồ sơ {DOSSIER} chưa có kết quả"),
        ("mã hồ sơ: H12.22.5-250101-1234,", f"mã hồ sơ: {DOSSIER},"),
        ("hồ sơ H12-251203-0001", f"hồ sơ {DOSSIER}"),
        ("E-mail an.nguyen@example.vn", f"E-mail {EMAIL}"),
        (
            "Tôi (CCCD 001203004567, đt 0912 345 678) nộp hồ sơ 000.00.20.H12-251203-0001",
            f"Tôi (CCCD {ID}, đt {PHONE}) nộp hồ sơ {DOSSIER}",
        ),
    ],
)
def test_personal_numbers_are_masked_in_place(comment: str, masked: str):
    assert mask_personal_data(comment) == masked


@pytest.mark.parametrize(
    "comment",
    [
        "Năm 2025 tôi làm thủ tục, từ 2023 đến 2025",
        "Lệ phí 500.000 đồng",
        "Phí 1.500.000đ, tổng 150.000.000 đồng",
        "Dự án 2.000.000.000 VND",
        "Khoảng 150 000 000 đồng",
        "Chi phí 150.000.000",
        "Chờ từ 7h30 đến 11:45, lúc 14.30",
        "Phòng 205, tầng 3, quầy số 12",
        "Chờ 45 phút, hồ sơ số 2025/123",
        "Hẹn ngày 03/12/2025, ngày 03.12.2025 và 03-12-2025",
        "Nộp lúc 2025-12-03 08:30",
        "Số thứ tự 105 và 106; khoảng 20-30 người",
        "COVID-19, 3 lần trong 2 tháng",
        "Tổng đài 1900 1234",
    ],
)
def test_ordinary_numbers_are_not_masked(comment: str):
    assert mask_personal_data(comment) == comment


def test_lone_surrogates_and_control_characters_are_cleaned_not_a_crash(
    session: Session, seeded: SmallProvince
):
    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    result = submit_response(
        session,
        point=point,
        questionnaire=questionnaire,
        answers=FULL_ADMIN_ANSWERS,
        idempotency_key="surrogate-00000001",
        channel="qr",
        comment="Tốt\ud800 lắm\udfff\x00",
    )
    stored = session.get(Response, result.response_id)
    assert stored is not None and stored.comment == "Tốt lắm"


def test_unknown_items_are_named_briefly(session: Session, seeded: SmallProvince):
    point, questionnaire = open_service_point(session, seeded.desk.public_code)
    with pytest.raises(InvalidAnswers) as unknown:
        submit_response(
            session,
            point=point,
            questionnaire=questionnaire,
            answers={**FULL_ADMIN_ANSWERS, **{f"{i:03d}" + "x" * 10_000: 3 for i in range(50)}},
            idempotency_key="brief-00000000001",
            channel="qr",
        )
    assert len(unknown.value.message_en) < 400 and "…" in unknown.value.message_en
