"""Reports: the figures equal what ``python -m analysis`` computes on the exported responses."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from survey.services.demo import load_demo_province
from survey.services.errors import InvalidInput, NotFound
from survey.services.periods import parse_period
from survey.services.report_exports import indices_table, responses_in_scope
from survey.services.reporting import (
    ReportCache,
    applicable_target,
    build_report,
    default_period,
)
from survey.storage import queries

ROOT = Path(__file__).resolve().parents[2]


def _cli(csv: Path, *options: str) -> list[dict]:
    """python -m analysis indices on a CSV, design A with service point × quarter strata."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "indices",
            str(csv),
            "--strata",
            "stratum",
            "--fpc",
            "volume",
            "--items",
            "q_overall",
            "--format",
            "json",
            *options,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(result.stdout)["groups"]


def _cli_by(csv: Path, column: str) -> dict[str, dict]:
    """The CLI's groups by one column (its whole-population group left out)."""
    return {g["group"][column]: g for g in _cli(csv, "--by", column) if g["group"]}


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo_province(session)
    return session


def _same(line_estimate, group: dict) -> None:
    assert line_estimate.n == group["n"]
    assert line_estimate.estimate == pytest.approx(group["estimate"], abs=1e-12)
    assert line_estimate.ci_low == pytest.approx(group["ci_low"], abs=1e-12)
    assert line_estimate.ci_high == pytest.approx(group["ci_high"], abs=1e-12)
    assert line_estimate.df == pytest.approx(group["df"], abs=1e-12)


@pytest.mark.parametrize("period_key", ["2025", "2025-Q3"])
def test_province_figures_equal_the_command_line_on_the_export(
    demo: Session, tmp_path: Path, period_key: str
):
    report = build_report(demo, parse_period(period_key), cache=None)
    csv = tmp_path / "responses.csv"
    responses_in_scope(demo, report).to_csv(csv, index=False, encoding="utf-8-sig")

    (whole,) = _cli(csv)
    _same(report.headline.estimate, whole)
    by_sector = _cli_by(csv, "sector")
    assert {line.key for line in report.sectors} == set(by_sector)
    for line in report.sectors:
        _same(line.estimate, by_sector[line.key])
    by_agency = _cli_by(csv, "agency")
    assert len(report.agencies) == len(by_agency)
    for line in report.agencies:
        group = by_agency[line.key]
        if line.estimate.status == "insufficient_data":
            assert group["estimate"] is None
        else:
            _same(line.estimate, group)


def test_agency_and_sector_scopes_equal_the_command_line(demo: Session, tmp_path: Path):
    period = parse_period("2025")
    for kind, key in (("sector", "health"), ("agency", "DIENBIEN-PHUONG-MUONG-THANH-2025")):
        report = build_report(demo, period, kind, key, cache=None)
        csv = tmp_path / f"{kind}.csv"
        responses_in_scope(demo, report).to_csv(csv, index=False, encoding="utf-8-sig")
        (whole,) = _cli(csv, "--target", "0.8")
        _same(report.headline.estimate, whole)
        if report.headline.verdict is not None:
            assert report.headline.verdict.verdict == whole["verdict"]
            assert report.headline.verdict.p_value == pytest.approx(whole["p_value"], abs=1e-12)
        by_quarter = _cli_by(csv, "period")
        for line in report.quarters:
            _same(line.estimate, by_quarter[line.key])


def test_exported_index_table_holds_the_report_numbers(demo: Session):
    report = build_report(demo, parse_period("2025-H2"), cache=None)
    table = indices_table(report, "en")
    sectors = table[table["level"] == "sector"].set_index("key")
    for line in report.sectors:
        assert sectors.loc[line.key, "estimate"] == line.estimate.estimate
        assert sectors.loc[line.key, "verdict"] == line.verdict.verdict  # type: ignore[union-attr]
    assert (table["period"] == "2025-H2").all()
    assert not table["summary"].str.contains(r"\bnan\b", case=False).any()


