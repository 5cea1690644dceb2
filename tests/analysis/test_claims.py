"""The claims officials read: signs and order of differences, p-values that agree with the
intervals they accompany, labels of one-sided and adjusted p-values, units by kind of estimate,
"responses needed" (scale-free, finite population, capped, bands, few PSUs), prorated volumes.

Every test here was written before its fix and failed on the code it guards.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analysis import (
    AnalysisError,
    Estimate,
    Target,
    compare_groups,
    compare_periods,
    counter_design,
    estimate_mean,
    estimate_proportion,
    general_design,
    summarize_difference,
    summarize_estimate,
    summarize_test,
    test_target,
)
from analysis.intervals import CI_METHODS
from analysis.results import ComparisonTest, PairwiseDifference
from analysis.summaries import summarize_change

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _est(
    p: float,
    se: float,
    *,
    n: int = 400,
    df: float = 390.0,
    method: str = "logit",
    level: float = 0.95,
    measure: str = "share_satisfied:q_overall",
    n_eff: float | None = None,
) -> Estimate:
    """An estimate whose interval is computed by the engine's own interval functions."""
    from analysis import intervals

    lo, hi = intervals.proportion_interval(
        method, np.array([p]), np.array([se]), np.array([n]), np.array([df]), level
    )
    return Estimate(
        {"agency": "Sở Tư pháp"},
        measure,
        n,
        float(n if n_eff is None else n_eff),
        p,
        se,
        float(lo[0]),
        float(hi[0]),
        df,
        1.0,
        confidence_level=level,
        ci_method=method,
    )


# --------------------------------------------------------------------------------------------
# signs and order


def _two_years() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for year, share in (("2023", 0.85), ("2024", 0.65)):
        for point in ("P1", "P2", "P3"):
            for _ in range(80):
                rows.append(
                    {
                        "service_point": f"{point}-{year}",
                        "year": year,
                        "volume": 400,
                        "q_overall": 5 if rng.random() < share else 2,
                    }
                )
    return pd.DataFrame(rows)


def test_compare_periods_returns_first_minus_second() -> None:
    d = _two_years()
    design = counter_design(d)
    est = {
        e.group["year"]: e.estimate
        for e in estimate_proportion(d, "q_overall", design, "year", include_total=False)
    }
    diff = compare_periods(d, design, "year", first="2024", second="2023")
    assert diff.group_a == {"year": "2024"} and diff.group_b == {"year": "2023"}
    assert diff.difference == pytest.approx(est["2024"] - est["2023"])
    # R: des <- svydesign(ids=~1, strata=~service_point, fpc=~volume, data=d)
    #    b <- svyby(~sat, ~year, des, svymean, covmat=TRUE)
    #    con <- svycontrast(b, quote(`2024` - `2023`)); confint(con, df=degf(des))
    assert diff.difference == pytest.approx(-0.208333333333333, abs=1e-12)
    assert diff.se == pytest.approx(0.0354843916876963, abs=1e-12)
    assert diff.df == 474
    assert diff.ci_low == pytest.approx(-0.278059501667269, abs=1e-12)
    assert diff.ci_high == pytest.approx(-0.138607164999397, abs=1e-12)
    back = compare_periods(d, design, "year", first="2023", second="2024")
    assert back.difference == pytest.approx(-diff.difference)
    assert back.ci_low == pytest.approx(-diff.ci_high)
    # default: the latest period minus the one before (the change since the previous period)
    default = compare_periods(d, design, "year")
    assert default.group_a == {"year": "2024"} and default.difference == diff.difference


def test_no_change_is_computed_from_a_period_below_the_minimum_sample() -> None:
    d = _two_years()
    d = pd.concat([d[d.year == "2023"], d[d.year == "2024"].head(20)], ignore_index=True)
    design = counter_design(d)
    with pytest.raises(AnalysisError, match="'2024' has 20 respondents, fewer than 30"):
        compare_periods(d, design, "year", min_n=30)
    assert compare_periods(d, design, "year", min_n=20).group_a == {"year": "2024"}


