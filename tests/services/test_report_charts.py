"""Charts are honest and readable: a promised target is drawn (a band with both edges), labels
never read alike, retired units are marked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from survey.services.charts import (
    Interval,
    LabelClash,
    forest_chart,
    require_distinct,
    trend_chart,
)
from survey.services.periods import parse_period
from survey.services.questionnaires import open_service_point
from survey.services.report_charts import build_charts, chart_labels
from survey.services.reporting import build_report
from survey.services.responses import submit_response
from survey.storage.models import Target
from tests.factories import SmallProvince

HOSPITAL = "Bệnh viện Đa khoa tỉnh Điện Biên"


def _ids(svg: str) -> list[str]:
    return re.findall(r'id="([^"]+)"', svg)


def _plain(label: str) -> str:
    return " ".join(label.split())


def test_long_names_keep_their_distinguishing_end():
    names = [
        f"{HOSPITAL} — Quầy đăng ký khám bệnh",
        f"{HOSPITAL} — Khoa Khám bệnh",
        f"{HOSPITAL} — Nhà thuốc bệnh viện",
    ]
    labels = chart_labels(names)
    assert [label.split("\n")[-1] for label in labels] == [
        "Quầy đăng ký khám bệnh",
        "Khoa Khám bệnh",
        "Nhà thuốc bệnh viện",
    ]
    assert all(label.startswith(HOSPITAL) for label in labels)


def test_names_too_long_for_two_lines_are_cut_in_the_middle():
    prefix = "Ban quản lý dự án đầu tư xây dựng các công trình dân dụng và công nghiệp tỉnh"
    names = [f"{prefix} — Bộ phận một cửa số {i}" for i in (1, 2)]
    labels = chart_labels(names)
    assert all(len(line) <= 46 for label in labels for line in label.split("\n"))
    assert all(label.count("\n") == 1 and "…" in label for label in labels)
    assert labels[0].endswith("số 1") and labels[1].endswith("số 2")


def test_units_of_the_same_name_are_told_apart():
    labels = chart_labels(["Xã Chiềng Sinh", "Xã Chiềng Sinh (đã giải thể)", "Xã Chiềng Sinh"])
    assert labels == ["Xã Chiềng Sinh (1)", "Xã Chiềng Sinh (đã giải thể)", "Xã Chiềng Sinh (2)"]


@given(st.lists(st.text(st.sampled_from("ab —Xãờ"), max_size=120), max_size=12))
def test_chart_labels_are_always_distinct(names: list[str]):
    labels = chart_labels(names)
    assert len(labels) == len(names)
    assert len({_plain(label) for label in labels}) == len(labels)


def test_a_chart_refuses_two_identical_labels():
    with pytest.raises(LabelClash):
        require_distinct(["Phường Mường Thanh", "Phường  Mường\nThanh"])
    rows = [Interval("Sở Y tế", 0.8, 0.7, 0.9), Interval("Sở Y tế", 0.6, 0.5, 0.7)]
    with pytest.raises(LabelClash):
        forest_chart(rows, None, None, "t", "d", "")
    with pytest.raises(LabelClash):
        trend_chart(rows, None, None, "t", "d", "")


def test_a_target_line_and_a_target_band_are_drawn():
    rows = [Interval("A", 0.8, 0.7, 0.9), Interval("B", 0.6, 0.5, 0.7)]
    line = _ids(forest_chart(rows, 0.8, None, "t", "d", "Mục tiêu 80%"))
    assert "target-line" in line and "target-band" not in line
    band = _ids(forest_chart(rows, 0.8, 0.9, "t", "d", "Mục tiêu 80–90%"))
    assert {"target-band", "target-low", "target-high"} <= set(band)
    trend = _ids(trend_chart(rows, 0.8, 0.9, "t", "d", "Mục tiêu 80–90%"))
    assert {"target-band", "target-low", "target-high"} <= set(trend)
    none = _ids(forest_chart(rows, None, None, "t", "d", ""))
    assert not [i for i in none if i.startswith("target")]


def test_rows_with_their_own_targets_each_get_a_mark():
    rows = [
        Interval("A", 0.8, 0.7, 0.9, target_low=0.8),
        Interval("B", 0.6, 0.5, 0.7, target_low=0.7, target_high=0.9),
    ]
    ids = _ids(forest_chart(rows, None, None, "t", "d", "Mục tiêu"))
    assert {"target-row-0-low", "target-row-0-high", "target-row-1-low"} <= set(ids)


def test_the_trend_draws_the_same_quarter_a_year_before():
    rows = [Interval("Quý 1/2025", 0.8, 0.7, 0.9), Interval("Quý 2/2025", 0.7, 0.6, 0.8)]
    before = [Interval("Quý 1/2024", 0.6, 0.5, 0.7), None]
    svg = trend_chart(rows, None, None, "t", "d", "", before, ("Kỳ này", "Cùng quý năm trước"))
    assert "year-before-0" in _ids(svg) and "year-before-1" not in _ids(svg)
    assert "Cùng quý năm trước" in svg


def _answer(session: Session, point, n: int, satisfied: int) -> None:  # type: ignore[no-untyped-def]
    found, questionnaire = open_service_point(session, point.public_code)
    for i in range(n):
        value = 5 if i < satisfied else 2
        submit_response(
            session,
            point=found,
            questionnaire=questionnaire,
            answers={item.code: value for item in questionnaire.items},
            idempotency_key=f"chart-{point.public_code}-{i:06d}",
            channel="qr",
            submitted_at=dt.datetime(2025, 2, 1 + i % 28, 3, tzinfo=dt.UTC),
        )


@pytest.mark.parametrize("band", [False, True])
def test_every_chart_that_mentions_a_target_draws_it(
    session: Session, seeded: SmallProvince, band: bool
):
    for sector in ("administrative", "health"):
        session.add(
            Target(
                sector=sector,
                scope_name="Toàn quốc",
                period_start=dt.date(2025, 1, 1),
                period_end=dt.date(2025, 12, 31),
                low=0.7 if sector == "health" else 0.8,
                high=0.95 if band else None,
            )
        )
    session.commit()
    _answer(session, seeded.desk, 40, 30)
    _answer(session, seeded.counter, 40, 20)
    period = parse_period("2025-Q1")
    for kind, key in (("province", ""), ("sector", "health"), ("agency", "P")):
        report = build_report(session, period, kind, key, cache=None)
        for language, word in (("vi", "mục tiêu"), ("en", "target")):
            charts = build_charts(report, language)
            drawn = [charts.comparison, charts.sectors, charts.trend]
            assert any(drawn)
            for svg in filter(None, drawn):
                description = re.search(r"<desc>(.*?)</desc>", svg, re.S)
                assert description is not None
                ids = [i for i in _ids(svg) if i.startswith("target")]
                if word in description.group(1).lower():
                    assert ids, description.group(1)
                    if band:  # both edges of a band, never a single line
                        assert any(i.endswith("high") for i in ids), ids
                        assert "target-line" not in ids
                else:
                    assert not ids, description.group(1)
