"""Dashboards: the period a report opens on, filters, sector tiles, what an agency's figure covers,
its comparison with the sector and the province, year-on-year trends, retired units marked."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy.orm import Session

from survey.services.errors import InvalidInput
from survey.services.periods import custom_period, parse_period, year_before
from survey.services.reporting import (
    ReportCache,
    ReportFilters,
    build_report,
    default_period,
    filters_from_args,
)
from survey.services.responses import submit_response
from survey.storage import queries
from survey.storage.models import ServicePoint
from tests import factories
from tests.factories import SmallProvince

_keys = itertools.count()


def _answer(
    session: Session,
    point: ServicePoint,
    n: int,
    when: dt.datetime,
    *,
    satisfied: float = 1.0,
    channel: str = "qr",
    comment: str | None = None,
    spread: bool = True,
) -> None:
    """``n`` responses from ``when`` (one a day over at most 28 days, or all at ``when``), a
    share ``satisfied`` of them 5 on every question, the others 2."""
    questionnaire = queries.active_questionnaire(session, point.agency.sector)
    assert questionnaire is not None  # a retired unit's point too (no redirect to a successor)
    happy = round(n * satisfied)
    for i in range(n):
        value = 5 if i < happy else 2
        submit_response(
            session,
            point=point,
            questionnaire=questionnaire,
            answers={item.code: value for item in questionnaire.items},
            idempotency_key=f"dash-{next(_keys):08d}-{point.public_code}",
            channel=channel,
            comment=comment,
            submitted_at=when + dt.timedelta(days=i % 28 if spread else 0),
        )


def _at(year: int, month: int, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, 3, tzinfo=dt.UTC)


def test_year_before_is_the_same_period_a_year_earlier():
    assert year_before(parse_period("2025-Q3")).key == "2024-Q3"
    assert year_before(parse_period("2025-H1")).key == "2024-H1"
    assert year_before(parse_period("2025")).key == "2024"
    leap = custom_period(dt.date(2024, 2, 29), dt.date(2024, 3, 10))
    assert year_before(leap).key == "2023-02-28..2023-03-10"


def test_the_first_page_opens_on_the_latest_year_with_enough_responses(
    session: Session, seeded: SmallProvince
):
    today = dt.date(2026, 5, 1)
    _answer(session, seeded.desk, 35, _at(2025, 3))
    _answer(session, seeded.desk, 14, _at(2026, 4))  # this year: too few yet
    assert default_period(session, today=today).key == "2025"
    assert default_period(session, "agency", seeded.department.code, today=today).key == "2025"
    # A scope with a few responses in one year only: that year; with none at all: this year.
    _answer(session, seeded.counter, 5, _at(2024, 6))
    assert default_period(session, "agency", seeded.hospital.code, today=today).key == "2024"
    assert default_period(session, "sector", "education", today=today).key == "2026"
    # Once this year has enough, it is the one.
    _answer(session, seeded.desk, 16, _at(2026, 4, 10))
    assert default_period(session, today=today).key == "2026"


def test_the_year_is_vietnams_year(session: Session, seeded: SmallProvince):
    """31 December 18:00 UTC is already 1 January in Vietnam."""
    new_year = dt.datetime(2025, 12, 31, 18, tzinfo=dt.UTC)
    _answer(session, seeded.counter, 30, new_year, spread=False)
    _answer(
        session, seeded.desk, 30, new_year - dt.timedelta(hours=2), spread=False
    )  # 23:00 in Vietnam
    today = dt.date(2026, 2, 1)
    assert default_period(session, "agency", seeded.hospital.code, today=today).key == "2026"
    assert default_period(session, "agency", seeded.department.code, today=today).key == "2025"


def test_filters_keep_one_channel_level_or_sector_and_are_part_of_the_cache_key(
    session: Session, seeded: SmallProvince
):
    _answer(session, seeded.desk, 35, _at(2025, 2), channel="qr")
    _answer(session, seeded.desk, 35, _at(2025, 2), satisfied=0.0, channel="kiosk")
    _answer(session, seeded.school_office, 35, _at(2025, 2))
    period = parse_period("2025-Q1")
    cache = ReportCache()
    everything = build_report(session, period, cache=cache)
    kiosk = build_report(session, period, cache=cache, filters=ReportFilters(channel="kiosk"))
    assert everything.responses == 105 and kiosk.responses == 35
    assert kiosk.headline.estimate.estimate == 0.0 and kiosk.version != everything.version
    assert [line.key for line in kiosk.agencies] == [seeded.department.code]
    communes = build_report(session, period, cache=cache, filters=ReportFilters(level="commune"))
    assert communes.responses == 35 and {a.key for a in communes.agencies} == {"P-TH"}
    health = build_report(session, period, cache=cache, filters=ReportFilters(sector="health"))
    assert health.responses == 0
    assert ReportFilters(channel="kiosk", level="commune").args() == {
        "channel": "kiosk",
        "level": "commune",
    }
    assert ReportFilters(channel="paper").describe("vi") == "Kênh: Phiếu giấy"


@pytest.mark.parametrize(
    "args", [{"channel": "fax"}, {"level": "ward"}, {"sector": "army"}, {"channel": "QR"}]
)
def test_an_unknown_filter_value_is_a_clear_error(args: dict[str, str]):
    with pytest.raises(InvalidInput) as error:
        filters_from_args(args)
    assert "không hợp lệ" in error.value.message_vi and "Not a valid" in error.value.message_en


def test_blank_filters_mean_all():
    assert filters_from_args({"channel": "", "level": " "}) == ReportFilters()


def test_sector_tiles_carry_the_change_and_the_response_rate(
    session: Session, seeded: SmallProvince
):
    _answer(session, seeded.desk, 40, _at(2025, 1))
    _answer(session, seeded.desk, 40, _at(2025, 4), satisfied=0.5)
    _answer(session, seeded.counter, 35, _at(2025, 4))
    for month in (4, 5, 6):
        factories.volume(session, seeded.desk, dt.date(2025, month, 1), 100)
    session.commit()
    report = build_report(session, parse_period("2025-Q2"), cache=None)
    tiles = {tile.line.key: tile for tile in report.tiles}
    assert set(tiles) == {"administrative", "health"}
    administrative, health = tiles["administrative"], tiles["health"]
    assert administrative.change is not None and administrative.change.difference < 0
    assert administrative.change.ci_high is not None and administrative.change.ci_high < 0
    assert administrative.response_rate == pytest.approx(40 / 300)
    assert not administrative.rate_partial
    assert health.change is None and health.previous_responses == 0
    assert health.response_rate is None  # no volume known for the counter
    # Agency pages have no sector tiles (their comparison is with the sector and province).
    agency = build_report(session, parse_period("2025-Q2"), "agency", "P-TP", cache=None)
    assert agency.tiles == []


def test_an_agency_page_says_what_its_figure_covers_and_compares_with_its_sector_and_province(
    session: Session, seeded: SmallProvince
):
    _answer(session, seeded.desk, 40, _at(2025, 2))
    _answer(session, seeded.counter, 40, _at(2025, 2), satisfied=0.25)
    period = parse_period("2025-Q1")
    root = build_report(session, period, "agency", "P", cache=None)
    assert root.own is None and root.subunits == 2  # the province's agency has no points itself
    department = build_report(session, period, "agency", "P-TP", cache=None)
    assert department.subunits == 0 and department.own is not None
    assert department.own.estimate.estimate == department.headline.estimate.estimate == 1.0
    roles = {bench.role: bench for bench in department.benchmarks}
    assert list(roles) == ["agency", "sector", "province"]
    assert roles["sector"].name_vi == "Dịch vụ hành chính công"
    assert roles["sector"].estimate.n == 40  # the administrative sector: the desk only
    assert roles["province"].estimate.n == 80
    province = build_report(session, period, cache=None)
    assert roles["province"].estimate.estimate == pytest.approx(province.headline.estimate.estimate)
    # The province's own page has no such block.
    assert province.benchmarks == [] and province.own is None


def test_quarters_stand_beside_the_same_quarter_a_year_before(
    session: Session, seeded: SmallProvince
):
    _answer(session, seeded.desk, 40, _at(2024, 2))
    _answer(session, seeded.desk, 40, _at(2025, 2), satisfied=0.5)
    year = build_report(session, parse_period("2025"), cache=None)
    (q1,) = year.quarter_trend
    assert q1.line.name_vi == "Quý 1/2025" and q1.line.name_en == "Q1 2025"
    assert q1.year_ago is not None and q1.year_ago.key == "2024Q1"
    assert q1.year_ago.estimate.estimate == 1.0
    assert q1.change is not None and q1.change.difference == pytest.approx(-0.5)
    assert year.year_ago is None  # for a year, the change since the previous period is it
    cache = ReportCache()
    quarter = build_report(session, parse_period("2025-Q1"), cache=cache)
    assert quarter.year_ago is not None and quarter.year_ago.key == "2024-Q1"
    assert quarter.change is None  # 2024-Q4 had no responses
    assert quarter.year_ago_change is not None
    assert quarter.year_ago_change.difference == pytest.approx(-0.5)
    assert "giảm" in (quarter.year_ago_summary("vi") or "").lower()
    # A new response a year before is seen: the cache key covers that period too.
    _answer(session, seeded.desk, 1, _at(2024, 3), satisfied=0.0)
    again = build_report(session, parse_period("2025-Q1"), cache=cache)
    assert again.version != quarter.version
    assert again.year_ago_change is not None
    assert again.year_ago_change.difference != quarter.year_ago_change.difference


def test_retired_units_are_marked_wherever_they_appear(session: Session, seeded: SmallProvince):
    _answer(session, seeded.retired_desk, 35, _at(2025, 2), comment="Chờ lâu quá")
    _answer(session, seeded.desk, 35, _at(2025, 2))
    period = parse_period("2025-Q1")
    report = build_report(session, period, "agency", "P", cache=None)
    retired = {line.key: line.retired for line in report.points}
    assert retired == {seeded.retired_desk.public_code: True, seeded.desk.public_code: False}
    assert {line.key: line.retired for line in report.agencies} == {"P-X1": True, "P-TP": False}
    assert report.comments and all(c.retired for c in report.comments)
    assert report.comments[0].agency("en") == "Xã Thanh Minh (en)"
    assert report.comments[0].moment is not None
    _answer(session, seeded.retired_desk, 1, _at(2025, 5))  # too few in Q2: in the coverage
    thin = build_report(session, parse_period("2025-Q2"), "agency", "P", cache=None)
    assert [(c.point_vi, c.retired) for c in thin.coverage if c.agency_vi == "Xã Thanh Minh"] == [
        ("Bộ phận một cửa xã", True)
    ]