def _pair(diff: float, lo: float, hi: float, p: float = 0.01, **kw) -> PairwiseDifference:
    return PairwiseDifference(
        {"period": "Q3 2025"},
        {"period": "Q2 2025"},
        0.60 + diff,
        0.60,
        diff,
        0.065,
        lo,
        hi,
        200.0,
        p,
        p,
        p,
        **kw,
    )


def _numbers(text: str) -> list[float]:
    return [
        float(x.replace("−", "-").replace(",", ".")) for x in re.findall(r"−?\d+(?:[.,]\d+)?", text)
    ]


def test_a_negative_difference_is_worded_with_the_interval_of_the_same_sign() -> None:
    pair = _pair(-0.154, -0.282, -0.025)
    en = summarize_difference(pair, adjusted="none")
    # "Q2 2025 is higher than Q3 2025 by 15.4 ... (95% CI 2.5 to 28.2 ...)": both positive
    assert en.startswith("Q2 2025 is higher than Q3 2025 by 15.4 percentage points")
    assert "2.5 to 28.2" in en and "−" not in en
    vi = summarize_difference(pair, adjusted="none", language="vi")
    assert vi.startswith("Q2 2025 cao hơn Q3 2025 15,4 điểm phần trăm")
    assert "2,5 đến 28,2" in vi and "−" not in vi


@pytest.mark.parametrize("language", ["en", "vi"])
def test_change_since_the_previous_period_carries_the_sign_of_its_interval(language: str) -> None:
    down = summarize_change(_pair(-0.154, -0.282, -0.025), language=language)
    up = summarize_change(_pair(0.154, 0.025, 0.282), language=language)
    flat = summarize_change(_pair(0.02, -0.05, 0.09, p=0.6), language=language)
    if language == "en":
        assert "down 15.4 percentage points" in down and "−28.2 to −2.5" in down
        assert "up 15.4 percentage points" in up and "2.5 to 28.2" in up
        assert "higher" not in down and "up " not in down
        assert "no significant change" in flat and "−5.0 to 9.0" in flat
    else:
        assert "giảm 15,4 điểm phần trăm" in down and "−28,2 đến −2,5" in down
        assert "tăng 15,4 điểm phần trăm" in up and "2,5 đến 28,2" in up
        assert "chưa thay đổi có ý nghĩa thống kê" in flat
    # the printed change and its interval have the same sign
    for text, sign in ((down, -1), (up, 1)):
        _change, lo, hi = (v for v in _numbers(text) if abs(v) in (15.4, 28.2, 2.5))
        assert np.sign(lo) == np.sign(hi) == sign


# --------------------------------------------------------------------------------------------
# p-values: the same procedure as the interval, labelled


@given(
    p=st.floats(0.03, 0.997),
    se=st.floats(0.002, 0.06),
    bound=st.floats(0.05, 0.99),
    method=st.sampled_from(CI_METHODS),
    level=st.sampled_from([0.90, 0.95, 0.99]),
    df=st.sampled_from([9.0, 40.0, 390.0]),
)
@example(p=0.99, se=0.03, bound=0.70, method="beta", level=0.95, df=390.0)
@example(p=0.992, se=0.045, bound=0.545, method="wilson", level=0.95, df=390.0)
@SETTINGS
def test_threshold_p_value_agrees_with_the_interval(
    p: float, se: float, bound: float, method: str, level: float, df: float
) -> None:
    e = _est(p, se, method=method, level=level, df=df)
    t = test_target(e, Target(bound))
    alpha_half = (1 - level) / 2
    if t.p_value is None:
        return
    margin = 1e-6  # numerical inversion; a p-value this close to α/2 is not asserted on
    if abs(t.p_value - alpha_half) < margin:
        return
    assert (t.p_value < alpha_half) == (t.verdict in ("met", "not_met")), (t, e)


