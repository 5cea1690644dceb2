"""The report's figures from the database's aggregates equal those of the row-level report.

``overall_figures`` (one GROUP BY, survey/storage/aggregates.py, then analysis/aggregates.py)
against ``build_report`` (every response through pandas) on the demo province, made harder:
excluded responses, blank overall answers, service points without volumes (imputed), a stratum
with one response and one where every client answered, custom periods cutting quarters, and
scopes. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from analysis import Estimate
from survey.services.aggregates import overall_figures, time_bins, whole_months
from survey.services.demo import load_demo_province
from survey.services.exports import local_day_start
from survey.services.periods import parse_period
from survey.services.reporting import IndexLine, build_report
from survey.storage import aggregates, queries
from survey.storage.models import Answer, Item, Response, ServicePoint, ServiceVolume
from tests.analysis.test_aggregates import assert_same


def _harden(session: Session) -> None:
    """Edge cases the plain demo lacks, written as an administrator or an import would."""
    points = session.scalars(select(ServicePoint).order_by(ServicePoint.id)).all()
    overall = select(Item.id).where(Item.code == "overall").scalar_subquery()
    # excluded responses (an integrity decision) and blank overall answers
    session.execute(update(Response).where(Response.id % 97 == 0).values(excluded=True))
    session.execute(
        update(Answer)
        .where(Answer.item_id.in_(overall), Answer.response_id % 53 == 0)
        .values(value=None)
    )
    # no recorded volume at three points in the second half: imputed from the response rate
    for point in points[3:6]:
        session.execute(
            delete(ServiceVolume).where(
                ServiceVolume.service_point_id == point.id,
                ServiceVolume.month >= dt.date(2025, 7, 1),
            )
        )
    # a stratum with a single response (Q1 of a point: every other response excluded)
    first_quarter = (
        select(Response.id)
        .where(
            Response.service_point_id == points[7].id,
            Response.submitted_at < dt.datetime(2025, 3, 31, 17, tzinfo=dt.UTC),
        )
        .order_by(Response.id)
    )
    ids = session.scalars(first_quarter).all()
    session.execute(update(Response).where(Response.id.in_(ids[1:])).values(excluded=True))
    # a census: a point whose recorded volume is below its responses (raised to them)
    session.execute(
        update(ServiceVolume).where(ServiceVolume.service_point_id == points[9].id).values(volume=1)
    )
    session.commit()


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo_province(session)
    _harden(session)
    return session


def _ids(session: Session, codes: frozenset[str]) -> set[int]:
    return {a.id for a in queries.all_agencies(session) if a.code in codes}


def _same_lines(lines: list[IndexLine], estimates: list[Estimate], column: str) -> None:
    ours = {e.group[column]: e for e in estimates}
    assert {line.key for line in lines} == set(ours)
    for line in lines:
        assert_same([line.estimate], [ours[line.key]])


CASES = [
    ("2025", "province", ""),
    ("2025-Q3", "province", ""),
    ("2025-H2", "sector", "health"),
    ("2025-02-10..2025-08-20", "province", ""),
    ("2025-05-01..2025-11-15", "agency", "DIENBIEN-PHUONG-MUONG-THANH-2025"),
    ("2025", "agency", "DIENBIEN-PHUONG-MUONG-THANH-2025"),
]


@pytest.mark.parametrize(
    ("source", "period_key", "kind", "key"),
    [("summaries", *case) for case in CASES] + [("answers", *CASES[k]) for k in (0, 3, 4)],
)
def test_aggregates_give_the_reports_figures(
    demo: Session, source: str, period_key: str, kind: str, key: str
) -> None:
    period = parse_period(period_key)
    report = build_report(demo, period, kind, key, cache=None)
    figures = overall_figures(
        demo,
        period,
        _ids(demo, report.agency_codes),
        by=("sector", "agency", "service_point", "period"),
        min_n=report.min_n,
        source=source,
    )
    assert figures.headline is not None
    assert_same([report.headline.estimate], [figures.headline])
    _same_lines(report.sectors, figures.by["sector"], "sector")
    _same_lines(report.agencies, figures.by["agency"], "agency")
    _same_lines(report.quarters, figures.by["period"], "period")
    if kind == "agency":
        _same_lines(report.points, figures.by["service_point"], "service_point")
    assert figures.responses == report.responses
    assert figures.answered == report.current_responses
    assert figures.previous_answered == report.previous_responses
    assert figures.volume_note == report.volume_note
    assert figures.cells < report.responses  # a few rows per stratum, not one per response


def test_the_hardened_demo_has_the_edge_cases(demo: Session) -> None:
    period = parse_period("2025")
    figures = overall_figures(demo, period)
    assert "had no recorded service volume" in figures.volume_note
    assert figures.answered < figures.responses  # blank overall answers
    bins = time_bins(period)
    counts = aggregates.answer_counts(
        demo,
        starts=[local_day_start(b.first) for b in bins],
        end=local_day_start(period.last + dt.timedelta(days=1)),
    )
    assert (counts["responses"] == 1).any()  # a lonely stratum
    kept = demo.scalar(select(func.count()).where(Response.excluded.is_(False)))
    assert kept is not None and counts["responses"].sum() == kept < queries.count_responses(demo)


def test_no_response_in_the_period_gives_no_headline(demo: Session) -> None:
    figures = overall_figures(demo, parse_period("2019"))
    assert figures.headline is None and figures.by == {} and figures.cells == 0


def test_time_bins_cut_quarters_at_the_periods_start() -> None:
    bins = time_bins(parse_period("2025-02-10..2025-08-20"))
    firsts = [b.first for b in bins]
    # the previous period has the same 192 days: 2024-08-02..2025-02-09
    assert firsts == [
        dt.date(2024, 8, 2),
        dt.date(2024, 10, 1),
        dt.date(2025, 1, 1),
        dt.date(2025, 2, 10),
        dt.date(2025, 4, 1),
        dt.date(2025, 7, 1),
    ]
    assert [b.quarter for b in bins] == ["2024Q3", "2024Q4", "2025Q1", "2025Q1", "2025Q2", "2025Q3"]
    assert [b.current for b in bins] == [False, False, False, True, True, True]
    months, days = whole_months(bins, dt.date(2025, 8, 21))
    assert months == [
        dt.date(2024, 9, 1),
        *[dt.date(2024, m, 1) for m in (10, 11, 12)],
        dt.date(2025, 1, 1),
        *[dt.date(2025, m, 1) for m in (3, 4, 5, 6, 7)],
    ]
    assert days == [
        (dt.date(2024, 8, 2), dt.date(2024, 9, 1)),
        (dt.date(2025, 2, 1), dt.date(2025, 3, 1)),
        (dt.date(2025, 8, 1), dt.date(2025, 8, 21)),
    ]
    year = time_bins(parse_period("2025"))
    assert whole_months(year, dt.date(2026, 1, 1)) == (
        [dt.date(y, m, 1) for y in (2024, 2025) for m in range(1, 13)],
        [],
    )
