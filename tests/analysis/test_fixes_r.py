"""Fixes checked against R survey 4.1-1: Korn–Graubard, Rao–Scott and deff on raked domains with
blank answers (tests/analysis/r/raked_domains.R), one design-effect definition, and variances
that are 0 up to rounding.

R: A <- svydesign(ids=~1, strata=~service_point, fpc=~volume, data=d);
raked <- rake(A, list(~sex, ~age_group), margins, control=list(epsilon=1e-10, maxit=100));
sub <- raked[!is.na(q1) & sector == g, ].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import (
    compare_groups,
    counter_design,
    estimate_proportion,
    general_design,
    rake,
)
from tests.analysis.test_differential_r import SOURCES, _run_script

TOL = 1e-6


def _raked(d: pd.DataFrame, ref) -> object:
    margins = {
        "sex": pd.read_csv(ref / "margins_sex.csv"),
        "age_group": pd.read_csv(ref / "margins_age_group.csv"),
    }
    return rake(counter_design(d), d, margins, tolerance=1e-10, max_iterations=100)


@pytest.mark.needs_r
@pytest.mark.parametrize("source", SOURCES)
def test_raked_domains_with_blank_answers_match_r(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """svyciprop(~sat1, sub, method="beta", na.rm=TRUE) uses nrow(sub) = the whole sample (a
    calibrated subset keeps its rows); svychisq(~sat1 + agency_g, sub, statistic="F") uses
    N = nrow and ν = PSUs − strata of the whole design; svymean(~sat1, sub, deff=TRUE)."""
    d, expected, ref = _run_script("raked_domains.R", source, tmp_path_factory)
    raked = _raked(d, ref)
    props = {
        str(e.group.get("sector", "all")): e
        for e in estimate_proportion(d, "q1", raked, "sector", ci_method="beta", min_n=0)
    }
    tests = {
        str(t.within.get("sector", "all")): t
        for t in compare_groups(d, raked, "agency", "sector", items=["q1"], min_n=0, pairs=False)
        + compare_groups(d, raked, "agency", None, items=["q1"], min_n=0, pairs=False)
    }
    assert len(expected) == 8
    for row in expected:
        if row["kind"] == "beta":
            e = props[row["group"]]
            assert e.estimate == pytest.approx(row["estimate"], abs=TOL)
            assert e.se == pytest.approx(row["se"], abs=TOL)
            assert e.ci_low == pytest.approx(row["ci_low"], abs=TOL)
            assert e.ci_high == pytest.approx(row["ci_high"], abs=TOL)
            assert e.deff == pytest.approx(row["deff"], abs=TOL)
            assert e.df == row["df"]
        else:
            t = tests[row["group"]]
            assert t.statistic == pytest.approx(row["estimate"], rel=1e-9)
            assert t.ndf == pytest.approx(row["ndf"], rel=1e-9)
            assert t.ddf == pytest.approx(row["ddf"], rel=1e-9)
            assert t.p_value == pytest.approx(row["p_value"], rel=1e-6, abs=1e-300)


def test_deff_has_one_definition_and_is_withheld_without_a_population_scale() -> None:
    """R: svymean(~sat, svydesign(ids=~1, strata=~s, weights=~w), deff=TRUE) is NA when the
    weights add up to less than n (and Inf at n); the engine used R's deff="replace" there."""
    rng = np.random.default_rng(5)
    d = pd.DataFrame(
        {
            "s": np.repeat(["a", "b", "c"], 20),
            "w": rng.uniform(0.2, 0.8, 60),
            "q": rng.integers(1, 6, 60),
        }
    )
    normalised = estimate_proportion(d, "q", general_design(d, strata="s", weight="w"), min_n=0)
    assert normalised[0].deff is None and normalised[0].se > 0
    scaled = d.assign(w=d.w * 100)
    e = estimate_proportion(scaled, "q", general_design(scaled, strata="s", weight="w"), min_n=0)[0]
    # deff = V / ((1 − n/W) · s²/n), s² = W Σ w e² n/(n − 1) (R deff=TRUE, W > n)
    assert e.deff is not None and e.deff > 0


def test_census_strata_and_identical_answers_give_exactly_zero_variance() -> None:
    """Regression (property test example): P0 (volume 6, five rows) all 5; P1–P4 censuses
    (volume 2, two rows each); the last row (P4) answers 1. A0 = P0, P2, P4; A1 = P1, P3. The
    one-pass Σt² − (Σt)²/n left ~2e-20 and a NaN Korn–Graubard interval marked "ok"."""
    rows = []
    for p, n, vol in [("P0", 5, 6), ("P1", 2, 2), ("P2", 2, 2), ("P3", 2, 2), ("P4", 2, 2)]:
        agency = "A0" if p in ("P0", "P2", "P4") else "A1"
        rows += [{"service_point": p, "volume": vol, "agency": agency, "q_overall": 5}] * n
    d = pd.DataFrame(rows)
    d.loc[len(d) - 1, "q_overall"] = 1
    for method in ("logit", "beta", "wilson", "wald"):
        for e in estimate_proportion(
            d, "q_overall", counter_design(d), "agency", ci_method=method, min_n=0
        ):
            assert e.status == "ok"
            assert e.se == 0.0
            assert e.ci_low is not None and e.ci_high is not None
            assert 0.0 <= e.ci_low <= e.estimate <= e.ci_high <= 1.0
