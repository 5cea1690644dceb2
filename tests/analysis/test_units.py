"""Targets, degenerate groups, presentation rules, summaries, adjustments, calibration errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import (
    AnalysisError,
    Estimate,
    Target,
    bh_adjust,
    compare_groups,
    compare_periods,
    counter_design,
    cronbach_alpha,
    element_indices,
    estimate_mean,
    estimate_proportion,
    general_design,
    holm_adjust,
    linear_trend,
    nchs_proportion_standard,
    parse_target,
    rake,
    summarize_difference,
    summarize_estimate,
    summarize_test,
    test_target,
    trim_weights,
)
from analysis.results import PairwiseDifference
from tests.analysis.conftest import reference_dir

REF = reference_dir()


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "responses.csv")


def _est(p: float, lo: float, hi: float, n: int = 412, se: float = 0.02, **kw) -> Estimate:
    return Estimate(
        {"agency": "Sở Tư pháp"},
        "share_satisfied:q_overall",
        n,
        n * 0.8,
        p,
        se,
        lo,
        hi,
        n - 10.0,
        1.1,
        **kw,
    )


def test_holm_and_bh_match_r_p_adjust() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm_adjust(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])  # p.adjust(p, "holm")
    assert bh_adjust(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])  # p.adjust(p, "BH")


def test_degenerate_group_gets_korn_graubard_on_kish_n(data: pd.DataFrame) -> None:
    d = data.copy()
    d.loc[d.agency == "ADM-C04", "q_overall"] = 5  # R: estimate 1, se 0, NA beta interval
    for method in ("logit", "beta", "wilson", "wald"):
        e = next(
            e
            for e in estimate_proportion(
                d, "q_overall", counter_design(d), "agency", ci_method=method, min_n=0
            )
            if e.group["agency"] == "ADM-C04"
        )
        assert e.estimate == 1.0 and e.se == 0.0
        assert e.ci_high == 1.0 and 0.8 < e.ci_low < 1.0
        assert e.deff == pytest.approx(e.n / e.n_eff)
        assert "Kish" in e.note
        assert test_target(e, Target(0.7)).verdict == "met"


def test_target_verdicts_and_power() -> None:
    met = test_target(_est(0.784, 0.741, 0.822), Target(0.70))
    assert met.verdict == "met" and met.additional_n == 0 and met.p_value < 0.025
    assert test_target(_est(0.60, 0.55, 0.65), Target(0.70)).verdict == "not_met"
    und = test_target(_est(0.72, 0.68, 0.76), Target(0.70))
    assert und.verdict == "undetermined" and und.additional_n > 0 and und.p_value > 0.025
    assert (
        test_target(_est(0.72, 0.705, 0.735, se=0.0075), Target(0.70, 0.75)).verdict
        == "within_band"
    )
    assert test_target(_est(0.80, 0.77, 0.83), Target(0.70, 0.75)).verdict == "above_band"
    assert parse_target("70:75") == Target(0.70, 0.75)
    with pytest.raises(AnalysisError):
        parse_target("0.8:0.7")


def test_summaries_in_english_and_vietnamese() -> None:
    e = _est(0.784, 0.741, 0.822)
    t = test_target(e, Target(0.70))
    t = type(t)(t.estimate, t.target, "met", 0.001, t.statistic, 0)
    assert summarize_estimate(e, t) == (
        "Sở Tư pháp: 78.4% satisfied (95% CI 74.1–82.2%, n = 412), significantly above the 70% "
        "target (one-sided p = 0.001)."
    )
    assert summarize_estimate(e, t, language="vi") == (
        "Sở Tư pháp: 78,4% hài lòng (KTC 95%: 74,1–82,2%, n = 412), cao hơn có ý nghĩa thống kê "
        "so với mục tiêu 70% (p một phía = 0,001)."
    )
    few = Estimate(
        {"agency": "UBND xã"},
        "m",
        12,
        10.0,
        None,
        None,
        None,
        None,
        None,
        None,
        "insufficient_data",
    )
    assert (
        summarize_estimate(few, language="vi")
        == "UBND xã: chưa đủ số phiếu để báo cáo (n = 12, cần ít nhất 30)."
    )
    und = test_target(_est(0.72, 0.68, 0.76), Target(0.70))
    assert "not yet distinguishable" in summarize_estimate(_est(0.72, 0.68, 0.76), und)


def test_comparison_summary_avoids_ranking_when_not_significant() -> None:
    pair = PairwiseDifference(
        {"agency": "A"}, {"agency": "B"}, 0.75, 0.72, 0.03, 0.03, -0.03, 0.09, 100.0, 0.32, 0.9, 0.6
    )
    text = summarize_difference(pair)
    assert "cannot be told apart" in text and "higher" not in text
    assert "Chưa phân biệt được" in summarize_difference(pair, language="vi")
    sig = PairwiseDifference(
        {"agency": "A"},
        {"agency": "B"},
        0.85,
        0.62,
        0.23,
        0.03,
        0.17,
        0.29,
        100.0,
        1e-9,
        1e-8,
        1e-8,
    )
    assert summarize_difference(sig).startswith("A is higher than B by 23.0 percentage points")


def test_nchs_standard() -> None:
    assert nchs_proportion_standard(_est(0.5, 0.49, 0.51, n=20000, se=0.005)).action == "present"
    assert nchs_proportion_standard(_est(0.5, 0.3, 0.7, n=25, se=0.1)).action == "suppress"
    wide = nchs_proportion_standard(_est(0.05, 0.0, 0.2, n=40, se=0.035))
    assert wide.action == "suppress"


def test_mean_index_and_elements(data: pd.DataFrame) -> None:
    des = counter_design(data)
    mean = estimate_mean(data, "q_overall", des, min_n=0)[0]
    idx = estimate_mean(data, "q_overall", des, index=True, min_n=0)[0]
    assert idx.estimate == pytest.approx(100 * (mean.estimate - 1) / 4)
    assert idx.se == pytest.approx(25 * mean.se)
    el = element_indices(
        data, {"a": ["q1", "q2"], "b": ["q3"]}, des, element_weights={"a": 3, "b": 1}, min_n=0
    )
    by = {e.measure: e for e in el}
    assert by["composite"].estimate == pytest.approx(
        0.75 * by["element:a"].estimate + 0.25 * by["element:b"].estimate
    )


def test_periods_trend_and_alpha(data: pd.DataFrame) -> None:
    d = data.assign(
        period=["2025Q1", "2025Q2", "2025Q3"] * (len(data) // 3) + ["2025Q3"] * (len(data) % 3)
    )
    des = counter_design(d)
    diff = compare_periods(d, des, "period")
    assert diff.ci_low < diff.difference < diff.ci_high
    trend = linear_trend(d, des, "period")
    assert trend.se is not None and trend.ci_low < trend.slope < trend.ci_high
    alpha = cronbach_alpha(d, {"all": ["q1", "q2", "q3", "q4", "q5", "q6"], "one": ["q1"]})
    assert 0.7 < alpha[0].alpha < 1 and alpha[1].alpha is None


def test_rake_and_trim_errors(data: pd.DataFrame) -> None:
    des = counter_design(data)
    with pytest.raises(AnalysisError, match="not in the margins"):
        rake(des, data, {"sex": {"F": 1.0}})
    with pytest.raises(AnalysisError, match="add up to"):
        rake(des, data, {"sex": {"F": 0.5, "M": 0.6}})
    with pytest.raises(AnalysisError, match="did not converge"):
        rake(
            des,
            data,
            {"sex": {"F": 0.5, "M": 0.5}, "age_group": {"18-34": 0.3, "35-54": 0.3, "55+": 0.4}},
            max_iterations=1,
            tolerance=1e-15,
        )
    trimmed = trim_weights(des, upper=30.0)
    assert trimmed.weights.max() <= 30.0 + 1e-9
    assert trimmed.weights.sum() == pytest.approx(des.weights.sum())


def test_census_group_gets_an_exact_interval_with_every_method():
    """Found by hypothesis: volume = responses (all clients answered) gave a NaN beta interval."""
    import pandas as pd

    from analysis import counter_design, estimate_proportion

    df = pd.DataFrame(
        {
            "service_point": ["P0", "P0", "P1", "P1"],
            "agency": ["A0", "A0", "A1", "A1"],
            "volume": [2, 2, 2, 2],
            "q_overall": [1, 5, 5, 5],
        }
    )
    for method in ("logit", "beta", "wilson", "wald"):
        (a0, _a1) = estimate_proportion(
            df,
            "q_overall",
            counter_design(df),
            "agency",
            ci_method=method,
            min_n=0,
            include_total=False,
        )
        assert a0.estimate == 0.5 and a0.se == 0.0
        assert a0.ci_low == a0.ci_high == 0.5
        assert "every unit" in a0.note


def test_wald_test_is_withheld_when_a_group_has_one_psu(data: pd.DataFrame) -> None:
    """Design B: an agency with a single PSU makes the contrasts' covariance singular; R's solve()
    stops there, the engine reports no statistic (never a huge F) and says why."""
    design = general_design(data, strata="stratum", psu="service_point", weight="weight")
    tests = compare_groups(data, design, "agency", "sector", measure="mean", items=["q1"])
    assert tests
    for t in tests:
        assert t.method == "wald"
        assert t.statistic is None and t.p_value is None
        assert "singular" in t.note
        assert t.pairs  # the pairwise differences are still reported
        assert "no test" in summarize_test(t)


def test_wald_summary_names_the_index_not_the_share(data: pd.DataFrame) -> None:
    tests = compare_groups(
        data, counter_design(data), "agency", "sector", measure="ratio", items=["q1", "q2"]
    )
    en = summarize_test(tests[0])
    vi = summarize_test(tests[0], language="vi")
    assert "Wald F" in en and "the index" in en and "Rao" not in en
    assert "F Wald" in vi and "chỉ số" in vi


def test_design_numbers_must_be_finite_positive_and_computable(data: pd.DataFrame) -> None:
    d = data.assign(volume=data.volume.astype(float))
    with pytest.raises(AnalysisError, match="'fpc' must hold finite positive numbers"):
        general_design(d.assign(fpc=np.inf), strata="stratum", psu="service_point", fpc="fpc")
    with pytest.raises(AnalysisError, match="'fpc' gives sampling weights"):
        general_design(d.assign(fpc=1e200), strata="stratum", psu="service_point", fpc="fpc")
    with pytest.raises(AnalysisError, match="'weight' gives sampling weights"):
        general_design(d.assign(weight=1e-200), strata="stratum", weight="weight")
    with pytest.raises(AnalysisError, match="'volume' must hold finite positive numbers"):
        counter_design(d.assign(volume=-d.volume))
    # one row's volume far above the rest of its service point is not "the same" volume
    d.loc[0, "volume"] = 1e150
    with pytest.raises(AnalysisError, match="differs between rows of the same stratum"):
        counter_design(d)