def test_beta_and_wilson_intervals_get_their_own_p_value_not_a_wald_one() -> None:
    # p̂ = 0.99 with a skewed interval reaching down to ~0.64: a Wald statistic (0.99 − 0.70)/0.03
    # gave p < 0.001 next to "not yet distinguishable from the 70% target"
    for method, p, se, n, target in (
        ("beta", 0.99, 0.03, 874, 0.70),
        ("wilson", 0.992, 0.045, 282, 0.545),
    ):
        e = _est(p, se, n=n, method=method)
        assert e.ci_low < target < e.ci_high
        t = test_target(e, Target(target))
        assert t.verdict == "undetermined"
        assert t.p_value > 0.025
        assert "p < 0.001" not in summarize_estimate(e, t)


def test_band_p_value_is_the_larger_of_two_one_sided_tests() -> None:
    e = _est(0.725, 0.008)
    t = test_target(e, Target(0.70, 0.75))
    assert t.verdict == "within_band" and t.p_value < 0.025
    e = _est(0.74, 0.02)
    t = test_target(e, Target(0.70, 0.75))
    assert t.verdict == "undetermined" and t.p_value > 0.025


def test_one_sided_p_values_are_labelled_one_sided() -> None:
    e = _est(0.784, 0.02)
    t = test_target(e, Target(0.70))
    assert t.alternative == "greater"
    assert "one-sided p" in summarize_estimate(e, t)
    assert "p một phía" in summarize_estimate(e, t, language="vi")
    low = test_target(_est(0.60, 0.02), Target(0.70))
    assert low.alternative == "less"


def test_adjusted_p_values_are_labelled_and_not_paired_with_unadjusted_intervals() -> None:
    pair = PairwiseDifference(
        {"agency": "A"}, {"agency": "B"}, 0.85, 0.62, 0.23, 0.03, 0.17, 0.29, 100.0, 1e-4, 3e-3,
        2e-3,
    )  # fmt: skip
    holm = summarize_difference(pair, adjusted="holm")
    assert "Holm-adjusted p = 0.003" in holm and "CI" not in holm
    bh = summarize_difference(pair, adjusted="bh")
    assert "Benjamini–Hochberg-adjusted p = 0.002" in bh and "CI" not in bh
    raw = summarize_difference(pair, adjusted="none")
    assert "95% CI 17.0 to 29.0" in raw and "p < 0.001" in raw and "adjusted" not in raw
    vi = summarize_difference(pair, adjusted="holm", language="vi")
    assert "p đã hiệu chỉnh Holm = 0,003" in vi and "KTC" not in vi
    # the default is adjusted (several pairs are reported together)
    assert summarize_difference(pair) == holm


def _group_test(p: float, level: float) -> ComparisonTest:
    return ComparisonTest(
        {"sector": "health"}, 2.1, 3.2, 120.0, p, 9.0, 900, 5, confidence_level=level
    )


def test_group_test_uses_the_chosen_confidence_level_and_never_says_no_evidence() -> None:
    at_90 = summarize_test(_group_test(0.07, 0.90))
    assert "differs between the 5 groups" in at_90 and "90%" in at_90
    at_95 = summarize_test(_group_test(0.07, 0.95))
    assert "not statistically significant at the 95% level" in at_95
    assert "evidence" not in at_95 and "equal" in at_95
    vi = summarize_test(_group_test(0.07, 0.95), language="vi")
    assert "chưa có ý nghĩa thống kê ở mức tin cậy 95%" in vi and "bằng chứng" not in vi


def test_compare_groups_keeps_its_confidence_level() -> None:
    d = _two_years()
    (t,) = compare_groups(d, counter_design(d), "service_point", confidence_level=0.9)
    assert t.confidence_level == 0.9
    assert all(pair.confidence_level == 0.9 for pair in t.pairs)


# --------------------------------------------------------------------------------------------
# units by kind of estimate