def test_reorganisation_adds_up_and_successors_carry_history(demo: Session):
    year = build_report(demo, parse_period("2025"), cache=None)
    assert sum(line.estimate.n for line in year.agencies) == year.responses
    assert sum(line.estimate.n for line in year.sectors) == year.responses
    new_ward = build_report(
        demo, parse_period("2025"), "agency", "DIENBIEN-PHUONG-MUONG-THANH-2025", cache=None
    )
    # The new ward's year includes the first half of its predecessors, before 1 July 2025.
    assert {line.key for line in new_ward.quarters} == {"2025Q1", "2025Q2", "2025Q3", "2025Q4"}
    assert len(new_ward.children) == 4
    assert (
        sum(c.estimate.n for c in new_ward.children)
        + sum(line.estimate.n for line in new_ward.agencies if line.key == new_ward.scope_key)
        == new_ward.responses
    )


def test_targets_in_force_and_verdicts(demo: Session):
    report = build_report(demo, parse_period("2025"), cache=None)
    targets = {line.key: line.target for line in report.sectors}
    assert targets["health"] is not None and targets["health"].low == 0.80
    assert "2025" in targets["health"].description
    assert targets["administrative"] is not None and targets["administrative"].low == 0.80
    for line in report.sectors:
        assert line.verdict is not None
        assert line.verdict.verdict in {"met", "not_met", "undetermined"}
    # 2015: Điện Biên's own band 70–75% beats the national 60%.
    province_id = queries.agency_by_code(demo, "DIENBIEN").id  # type: ignore[union-attr]
    band = applicable_target(
        queries.all_targets(demo), "administrative", parse_period("2015"), province_id
    )
    assert band is not None and (band.low, band.high) == (0.70, 0.75)


def test_empty_and_thin_data_read_as_sentences(demo: Session):
    empty = build_report(demo, parse_period("2019"), cache=None)
    assert empty.responses == 0 and empty.agencies == []
    sentence = empty.headline.summary("vi")
    assert "chưa đủ số phiếu" in sentence and "nan" not in sentence.lower()
    thin = build_report(
        demo, parse_period("2025-Q3"), "agency", "DIENBIEN-XA-THANH-NUA-2025", cache=None
    )
    for line in [thin.headline, *thin.points]:
        assert "nan" not in line.summary("en").lower()
    assert any(c.responses < 30 for c in thin.coverage) or thin.headline.estimate.n >= 30


def test_cache_is_invalidated_by_a_new_response(demo: Session, app: Flask):
    cache = ReportCache()
    period = parse_period("2025")
    first = build_report(demo, period, cache=cache)
    assert build_report(demo, period, cache=cache).version == first.version  # same data, same key
    from survey.services.questionnaires import open_service_point
    from survey.services.responses import submit_response

    point = queries.active_service_points_of_sector(demo, "health", 1)[0]
    point, questionnaire = open_service_point(demo, point.public_code)
    answers = {item.code: 5 for item in questionnaire.items}
    submit_response(
        demo,
        point=point,
        questionnaire=questionnaire,
        answers=answers,
        idempotency_key="cache-test-000001",
        channel="qr",
        submitted_at=dt.datetime(2025, 6, 1, 3, tzinfo=dt.UTC),
    )
    second = build_report(demo, period, cache=cache)
    assert second.version != first.version and second.responses == first.responses + 1


def test_bad_scope_and_period_are_clear_errors(demo: Session):
    with pytest.raises(NotFound):
        build_report(demo, parse_period("2025"), "agency", "NO-SUCH-AGENCY", cache=None)
    with pytest.raises(NotFound):
        build_report(demo, parse_period("2025"), "sector", "police", cache=None)
    with pytest.raises(InvalidInput) as error:
        parse_period("2025-Q5")
    assert "2025-Q3" in error.value.message_en
    assert default_period(demo).key == "2025"
    assert parse_period("2025-Q1").previous().key == "2024-Q4"
    assert parse_period("2025-H1").previous().key == "2024-H2"
    assert parse_period("2025-02-01..2025-02-28").previous().last == dt.date(2025, 1, 31)


