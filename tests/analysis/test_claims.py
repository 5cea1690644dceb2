"""The claims officials read: signs and order of differences, labels of adjusted p-values, the
group test's confidence level, units by kind of estimate.

Every test here was written before its fix and failed on the code it guards.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from analysis import (
    AnalysisError,
    Estimate,
    compare_groups,
    compare_periods,
    counter_design,
    estimate_mean,
    estimate_proportion,
    summarize_difference,
    summarize_estimate,
    summarize_test,
)
from analysis.results import ComparisonTest, PairwiseDifference

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
    from analysis.summaries import summarize_change

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