def test_a_mean_is_never_printed_as_percent_satisfied() -> None:
    d = _two_years()
    (mean,) = estimate_mean(d, "q_overall", counter_design(d))
    en = summarize_estimate(mean)
    assert "%" not in en.replace("95% CI", "") and "satisfied" not in en
    assert f"mean {mean.estimate:.2f} (95% CI {mean.ci_low:.2f}–{mean.ci_high:.2f}" in en
    (index,) = estimate_mean(d, "q_overall", counter_design(d), index=True)
    en = summarize_estimate(index)
    assert "%" not in en.replace("95% CI", "") and f"index {index.estimate:.1f} out of 100" in en
    vi = summarize_estimate(index, language="vi")
    assert "%" not in vi.replace("KTC 95%", "") and "chỉ số" in vi and "hài lòng" not in vi


def test_differences_of_means_are_not_percentage_points() -> None:
    d = _two_years()
    (t,) = compare_groups(d, counter_design(d), "year", measure="mean")
    (pair,) = t.pairs
    assert pair.measure == "mean"
    text = summarize_difference(pair, adjusted="none")
    assert "percentage points" not in text and "%" not in text.replace("95% CI", "")
    assert f"{abs(pair.difference):.2f}" in text
    assert "điểm phần trăm" not in summarize_difference(pair, adjusted="none", language="vi")


def test_a_target_for_a_mean_is_refused() -> None:
    d = _two_years()
    (mean,) = estimate_mean(d, "q_overall", counter_design(d))
    with pytest.raises(AnalysisError, match="share"):
        test_target(mean, Target(0.8))


# --------------------------------------------------------------------------------------------
# responses needed