def test_responses_export_roundtrips_through_excel(demo: Session):
    from survey.services.report_exports import codebook, export_file

    report = build_report(demo, parse_period("2025-Q4"), "sector", "education", cache=None)
    table = responses_in_scope(demo, report)
    file = export_file(table, "x", "xlsx", sheet="responses", codebook=codebook(demo))
    assert file.filename == "x.xlsx"
    sheets = pd.read_excel(io.BytesIO(file.body), sheet_name=None)
    assert set(sheets) == {"responses", "codebook"}
    assert len(sheets["responses"]) == report.responses
    assert "Học sinh tiến bộ" in " ".join(sheets["codebook"]["vi"])


# --------------------------------------------------------------------------------------------
# custom periods, the change since the previous period, labels of p-values


@pytest.mark.parametrize(
    "key",
    [
        "2025-03-01..2025-08-31",  # was a 500: "volume differs between rows of the same stratum"
        "2025-05-07..2025-05-07",  # one day
        "2025-02-10..2025-11-20",  # parts of Q1 and Q4, the previous range straddles two years
    ],
)
def test_any_custom_range_of_days_gives_a_report_with_prorated_volumes(demo: Session, key: str):
    from analysis import counter_design, estimate_proportion
    from analysis.weights import prorate_volumes
    from survey.services.exports import responses_table
    from survey.services.reporting import analysable

    period = parse_period(key)
    report = build_report(demo, period, cache=None)
    # the headline is the counter design on volumes prorated by analysis.weights.prorate_volumes
    table = responses_table(demo, period.first, period.last)
    table = table.assign(
        volume=prorate_volumes(table["volume"], table["period"], period.first, period.last)
    )
    table, _ = analysable(table)
    (whole,) = estimate_proportion(
        table, "q_overall", counter_design(table, strata="stratum", volume="volume")
    )
    assert report.responses == len(table)
    assert report.headline.estimate.estimate == pytest.approx(whole.estimate, abs=1e-12)
    assert report.headline.estimate.ci_low == pytest.approx(whole.ci_low, abs=1e-12)
    if report.change is not None:
        assert report.change.group_a == {"report_period": "current"}
        assert report.change_summary("en") and report.change_summary("vi")


def test_a_custom_range_of_whole_quarters_is_the_half_year(demo: Session):
    custom = build_report(demo, parse_period("2025-07-01..2025-12-31"), cache=None)
    half = build_report(demo, parse_period("2025-H2"), cache=None)
    _same(custom.headline.estimate, half.headline.estimate.to_dict())
    for a, b in zip(custom.sectors, half.sectors, strict=True):
        _same(a.estimate, b.estimate.to_dict())


def test_the_change_sentence_carries_the_sign_of_its_interval(demo: Session):
    # Q2 2025 of a department where satisfaction fell: current − previous < 0, its interval too
    report = build_report(
        demo, parse_period("2025-Q2"), "agency", "DIENBIEN-SO-XAY-DUNG", cache=None
    )
    change = report.change
    assert change is not None and change.difference < 0 and change.ci_high < 0
    assert change.group_a == {"report_period": "current"}
    en = report.change_summary("en")
    points = f"{-100 * change.difference:.1f} percentage points"
    assert en.startswith(f"down {points}")
    assert f"−{-100 * change.ci_low:.1f} to −{-100 * change.ci_high:.1f}" in en
    assert "higher" not in en and "adjusted" not in en
    vi = report.change_summary("vi")
    assert vi.startswith("giảm ") and "điểm phần trăm" in vi
    # the province in Q2 2025: up
    up = build_report(demo, parse_period("2025-Q2"), cache=None)
    assert up.change is not None and up.change.ci_low > 0
    assert up.change_summary("en").startswith("up ")
    assert up.change_summary("vi").startswith("tăng ")


