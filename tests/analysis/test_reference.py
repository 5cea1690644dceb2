"""Every number of tests/analysis/reference/ (R survey 4.1-1) reproduced to 1e-6 by the engine.

R calls (reference/reference.R), design A:
svydesign(ids=~1, strata=~service_point, fpc=~volume, data=d);
design B: svydesign(ids=~service_point, strata=~stratum, weights=~weight, data=d, nest=TRUE);
sub <- des[d[[by]] == g, ].
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import (
    compare_groups,
    counter_design,
    estimate_mean,
    estimate_proportion,
    estimate_ratio,
    general_design,
    rake,
)
from tests.analysis.conftest import reference_dir

TOL = 1e-6
ITEMS = [f"q{k}" for k in range(1, 7)]
REF = reference_dir()


def _designs(d: pd.DataFrame) -> dict:
    return {
        "A": counter_design(d, service_point="service_point", volume="volume"),
        "B": general_design(d, strata="stratum", psu="service_point", weight="weight"),
    }


def engine_estimates(d: pd.DataFrame) -> dict[tuple[str, str, str, str], object]:
    """(design, by, group, measure) → Estimate, as reference.R names them."""
    out = {}
    for dn, des in _designs(d).items():
        for by in ("agency", "sector", "all"):
            col = None if by == "all" else by
            total = by == "all"
            runs = {
                # svyciprop(~sat, sub, method="logit")
                "prop_logit": estimate_proportion(
                    d, "q_overall", des, col, ci_method="logit", min_n=0, include_total=total
                ),
                # svyciprop(~sat, sub, method="beta")
                "prop_beta": estimate_proportion(
                    d, "q_overall", des, col, ci_method="beta", min_n=0, include_total=total
                ),
                # svymean(~sat, sub, deff=TRUE)
                "prop_deff": estimate_proportion(
                    d, "q_overall", des, col, min_n=0, include_total=total
                ),
                # svyratio(~sat_answers, ~answers, sub); CI est ± qt(0.975, degf(sub))·se
                "ratio_satisfied_answers": estimate_ratio(
                    d, ITEMS, des, col, ci_method="wald", min_n=0, include_total=total
                ),
                # svymean(~q_overall, sub); CI est ± qt(0.975, degf(sub))·se
                "mean_overall": estimate_mean(
                    d, "q_overall", des, col, min_n=0, include_total=total
                ),
            }
            for measure, ests in runs.items():
                for e in ests:
                    out[(dn, by, str(e.group.get(by, "all")), measure)] = e
    return out


@pytest.fixture(scope="module")
def engine() -> dict:
    return engine_estimates(pd.read_csv(REF / "responses.csv"))


def _rows(name: str) -> list[dict]:
    path = REF / name
    if not path.exists():
        return []
    return pd.read_csv(path).to_dict("records")


def check_estimate_row(row: dict, e) -> None:
    assert e.estimate == pytest.approx(row["estimate"], abs=TOL)
    assert e.df == pytest.approx(row["df"], abs=TOL)
    if row["se"] == 0:  # R's degenerate group (all or none satisfied)
        assert e.se == 0
        assert e.note, "the degenerate design effect must be explained"
        assert e.deff is not None and math.isfinite(e.deff)
        if row["measure"].startswith("prop"):
            assert e.ci_low is not None and e.ci_high is not None
            assert 0 <= e.ci_low <= e.estimate <= e.ci_high <= 1
            assert e.ci_high - e.ci_low > 0
        return
    assert e.se == pytest.approx(row["se"], abs=TOL)
    for col in ("ci_low", "ci_high", "deff"):
        if not pd.isna(row[col]):
            assert getattr(e, col) == pytest.approx(row[col], abs=TOL), col


@pytest.mark.parametrize(
    "row",
    _rows("estimates.csv"),
    ids=lambda r: f"{r['design']}-{r['by']}-{r['group']}-{r['measure']}",
)
def test_estimates_match_r(row: dict, engine: dict) -> None:
    e = engine[(row["design"], row["by"], str(row["group"]), row["measure"])]
    assert e.status == "ok"
    check_estimate_row(row, e)


def test_degenerate_groups_get_a_proper_interval(engine: dict) -> None:
    ref = pd.read_csv(REF / "estimates.csv")
    degenerate = ref[(ref.measure == "prop_beta") & ref.ci_low.isna()]
    for _, row in degenerate.iterrows():
        for m in ("prop_logit", "prop_beta"):
            e = engine[(row.design, row.by, str(row.group), m)]
            assert e.ci_low is not None and e.ci_low <= e.estimate <= e.ci_high
            assert e.ci_high - e.ci_low > 0.0
            assert "Kish" in e.note


def test_design_b_single_psu_agencies_are_not_estimable() -> None:
    d = pd.read_csv(REF / "responses.csv")
    des = _designs(d)["B"]
    points = d.groupby("agency").service_point.nunique()
    single = set(points[points == 1].index)
    assert single, "the reference data has agencies with a single service point"
    for e in estimate_proportion(d, "q_overall", des, "agency", min_n=0, include_total=False):
        if e.group["agency"] in single:
            assert e.status == "variance_not_estimable"
            assert e.se is None and e.ci_low is None
        elif e.estimate in (0.0, 1.0):  # everyone (or no one) satisfied: R's se is 0 too
            assert e.status == "ok" and e.se == 0 and "Kish" in e.note
        else:
            assert e.status == "ok" and e.se > 0


@pytest.mark.parametrize(
    "row", _rows("agency_tests.csv"), ids=lambda r: f"{r['design']}-{r['sector']}"
)
def test_rao_scott_matches_r(row: dict) -> None:
    # svychisq(~sat + agency, des[d$sector == s, ], statistic = "F")
    d = pd.read_csv(REF / "responses.csv")
    des = _designs(d)[row["design"]]
    tests = compare_groups(d, des, "agency", "sector", min_n=0, pairs=False)
    t = next(t for t in tests if t.within["sector"] == row["sector"])
    assert t.statistic == pytest.approx(row["value"], abs=TOL)
    assert t.ndf == pytest.approx(row["ndf"], abs=TOL)
    assert t.ddf == pytest.approx(row["ddf"], abs=TOL)
    assert t.p_value == pytest.approx(row["p_value"], abs=TOL, rel=1e-6)


def raked_estimates(d: pd.DataFrame, ref_dir: Path) -> dict[str, object]:
    # rake(A, list(~sex, ~age_group), list(pop_sex, pop_age),
    #      control=list(epsilon=1e-10, maxit=100))
    margins = {
        "sex": pd.read_csv(ref_dir / "margins_sex.csv"),
        "age_group": pd.read_csv(ref_dir / "margins_age_group.csv"),
    }
    raked = rake(counter_design(d), d, margins, tolerance=1e-10, max_iterations=100)
    out = {}
    # svymean(~sat, raked[d$sector == g, ]) and svymean(~sat, raked)
    for e in estimate_proportion(d, "q_overall", raked, "sector", min_n=0):
        out[str(e.group.get("sector", "all"))] = e
    return out


@pytest.mark.parametrize("row", _rows("raked.csv"), ids=lambda r: str(r["group"]))
def test_raked_matches_r(row: dict) -> None:
    d = pd.read_csv(REF / "responses.csv")
    e = raked_estimates(d, REF)[str(row["group"])]
    assert e.estimate == pytest.approx(row["estimate"], abs=TOL)
    assert e.se == pytest.approx(row["se"], abs=TOL)


def test_reference_files_are_all_covered() -> None:
    assert len(_rows("estimates.csv")) == 175  # A: (27 agencies + 3 sectors + all) × 5, B: 4 × 5
    assert len(_rows("agency_tests.csv")) == 6
    assert len(_rows("raked.csv")) == 4
    assert np.isfinite(pd.read_csv(REF / "estimates.csv").estimate).all()