def _srs(n: int, share: float, seed: int = 3, weight: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sat = rng.permutation(np.arange(n) < round(share * n))
    return pd.DataFrame({"s": "A", "w": weight, "q_overall": np.where(sat, 5, 2)})


def test_responses_needed_does_not_depend_on_the_scale_of_the_weights() -> None:
    base = _srs(200, 0.75)
    needed = []
    for factor in (1.0, 1.005, 2.0, 1000.0):
        d = base.assign(w=base.w * factor)
        (e,) = estimate_proportion(d, "q_overall", general_design(d, strata="s", weight="w"))
        t = test_target(e, Target(0.70))
        assert t.verdict == "undetermined"
        needed.append(t.additional_n)
    assert len(set(needed)) == 1, needed
    # the SRS answer: n = ((t·√(p̂q̂) + z_0.8·√(p̂q̂)) / pq·Δlogit)² on the logit scale, ≈ 600
    assert 300 < needed[0] < 800


def test_responses_needed_uses_the_finite_population_and_stops_at_a_census() -> None:
    # a counter that served 120 citizens, 100 of whom answered
    d = pd.DataFrame({"service_point": "P", "volume": 120, "q_overall": [5] * 88 + [2] * 12})
    (e,) = estimate_proportion(d, "q_overall", counter_design(d))
    population = 120.0
    t = test_target(e, Target(0.90), population=population)
    assert t.verdict == "undetermined"
    assert t.additional_n is not None and 0 < t.additional_n <= 20
    assert t.population == population
    if t.additional_n == 20:
        assert t.census
        assert "a census of the remaining 20" in summarize_estimate(e, t)


def test_census_wording_when_the_cap_binds() -> None:
    d = pd.DataFrame({"service_point": "P", "volume": 120, "q_overall": [5] * 89 + [2] * 11})
    (e,) = estimate_proportion(d, "q_overall", counter_design(d))
    t = test_target(e, Target(0.885), population=120.0)
    assert t.verdict == "undetermined"
    assert t.census and t.additional_n == 20
    text = summarize_estimate(e, t)
    assert "a census of the remaining 20 people in the population would decide" in text
    vi = summarize_estimate(e, t, language="vi")
    assert "khảo sát toàn bộ 20 người còn lại trong tổng thể" in vi


def test_an_estimate_equal_to_the_target_up_to_rounding_gets_no_size() -> None:
    d = pd.DataFrame({"service_point": "P", "volume": 120, "q_overall": [5] * 90 + [2] * 10})
    (e,) = estimate_proportion(d, "q_overall", counter_design(d))
    assert e.estimate != 0.9 and e.estimate == pytest.approx(0.9)  # 0.8999999999999999
    assert test_target(e, Target(0.90)).additional_n is None


def test_band_sizing_needs_both_edges_resolved() -> None:
    # inside the 70–75% band: both edges must be resolved, so more responses than for either edge
    e = _est(0.725, 0.02)
    band = test_target(e, Target(0.70, 0.75))
    low = test_target(e, Target(0.70))
    high = test_target(e, Target(0.75))
    assert band.verdict == "undetermined"
    assert band.additional_n > max(low.additional_n, high.additional_n)
    # above the band: only the upper edge matters
    above = test_target(_est(0.77, 0.02), Target(0.70, 0.75))
    assert above.additional_n == test_target(_est(0.77, 0.02), Target(0.75)).additional_n


def test_few_psus_floor_the_design_effect_and_state_its_uncertainty() -> None:
    # 10 PSUs (9 df): the variance happens to be below simple random sampling's
    e = _est(0.75, 0.022, n=400, df=9.0, n_eff=300.0)  # Kish deff 400/300, deff_obs 1.03
    t = test_target(e, Target(0.70))
    assert t.deff_sizing == pytest.approx(400 / 300)  # floored at Kish's weighting effect
    lo, hi = t.additional_n_range
    assert lo <= t.additional_n < hi
    text = summarize_estimate(e, t)
    assert f"between {lo} and {hi}" in text and "9 degrees of freedom" in text
    assert f"từ {lo} đến {hi}" in summarize_estimate(e, t, language="vi")
    # many PSUs: no range
    assert test_target(_est(0.75, 0.025), Target(0.70)).additional_n_range is None


@st.composite
def weighted_frames(draw: st.DrawFn) -> pd.DataFrame:
    n_strata = draw(st.integers(1, 4))
    rows = []
    for h in range(n_strata):
        n = draw(st.integers(8, 40))
        p = draw(st.floats(0.5, 0.95))
        w = draw(st.floats(0.5, 50))
        sat = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        for i in range(n):
            rows.append(
                {
                    "s": f"S{h}",
                    "agency": f"A{i % 2}",
                    "w": w * (1 + (i % 3) / 4),
                    "q_overall": 5 if (sat[i] or (i / n) < p - 0.5) else 2,
                }
            )
    return pd.DataFrame(rows)


@given(
    weighted_frames(),
    st.floats(1e-3, 1e4),
    st.sampled_from(CI_METHODS),
    st.sampled_from(["0.7", "0.8", "0.7:0.8"]),
)
@SETTINGS
def test_verdicts_sizes_and_intervals_do_not_depend_on_the_scale_of_the_weights(
    df: pd.DataFrame, factor: float, method: str, target: str
) -> None:
    from analysis.targets import parse_target

    tgt = parse_target(target)
    scaled = df.assign(w=df.w * factor)
    a = estimate_proportion(
        df, "q_overall", general_design(df, strata="s", weight="w"), "agency", ci_method=method,
        min_n=0,
    )  # fmt: skip
    b = estimate_proportion(
        scaled, "q_overall", general_design(scaled, strata="s", weight="w"), "agency",
        ci_method=method, min_n=0,
    )  # fmt: skip
    for x, y in zip(a, b, strict=True):
        if x.ci_low is None:
            assert y.ci_low is None
            continue
        assert x.ci_low == pytest.approx(y.ci_low, abs=1e-9)
        assert x.ci_high == pytest.approx(y.ci_high, abs=1e-9)
        tx, ty = test_target(x, tgt), test_target(y, tgt)
        assert tx.verdict == ty.verdict
        assert tx.additional_n == ty.additional_n
        if tx.p_value is not None:
            assert tx.p_value == pytest.approx(ty.p_value, abs=1e-9)


@given(
    n=st.integers(30, 300),
    extra=st.integers(0, 400),
    share=st.floats(0.5, 0.99),
    target=st.floats(0.5, 0.99),
    method=st.sampled_from(CI_METHODS),
)
@SETTINGS
def test_responses_needed_never_exceed_the_remaining_population(
    n: int, extra: int, share: float, target: float, method: str
) -> None:
    k = round(share * n)
    d = pd.DataFrame(
        {"service_point": "P", "volume": n + extra, "q_overall": [5] * k + [2] * (n - k)}
    )
    design = counter_design(d)
    (e,) = estimate_proportion(d, "q_overall", design, ci_method=method, min_n=0)
    from analysis.targets import known_population

    population = known_population(design, np.ones(len(d), dtype=bool))
    assert population == pytest.approx(n + extra)
    t = test_target(e, Target(target), population=population)
    if t.additional_n is not None:
        assert 0 <= t.additional_n <= extra
        if t.additional_n_range is not None:
            assert t.additional_n_range[1] <= extra


def test_known_population_only_for_a_real_population_size() -> None:
    from analysis.targets import known_population

    d = _srs(50, 0.8).assign(psu=np.arange(50) // 5, fpc=1000)
    everyone = np.ones(len(d), dtype=bool)
    assert known_population(general_design(d, strata="s", weight="w"), everyone) is None
    assert known_population(
        general_design(d, strata="s", weight="w", fpc="fpc"), everyone
    ) == pytest.approx(1000)
    # clusters: the population of respondents is not known from a count of PSUs
    assert known_population(general_design(d, strata="s", psu="psu", fpc="fpc"), everyone) is None


# --------------------------------------------------------------------------------------------
# every verdict × interval method × measure, in both languages

PROPORTION_MEASURES = {
    "share_satisfied:q_overall": ("satisfied", "hài lòng"),
    "satisfied_answers:q1,q2": ("of answers satisfied", "câu trả lời hài lòng"),
    "element:access": ("of answers satisfied", "câu trả lời hài lòng"),
    "comprehensive_satisfaction": ("satisfied", "hài lòng"),
    "composite": ("composite index", "chỉ số tổng hợp"),
}
#: (estimate, se, target) giving each verdict
SCENARIOS = {
    "met": (0.82, 0.015, Target(0.70)),
    "not_met": (0.60, 0.015, Target(0.70)),
    "undetermined": (0.72, 0.02, Target(0.70)),
    "above_band": (0.85, 0.015, Target(0.70, 0.75)),
    "within_band": (0.725, 0.005, Target(0.70, 0.75)),
    "below_band": (0.60, 0.015, Target(0.70, 0.75)),
}
VI_PHRASES = {
    "met": "cao hơn có ý nghĩa thống kê so với mục tiêu",
    "not_met": "thấp hơn có ý nghĩa thống kê so với mục tiêu",
    "undetermined": "chưa đủ cơ sở thống kê để kết luận so với mục tiêu",
    "above_band": "cao hơn có ý nghĩa thống kê so với khoảng mục tiêu",
    "within_band": "nằm trong khoảng mục tiêu",
    "below_band": "thấp hơn có ý nghĩa thống kê so với khoảng mục tiêu",
}
EN_PHRASES = {
    "met": "significantly above the",
    "not_met": "significantly below the",
    "undetermined": "not yet distinguishable from the",
    "above_band": "significantly above the",
    "within_band": "within the",
    "below_band": "significantly below the",
}


def _interval_numbers(text: str, language: str) -> tuple[float, float, float]:
    """(estimate, lower, upper) as printed, in percent."""
    sep = "," if language == "vi" else "."
    num = rf"(\d+{re.escape(sep)}\d)"
    ci = "KTC 95%: " if language == "vi" else "95% CI "
    m = re.search(num + r"% [^(]*\(" + re.escape(ci) + num + "–" + num + "%", text)
    assert m, text
    return tuple(float(g.replace(",", ".")) for g in m.groups())  # type: ignore[return-value]


@pytest.mark.parametrize("measure", list(PROPORTION_MEASURES))
@pytest.mark.parametrize("method", CI_METHODS)
@pytest.mark.parametrize("verdict", list(SCENARIOS))
def test_every_verdict_reads_right_in_both_languages(verdict: str, method: str, measure: str):
    p, se, target = SCENARIOS[verdict]
    e = _est(p, se, method=method, measure=measure)
    t = test_target(e, target)
    assert t.verdict == verdict
    for language in ("en", "vi"):
        text = summarize_estimate(e, t, language=language)
        assert "nan" not in text.lower() and "None" not in text
        est, lo, hi = _interval_numbers(text, language)
        assert lo <= est <= hi and est == pytest.approx(100 * p, abs=0.05)
        word = PROPORTION_MEASURES[measure][language == "vi"]
        assert word in text
        if language == "vi":
            assert VI_PHRASES[verdict] in text
            assert not re.search(r"\d\.\d", text)  # decimal comma
            assert "p một phía" in text and "one-sided" not in text
        else:
            assert EN_PHRASES[verdict] in text
            assert "one-sided p" in text
        if verdict in ("met", "above_band"):
            assert lo > 100 * (target.high or target.low)
        if verdict in ("not_met", "below_band"):
            assert hi < 100 * target.low
        if verdict == "undetermined":
            more = "cần thêm khoảng" if language == "vi" else "more responses would be needed"
            assert more in text and str(t.additional_n) in text
        else:
            assert "more responses" not in text and "cần thêm" not in text


@pytest.mark.parametrize("status", ["insufficient_data", "variance_not_estimable"])
@pytest.mark.parametrize("measure", [*PROPORTION_MEASURES, "mean:q_overall", "mean_index:q"])
def test_no_verdict_without_an_interval(status: str, measure: str) -> None:
    value = None if status == "insufficient_data" else (3.8 if measure.startswith("mean:") else 0.7)
    if measure.startswith("mean_index"):
        value = None if value is None else 70.0
    e = Estimate(
        {"agency": "UBND xã"}, measure, 12, 10.0, value, None, None, None, 0.0, None, status
    )
    if measure.startswith("mean"):
        with pytest.raises(AnalysisError):
            test_target(e, Target(0.7))
        t = None
    else:
        t = test_target(e, Target(0.7))
        assert t.verdict == status and t.p_value is None and t.additional_n is None
    en = summarize_estimate(e, t)
    vi = summarize_estimate(e, t, language="vi")
    if status == "insufficient_data":
        assert "too few responses to report" in en and "chưa đủ số phiếu để báo cáo" in vi
    else:
        assert "cannot be estimated" in en and "không ước lượng được sai số" in vi
        assert ("%" in en) == (not measure.startswith("mean"))


@pytest.mark.parametrize("language", ["en", "vi"])
@pytest.mark.parametrize("index", [False, True])
def test_means_and_the_index_read_in_their_units(index: bool, language: str) -> None:
    d = _two_years()
    (e,) = estimate_mean(d, "q_overall", counter_design(d), index=index)
    text = summarize_estimate(e, language=language)
    sep = "," if language == "vi" else "."
    decimals = 1 if index else 2
    value = f"{e.estimate:.{decimals}f}".replace(".", sep)
    lo = f"{e.ci_low:.{decimals}f}".replace(".", sep)
    hi = f"{e.ci_high:.{decimals}f}".replace(".", sep)
    expected = {
        ("en", False): f"mean {value} (95% CI {lo}–{hi}, n = {e.n})",
        ("en", True): f"index {value} out of 100 (95% CI {lo}–{hi}, n = {e.n})",
        ("vi", False): f"giá trị trung bình {value} (KTC 95%: {lo}–{hi}, n = {e.n})",
        ("vi", True): f"chỉ số {value}/100 (KTC 95%: {lo}–{hi}, n = {e.n})",
    }[language, index]
    assert expected in text


@pytest.mark.parametrize("adjusted", ["none", "holm", "bh"])
@pytest.mark.parametrize("measure", ["prop", "ratio", "mean"])
@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("significant", [True, False])
def test_every_difference_and_change_reads_with_its_sign_and_unit(
    significant: bool, sign: int, measure: str, adjusted: str
) -> None:
    scale = 1.0 if measure == "mean" else 0.1
    diff = sign * 1.54 * scale
    lo, hi = (diff - 1.28 * scale, diff + 1.28 * scale)
    if significant:
        lo, hi = (diff - 1.2 * scale, diff + 1.2 * scale)
    p = 0.01 if significant else 0.4
    pair = PairwiseDifference(
        {"period": "Q3 2025"}, {"period": "Q2 2025"}, 0.6 + diff, 0.6, diff, 0.06, lo, hi,
        200.0, p, p, p, measure=measure,
    )  # fmt: skip
    for language in ("en", "vi"):
        unit = {"en": " percentage points", "vi": " điểm phần trăm"}[language]
        text = summarize_difference(pair, adjusted=adjusted, language=language)
        change = summarize_change(pair, language=language) if adjusted == "none" else ""
        for sentence in (text, change):
            assert (unit in sentence) == (measure != "mean") or not sentence
        if significant:
            higher = "is higher than" if language == "en" else "cao hơn"
            first = "Q3 2025" if sign > 0 else "Q2 2025"
            assert text.startswith(f"{first} {higher}")
            if adjusted == "none":  # the interval printed is of (higher − lower): positive
                assert "−" not in text
            word = {("en", 1): "up ", ("en", -1): "down ", ("vi", 1): "tăng ", ("vi", -1): "giảm "}
            if change:
                assert change.startswith(word[language, sign])
                printed = [v for v in _numbers(change) if v not in (95.0,)]
                assert all(np.sign(v) == sign for v in printed[-3:-1])  # the change's interval
        else:
            assert "higher" not in text and "cao hơn" not in text
            if change:
                assert change.startswith(
                    "no significant change" if language == "en" else "chưa thay đổi"
                )
        if adjusted != "none":
            label = {"holm": "Holm", "bh": "Benjamini–Hochberg"}[adjusted]
            assert label in text and "CI" not in text and "KTC" not in text


# --------------------------------------------------------------------------------------------
# prorated volumes


def test_prorated_volume_is_volume_times_days_inside_over_days_of_the_quarter() -> None:
    from analysis.weights import prorate_volumes

    volumes = pd.Series([900.0, 910.0, 920.0])
    quarters = pd.Series(["2025Q1", "2025Q2", "2025Q3"])
    out = prorate_volumes(volumes, quarters, dt.date(2025, 3, 1), dt.date(2025, 8, 31))
    assert out.tolist() == pytest.approx([900 * 31 / 90, 910.0, 920 * 62 / 92])
    # a range inside one quarter, and one day
    one = prorate_volumes(
        pd.Series([910.0]), pd.Series(["2025Q2"]), dt.date(2025, 5, 7), dt.date(2025, 5, 7)
    )
    assert one.tolist() == pytest.approx([910 / 91])
    # quarters outside the range get no volume; leap years count 29 February
    leap = prorate_volumes(
        pd.Series([910.0, 100.0]),
        pd.Series(["2024Q1", "2023Q4"]),
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
    )
    assert leap.tolist() == pytest.approx([910 * 29 / 91, 0.0])
    assert math.isnan(
        prorate_volumes(
            pd.Series([np.nan]), pd.Series(["2025Q1"]), dt.date(2025, 1, 1), dt.date(2025, 1, 31)
        )[0]
    )
    with pytest.raises(AnalysisError, match="quarter"):
        prorate_volumes(
            pd.Series([1.0]), pd.Series(["2025-03"]), dt.date(2025, 1, 1), dt.date(2025, 1, 31)
        )