def test_no_change_is_reported_when_a_period_is_below_the_minimum(demo: Session):
    # 27 responses in Q2 2025: its change since Q1 used to be worded as significant
    thin = build_report(
        demo,
        parse_period("2025-Q2"),
        "agency",
        "DIENBIEN-THANH-PHO-DIEN-BIEN-PHU-XA-THANH-MINH",
        cache=None,
    )
    assert thin.responses < 30 and thin.previous_responses >= 30
    assert thin.change is None and thin.change_summary("en") is None
    assert "at least 30" in thin.no_change_reason("en")
    assert "cần ít nhất 30 phiếu" in thin.no_change_reason("vi")
    # 144 responses in Q3 2025 but 27 in Q2: "down 13.7 points" used to be reported
    fell = build_report(
        demo, parse_period("2025-Q3"), "agency", "DIENBIEN-XA-MUONG-ANG-2025", cache=None
    )
    assert fell.current_responses >= 30 and fell.previous_responses < 30
    assert fell.change is None
    assert fell.no_change_reason("en") == (
        f"Too few responses to report a change since Q2 2025 ({fell.current_responses} now, "
        f"{fell.previous_responses} in Q2 2025; at least 30 are needed in each period)."
    )
    first = build_report(demo, parse_period("2025-Q1"), cache=None)
    assert first.change is None and first.previous_responses == 0
    assert first.no_change_reason("en") == "No responses in Q4 2024 to compare with."
    assert first.no_change_reason("vi") == "Không có phiếu trong Quý 4/2024 để so sánh."


def test_verdicts_use_the_population_served_and_exports_label_the_p_value(demo: Session):
    report = build_report(demo, parse_period("2025-Q3"), cache=None)
    for line in [report.headline, *report.sectors, *report.agencies]:
        t = line.verdict
        if t is None:
            continue
        assert t.population is not None and t.population >= line.estimate.n
        if t.additional_n:
            assert t.additional_n <= t.population - line.estimate.n
        if t.p_value is not None:
            assert "one-sided p" in line.summary("en")
    table = indices_table(report, "en")
    assert "p_value_one_sided" in table.columns and "p_value" not in table.columns


def test_the_custom_range_page_and_files_answer(demo: Session, client):
    """/reports/…?from=2025-03-01&to=2025-08-31 answered 500; the page, the PDF and the index
    table now come back with the change since the previous range, or the reason there is none."""
    import re

    from survey.services.accounts import create_user

    password = "tide-Marble-quiet-47-Lantern"
    create_user(demo, "chief.custom", password, role="province_admin")
    demo.commit()
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    client.post(
        "/admin/sign-in",
        data={"csrf_token": token.group(1), "username": "chief.custom", "password": password},
    )
    query = "from=2025-03-01&to=2025-08-31"
    answer = client.get(f"/reports/province/all?{query}&lang=en")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    change = re.search(r'<p[^>]*id="change">(.*?)</p>', body, re.S)
    assert change and ("Change since" in change.group(1) or "responses" in change.group(1))
    assert "Holm" not in change.group(1)
    for path in ("/report.pdf", "/indices.csv"):
        assert client.get(f"/reports/province/all{path}?{query}").status_code == 200


def test_each_agency_is_compared_with_its_sector_and_ranked_from_counts(session: Session) -> None:
    """The comparisons that scale with agencies: every agency of the province against its own
    sector's aggregate (the sector's estimate is the sector line's), and a league table made
    from the agencies' independent estimates, not from response rows."""
    from survey.services.demo import load_demo_province
    from survey.services.reporting import build_report

    load_demo_province(session)
    session.commit()
    report = build_report(session, parse_period("2025"), cache=None)
    compared = {c.group["agency"]: c for c in report.against_sector}
    assert set(compared) == {line.key for line in report.agencies}
    sectors = {line.key: line.estimate.estimate for line in report.sectors}
    for line in report.agencies:
        comparison = compared[line.key]
        assert comparison.reference == {"sector": line.sector}
        assert comparison.reference_estimate == pytest.approx(sectors[line.sector], rel=1e-12)
        if line.estimate.status == "ok":
            assert comparison.estimate == pytest.approx(line.estimate.estimate, rel=1e-12)
            assert comparison.difference == pytest.approx(
                line.estimate.estimate - sectors[line.sector], rel=1e-9
            )
    assert any(c.verdict in ("above", "below") for c in report.against_sector)
    sentence = report.against_sector_summary("en")
    above = sum(c.verdict == "above" for c in report.against_sector)
    assert sentence.startswith(f"Compared with their sector: {above} agencies above")
    assert "So với lĩnh vực của mình" in report.against_sector_summary("vi")
    ranked = {line.key for line in report.ranks}
    eligible = {line.key for line in report.agencies if line.estimate.n >= report.min_n}
    assert ranked == eligible
