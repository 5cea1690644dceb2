"""Property tests (hypothesis) of the estimators, intervals and adjustments."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import (
    bh_adjust,
    counter_design,
    estimate_proportion,
    estimate_ratio,
    general_design,
    holm_adjust,
)

# Derandomised: CI explores the same examples every run (a red CI must mean a change broke
# something, not that a new random draw found an old edge); widen by hand with a seed to explore.
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)


@st.composite
def survey_frames(draw: st.DrawFn) -> pd.DataFrame:
    n_strata = draw(st.integers(2, 5))
    rows = []
    for h in range(n_strata):
        n = draw(st.integers(2, 12))
        volume = n + draw(st.integers(0, 200))
        p = draw(st.floats(0.05, 0.95))
        for _ in range(n):
            rows.append(
                {
                    "service_point": f"P{h}",
                    "agency": f"A{h % 2}",
                    "volume": volume,
                    "q_overall": draw(st.integers(1, 5)) if draw(st.floats(0, 1)) > p else 5,
                    "q1": draw(st.one_of(st.none(), st.integers(1, 5))),
                    "q2": draw(st.integers(1, 5)),
                }
            )
    df = pd.DataFrame(rows)
    df["weight"] = df.volume / df.groupby("service_point").q_overall.transform("size")
    return df


@given(survey_frames(), st.sampled_from(["logit", "beta"]))
@SETTINGS
def test_intervals_contain_estimate_and_stay_in_unit_interval(
    df: pd.DataFrame, method: str
) -> None:
    for e in estimate_proportion(
        df, "q_overall", counter_design(df), "agency", ci_method=method, min_n=0
    ):
        if e.status != "ok":
            continue
        assert e.ci_low is not None and e.ci_high is not None and e.estimate is not None
        assert 0.0 <= e.ci_low <= e.estimate + 1e-12
        assert e.estimate - 1e-12 <= e.ci_high <= 1.0
        # one deff definition (R deff=TRUE): withheld where the weights add up to n (censuses)
        assert e.deff is None or np.isfinite(e.deff)


@given(survey_frames(), st.randoms(use_true_random=False))
@SETTINGS
def test_invariant_to_row_order(df: pd.DataFrame, rnd) -> None:
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = df.iloc[order].reset_index(drop=True)
    a = estimate_ratio(df, ["q1", "q2"], counter_design(df), "agency", min_n=0)
    b = estimate_ratio(shuffled, ["q1", "q2"], counter_design(shuffled), "agency", min_n=0)
    for x, y in zip(a, b, strict=True):
        assert x.group == y.group
        assert x.estimate == y.estimate or abs(x.estimate - y.estimate) < 1e-12
        if x.se is not None:
            assert abs(x.se - y.se) < 1e-12


@given(survey_frames(), st.floats(0.01, 1000))
@SETTINGS
def test_invariant_to_scaling_all_weights(df: pd.DataFrame, factor: float) -> None:
    scaled = df.assign(weight=df.weight * factor)
    a = estimate_proportion(
        df,
        "q_overall",
        general_design(df, strata="service_point", weight="weight"),
        "agency",
        min_n=0,
    )
    b = estimate_proportion(
        scaled,
        "q_overall",
        general_design(scaled, strata="service_point", weight="weight"),
        "agency",
        min_n=0,
    )
    for x, y in zip(a, b, strict=True):
        assert abs(x.estimate - y.estimate) < 1e-9
        if x.se is not None:
            assert abs(x.se - y.se) < 1e-9 * max(1.0, x.se)


@given(survey_frames())
@SETTINGS
def test_groups_add_up_to_the_whole(df: pd.DataFrame) -> None:
    design = counter_design(df)
    ests = estimate_proportion(df, "q_overall", design, "agency", min_n=0)
    w = design.weights
    total = next(e for e in ests if e.group == {})
    weighted = sum(
        w[(df.agency == e.group["agency"]).to_numpy()].sum() * e.estimate for e in ests if e.group
    )
    assert abs(weighted - w.sum() * total.estimate) < 1e-9 * w.sum()


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_and_bh_adjustments_are_ordered(p: list[float]) -> None:
    holm = holm_adjust(p)
    bh = bh_adjust(p)
    for raw, h, b in zip(p, holm, bh, strict=True):
        assert raw - 1e-15 <= b <= h + 1e-15 <= 1.0 + 1e-15


@given(survey_frames(), st.floats(0.01, 1000), st.sampled_from(["logit", "beta", "wilson"]))
@SETTINGS
def test_intervals_are_invariant_to_rescaling_the_weights(
    df: pd.DataFrame, factor: float, method: str
) -> None:
    """Sampling weights c·w give the same intervals (proportions, means, quantiles), for Taylor
    and jackknife-replicate variances; totals scale by c."""
    from analysis import estimate_mean, estimate_quantile, estimate_total
    from analysis.replicates import as_replicate_design

    scaled = df.assign(weight=df.weight * factor)

    def runs(d: pd.DataFrame) -> list:
        design = general_design(d, strata="service_point", weight="weight", lonely_psu="adjust")
        out = []
        for des in (design, as_replicate_design(design, "JKn")):
            out += estimate_proportion(d, "q_overall", des, "agency", ci_method=method, min_n=0)
            out += estimate_mean(d, "q2", des, "agency", min_n=0)
            out += estimate_quantile(d, "q2", des, "agency", min_n=0)
        return out

    for x, y in zip(runs(df), runs(scaled), strict=True):
        for a, b in ((x.ci_low, y.ci_low), (x.ci_high, y.ci_high), (x.estimate, y.estimate)):
            if a is None or b is None or np.isnan(a) or np.isnan(b):
                assert (a is None or np.isnan(a)) and (b is None or np.isnan(b))
            else:
                assert abs(a - b) < 1e-9 * max(1.0, abs(a))
    design = general_design(df, strata="service_point", weight="weight", lonely_psu="adjust")
    design_c = general_design(scaled, strata="service_point", weight="weight", lonely_psu="adjust")
    for x, y in zip(
        estimate_total(df, "q2", design, min_n=0),
        estimate_total(scaled, "q2", design_c, min_n=0),
        strict=True,
    ):
        assert abs(y.estimate - factor * x.estimate) < 1e-9 * abs(factor * x.estimate)
        assert abs(y.ci_low - factor * x.ci_low) < 1e-9 * max(1.0, abs(factor * x.ci_low))


def test_quantile_intervals_do_not_depend_on_the_scale_of_the_weights_at_a_step():
    """The counterexample hypothesis found: two strata, each with one value, so the jackknife
    interval for the median lands exactly on a step of the weighted distribution (se = 0);
    with weights × 0.01 rounding put its upper end at 2 instead of 1."""
    from analysis import estimate_quantile
    from analysis.replicates import as_replicate_design

    df = pd.DataFrame(
        {
            "service_point": ["P0", "P0", "P1", "P1"],
            "agency": ["A0", "A0", "A1", "A1"],
            "q2": [1, 1, 2, 2],
            "weight": [2.0, 2.0, 1.0, 1.0],
        }
    )
    results = []
    for factor in (1.0, 0.01, 0.3, 1000.0):
        scaled = df.assign(weight=df.weight * factor)
        taylor = general_design(
            scaled, strata="service_point", weight="weight", lonely_psu="adjust"
        )
        results.append(
            [
                (e.estimate, e.ci_low, e.ci_high)
                for design in (taylor, as_replicate_design(taylor, "JKn"))
                for e in estimate_quantile(scaled, "q2", design, "agency", min_n=0)
            ]
        )
    assert all(r == results[0] for r in results[1:]), results
