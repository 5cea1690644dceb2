"""The public quarterly report's view of the data: no free text, no small group, no figure that
subtraction would give back (survey/services/publication/)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from survey.errors import status_of
from survey.services.accounts import create_user
from survey.services.errors import InvalidInput
from survey.services.integrity import record_decision
from survey.services.periods import parse_period
from survey.services.publication import quarterly
from survey.services.publication.quarterly import (
    PublicationSettings,
    public_quarter,
    write_files,
)
from survey.services.publication.quarters import (
    NotPublished,
    ended_quarter,
    last_ended_quarter,
    published_quarters,
)
from survey.services.publication.suppression import (
    COMPLEMENTARY,
    SMALL,
    PublicLine,
    PublicReport,
    _derivable,
    complementary,
    public_view,
)
from survey.services.questionnaires import open_service_point
from survey.services.report_charts import CHART_CACHE
from survey.services.reporting import REPORT_CACHE, build_report
from survey.services.responses import submit_response
from survey.storage import queries
from survey.storage.models import ServicePoint, Target
from tests import factories
from tests.factories import SmallProvince

Q1 = parse_period("2025-Q1")
SETTINGS = PublicationSettings(enabled=True, min_n=30, minimum=30)
DEPARTMENT_COMMENT = "Cán bộ Nguyễn Văn Bình ở quầy số 3 rất tận tình"
SMALL_GROUP_COMMENT = "Chờ ba tiếng ở xã Nà Nhạn mới được tiếp"
HOSPITAL_COMMENT = "Phòng khám nội tầng hai quá đông"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Reports are cached by a fingerprint of the responses; tests reuse ids, so start clean."""
    for cache in (REPORT_CACHE, CHART_CACHE, quarterly.PDF_CACHE):
        cache.clear()
    yield


def answer(
    session: Session,
    point: ServicePoint,
    n: int,
    *,
    comment: str | None = None,
    month: int = 2,
    year: int = 2025,
    satisfied: float = 0.8,
    tag: str = "",
) -> list[int]:
    """``n`` responses at ``point`` in ``month``, the first ``satisfied`` share happy (5), the
    rest unhappy (2) on every item; each with ``comment``."""
    ids = []
    for i in range(n):
        found, questionnaire = open_service_point(session, point.public_code)
        value = 5 if i < round(satisfied * n) else 2
        ids.append(
            submit_response(
                session,
                point=found,
                questionnaire=questionnaire,
                answers={item.code: value for item in questionnaire.items},
                idempotency_key=f"pub-{point.public_code}-{year}{month:02d}{tag}-{i:05d}",
                channel="qr",
                comment=comment,
                submitted_at=dt.datetime(year, month, 1 + i % 27, 3, tzinfo=dt.UTC),
            ).response_id
        )
    session.commit()  # what the requests that sent them would have committed
    return ids


def seed_quarter(session: Session, province: SmallProvince, school: int = 35) -> ServicePoint:
    """2025-Q1: the Department (40, with comments), a small commune (5: below the minimum, with
    comments), the hospital (35) and the school (``school``); a national 80% target. Returns
    the commune's desk."""
    commune = factories.agency(
        session, "P-XN", "Xã Nà Nhạn", level="commune", parent=province.province
    )
    commune_desk = factories.point(session, commune, "Bộ phận một cửa xã Nà Nhạn")
    session.add(
        Target(
            sector=None,
            scope_name="Toàn quốc",
            period_start=dt.date(2021, 1, 1),
            period_end=dt.date(2030, 12, 31),
            low=0.8,
            description="Nghị quyết nội bộ số 7 — không công bố",
        )
    )
    session.commit()
    answer(session, province.desk, 40, comment=DEPARTMENT_COMMENT)
    answer(session, commune_desk, 5, comment=SMALL_GROUP_COMMENT, satisfied=0.2, month=3)
    answer(session, province.counter, 35, comment=HOSPITAL_COMMENT, satisfied=0.6)
    answer(session, province.school_office, school, satisfied=0.9)
    session.commit()  # what the requests that sent them would have committed
    return commune_desk


def strings_in(value: Any, seen: set[int] | None = None) -> Iterator[str]:
    """Every string held anywhere in a dataclass tree (fields, lists, dicts, tuples)."""
    seen = seen if seen is not None else set()
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from strings_in(getattr(value, item.name), seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key, seen)
            yield from strings_in(item, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from strings_in(item, seen)


def lines_of(report: PublicReport) -> list[PublicLine]:
    elements = [element for detail in report.details for element in detail.elements]
    return [
        report.headline,
        *report.sectors,
        *report.agencies,
        *report.points,
        *report.trend,
        *elements,
    ]


# --------------------------------------------------------------------------------------------
# Complementary suppression on its own


def test_one_small_sibling_gets_the_smallest_published_sibling_withheld_too():
    sizes = {("province", ""): 100, ("sector", "a"): 10, ("sector", "b"): 40, ("sector", "c"): 50}
    relations = [(("province", ""), (("sector", "a"), ("sector", "b"), ("sector", "c")))]
    assert complementary(sizes, relations, {("sector", "a")}) == {("sector", "b")}


def test_two_small_siblings_protect_each_other():
    sizes = {("province", ""): 100, ("sector", "a"): 10, ("sector", "b"): 20, ("sector", "c"): 70}
    relations = [(("province", ""), (("sector", "a"), ("sector", "b"), ("sector", "c")))]
    assert complementary(sizes, relations, {("sector", "a"), ("sector", "b")}) == set()


def test_a_withheld_sector_keeps_one_of_its_agencies_back_or_they_would_add_up_to_it():
    province, s1, s2, s3 = ("province", ""), ("sector", "s1"), ("sector", "s2"), ("sector", "s3")
    a1, a2, b1, c1 = ("agency", "a1"), ("agency", "a2"), ("agency", "b1"), ("agency", "c1")
    sizes = {province: 160, s1: 100, s2: 50, s3: 10, a1: 60, a2: 40, b1: 50, c1: 10}
    relations = [(s1, (a1, a2)), (s2, (b1,)), (s3, (c1,)), (province, (s1, s2, s3))]
    extra = complementary(sizes, relations, {s3, c1})
    assert extra == {s2, b1}  # not the province's headline, not the larger sector
    reasons, _order = _derivable(sizes, relations, {s3, c1} | extra)
    assert not reasons


@st.composite
def hierarchies(draw: st.DrawFn) -> tuple[dict[Any, int], list[Any], set[Any]]:
    """A province of 1–4 sectors of 1–4 agencies of random sizes; small = below 30."""
    sizes: dict[Any, int] = {}
    relations: list[Any] = []
    sectors = []
    for s in range(draw(st.integers(1, 4))):
        agencies = []
        for a in range(draw(st.integers(1, 4))):
            node = ("agency", f"{s}.{a}")
            sizes[node] = draw(st.integers(0, 80))
            agencies.append(node)
        sector = ("sector", str(s))
        sizes[sector] = sum(sizes[node] for node in agencies)
        relations.append((sector, tuple(agencies)))
        sectors.append(sector)
    sizes[("province", "")] = sum(sizes[node] for node in sectors)
    relations.append((("province", ""), tuple(sectors)))
    small = {node for node, n in sizes.items() if n < 30}
    return sizes, relations, small


@given(hierarchies())
def test_no_small_group_can_be_derived_after_suppression(case):
    sizes, relations, small = case
    extra = complementary(sizes, relations, small)
    assert not extra & small
    assert ("province", "") not in extra  # the headline is never sacrificed for a part
    reasons, _order = _derivable(sizes, relations, small | extra)
    assert not set(reasons) & small


# --------------------------------------------------------------------------------------------
# The public view of a real report


def test_public_view_holds_no_comment_and_no_free_text(session: Session, seeded: SmallProvince):
    seed_quarter(session, seeded)
    official = build_report(session, Q1, min_n=30, cache=None)
    assert {c.text for c in official.comments} >= {DEPARTMENT_COMMENT, SMALL_GROUP_COMMENT}
    public = public_view(official, 30)
    texts = "\n".join(strings_in(public))
    for secret in (DEPARTMENT_COMMENT, SMALL_GROUP_COMMENT, HOSPITAL_COMMENT, "Nghị quyết"):
        assert secret not in texts
    assert public.chart_source.comments == [] and public.chart_source.coverage == []
    assert public.chart_source.volume_note == ""


def test_groups_below_the_minimum_have_no_figure_and_no_count(
    session: Session, seeded: SmallProvince
):
    seed_quarter(session, seeded)
    public = public_view(build_report(session, Q1, min_n=30, cache=None), 30)
    commune = next(line for line in public.agencies if line.key == "P-XN")
    assert commune.suppressed == SMALL
    assert commune.estimate is None and commune.verdict is None and commune.n is None
    assert "5" not in commune.summary("vi", 30).replace("30", "")
    for line in lines_of(public):
        if line.suppressed:
            assert line.estimate is None and line.verdict is None and line.n is None
        else:
            assert line.n is not None and line.n >= 30, line.key


def test_the_sibling_that_would_give_a_small_group_away_is_withheld(
    session: Session, seeded: SmallProvince
):
    """Administrative sector = the Department (40) + the retired commune (5): publishing the
    sector and the Department would give the commune as 45 − 40."""
    seed_quarter(session, seeded)
    public = public_view(build_report(session, Q1, min_n=30, cache=None), 30)
    by_key = {line.key: line for line in public.agencies}
    assert by_key["P-XN"].suppressed == SMALL
    assert by_key["P-TP"].suppressed == COMPLEMENTARY and by_key["P-TP"].n is None
    assert by_key["P-BV"].n == 35 and by_key["P-TH"].n == 35  # alone in their sectors: shown
    administrative = next(line for line in public.sectors if line.key == "administrative")
    assert administrative.n == 45 and administrative.estimate is not None
    official = build_report(session, Q1, min_n=30, cache=None)
    assert any(test.within == {"sector": "administrative"} for test in official.comparisons)
    assert public.comparisons == []  # a test between the two withheld agencies is not shown


def test_a_small_sector_withholds_another_sector_and_one_of_its_agencies(
    session: Session, seeded: SmallProvince
):
    seed_quarter(session, seeded, school=12)  # education: 12 responses
    public = public_view(build_report(session, Q1, min_n=30, cache=None), 30)
    sectors = {line.key: line.suppressed for line in public.sectors}
    assert sectors == {"administrative": "", "education": SMALL, "health": COMPLEMENTARY}
    agencies = {line.key: line.suppressed for line in public.agencies}
    assert agencies["P-BV"] == COMPLEMENTARY  # the hospital alone would equal its sector
    assert public.headline.n == 45 + 35 + 12
    assert {detail.sector for detail in public.details} == {"administrative"}
    assert public.comparisons == []


def test_a_higher_public_minimum_withholds_more_and_a_lower_one_is_ignored(
    session: Session, seeded: SmallProvince
):
    seed_quarter(session, seeded)
    official = build_report(session, Q1, min_n=30, cache=None)
    strict = public_view(official, 40)
    assert strict.minimum == 40
    assert {line.key for line in strict.agencies if line.suppressed == SMALL} == {
        "P-XN",
        "P-BV",
        "P-TH",
    }
    assert public_view(official, 5).minimum == 30
    settings = PublicationSettings.from_config(
        {"MIN_RESPONSES_FOR_INDEX": 30, "PUBLIC_MIN_RESPONSES": 10, "PUBLIC_REPORTS_ENABLED": True}
    )
    assert settings.minimum == 30
    assert PublicationSettings.from_config({"MIN_RESPONSES_FOR_INDEX": 30}).minimum == 30


def test_a_quarter_below_the_minimum_publishes_only_that(session: Session, seeded: SmallProvince):
    answer(session, seeded.desk, 12, comment=DEPARTMENT_COMMENT)
    public = public_view(build_report(session, Q1, min_n=30, cache=None), 30)
    assert not public.published and public.headline.suppressed == SMALL
    assert all(line.suppressed for line in public.sectors + public.agencies)
    assert public.details == [] and public.change is None and public.ranks == []
    assert [line.suppressed for line in public.trend] == [SMALL]


def test_excluded_responses_are_left_out_as_in_the_official_report(
    session: Session, seeded: SmallProvince
):
    seed_quarter(session, seeded)
    extra = answer(session, seeded.desk, 3, comment="Phiếu giả mạo XYZ-987", tag="x")
    admin = create_user(session, "chief", "correct horse battery staple")
    for response_id in extra:
        queries.add_flag(session, response_id, "identical_burst", "test")
        record_decision(
            session, response_id=response_id, exclude=True, reason="Phiếu thử", user_id=admin.id
        )
    session.commit()
    public = public_quarter(session, Q1, SETTINGS)
    official = build_report(session, Q1, min_n=30)
    assert public.headline.n == official.headline.estimate.n == 40 + 5 + 35 + 35
    assert "XYZ-987" not in "\n".join(strings_in(public))


def test_the_trend_is_each_quarters_own_headline(session: Session, seeded: SmallProvince):
    seed_quarter(session, seeded)
    answer(session, seeded.desk, 31, month=5, tag="q2")  # 2025-Q2: 31 responses
    answer(session, seeded.desk, 7, month=11, year=2024, tag="q4")  # 2024-Q4: 7
    public = public_quarter(session, parse_period("2025-Q2"), SETTINGS)
    assert [line.key for line in public.trend] == ["2024-Q4", "2025-Q1", "2025-Q2"]
    assert [line.n for line in public.trend] == [None, 115, 31]
    assert public.trend[0].suppressed == SMALL
    q1 = public_quarter(session, Q1, SETTINGS)
    assert q1.headline.estimate == public.trend[1].estimate


# --------------------------------------------------------------------------------------------
# Which quarters, and the files


def test_only_ended_quarters_are_published():
    today = dt.date(2025, 10, 1)  # the first day of Q4 2025
    assert ended_quarter("2025-Q3", today) == parse_period("2025-Q3")
    assert last_ended_quarter(today) == parse_period("2025-Q3")
    assert last_ended_quarter(dt.date(2025, 9, 30)) == parse_period("2025-Q2")
    for refused in ("2025-Q4", "2026-Q1", "2025", "2025-H1", "2025-01-01..2025-03-31"):
        with pytest.raises(NotPublished) as error:
            ended_quarter(refused, today)
        assert status_of(error.value) == 404 and error.value.message_vi != error.value.message_en
    for garbage in ("", "2025-Q5", "Q3", "'; drop table", "9999-Q1"):
        with pytest.raises(InvalidInput):
            ended_quarter(garbage, today)


def test_published_quarters_are_those_with_responses_newest_first(
    session: Session, seeded: SmallProvince
):
    assert published_quarters(session, dt.date(2026, 1, 1)) == []
    answer(session, seeded.desk, 2, month=2)
    answer(session, seeded.desk, 2, month=8, tag="q3")
    answer(session, seeded.desk, 2, month=11, tag="q4")
    keys = [p.key for p in published_quarters(session, dt.date(2025, 12, 31))]
    assert keys == ["2025-Q3", "2025-Q1"]  # Q4 has not ended, Q2 has no response
    assert published_quarters(session, dt.date(2026, 1, 1))[0].key == "2025-Q4"


def test_files_are_replaced_only_when_they_change(tmp_path: Path):
    out = tmp_path / "portal"
    first = write_files(out, {"a.html": b"one", "a.pdf": b"%PDF"})
    assert [f.changed for f in first] == [True, True]
    mtime = (out / "a.html").stat().st_mtime_ns
    again = write_files(out, {"a.html": b"one", "a.pdf": b"%PDF-2"})
    assert [f.changed for f in again] == [False, True]
    assert (out / "a.html").stat().st_mtime_ns == mtime
    assert (out / "a.pdf").read_bytes() == b"%PDF-2"
    assert sorted(p.name for p in out.iterdir()) == ["a.html", "a.pdf"]  # no leftovers


def test_the_pdf_is_the_same_bytes_for_the_same_data(session: Session, seeded: SmallProvince):
    seed_quarter(session, seeded)
    public = public_quarter(session, Q1, SETTINGS)
    first = quarterly.public_pdf(public, "vi")
    quarterly.PDF_CACHE.clear()
    CHART_CACHE.clear()
    assert quarterly.public_pdf(public_quarter(session, Q1, SETTINGS), "vi") == first


def test_a_sector_whose_agencies_are_all_published_keeps_its_test(
    session: Session, seeded: SmallProvince
):
    centre = factories.agency(session, "P-TT", "Trung tâm Phục vụ hành chính công", parent=None)
    centre_desk = factories.point(session, centre, "Quầy số 1")
    session.commit()
    answer(session, seeded.desk, 40, satisfied=0.9)
    answer(session, centre_desk, 40, satisfied=0.4, tag="c")
    public = public_view(build_report(session, Q1, min_n=30, cache=None), 30)
    assert not any(line.suppressed for line in public.agencies)
    (sentence,) = public.comparison_texts("en")
    assert sentence.startswith("Administrative services: the share satisfied differs")


def test_a_league_table_is_published_only_when_none_of_its_units_is_withheld(
    session: Session, seeded: SmallProvince
):
    desks = [seeded.desk]
    for code, name in (("P-A1", "Sở Nội vụ"), ("P-A2", "Sở Tài chính"), ("P-A3", "Sở Xây dựng")):
        desks.append(factories.point(session, factories.agency(session, code, name), "Quầy"))
    session.commit()
    for i, desk in enumerate(desks):
        answer(session, desk, 35, satisfied=0.5 + 0.1 * i, tag=str(i))
    whole = public_view(build_report(session, Q1, min_n=30, cache=None), 30)
    assert len(whole.ranks) == 4 and not whole.ranks_withheld
    small = factories.point(session, factories.agency(session, "P-A4", "Xã Nhỏ"), "Quầy")
    session.commit()
    answer(session, small, 4, tag="small")
    official = build_report(session, Q1, min_n=30, cache=None)
    assert len(official.ranks) == 4  # the official table ranks the four large agencies
    public = public_view(official, 30)
    withheld = {line.key: line.suppressed for line in public.agencies if line.suppressed}
    assert withheld == {"P-A4": SMALL, "P-A1": COMPLEMENTARY}  # ties: the first by code
    assert public.ranks == [] and public.ranks_withheld
