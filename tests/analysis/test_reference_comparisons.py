"""Each unit against the aggregate that contains it (analysis/reference.py), from aggregates.

The difference R̂_u − R̂_r and its variance (covariance of the unit and its aggregate included)
must equal the row-level computation — the influence values of both ratios on the rows, summed by
the design's own variance code (analysis.design.variance_by_group) — to 1e-12, and R's
``svycontrast`` of ``svytotal``\\ s to 1e-6 (tests/analysis/r/reference_contrasts.R).
"""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError, counter_design, general_design
from analysis.aggregates import cells_from_rows, estimate_share_from_counts
from analysis.compare import bh_adjust, holm_adjust
from analysis.design import SurveyDesign, df_by_group, variance_by_group
from analysis.estimators import make_grouping
from analysis.reference import (
    ReferenceComparison,
    compare_cells_to_reference,
    compare_to_reference,
)
from tests.analysis.design_data import two_stage
from tests.analysis.test_aggregates import RULES, counter_rows, counts_of
from tests.analysis.test_differential_r import _rscript

R_SCRIPTS = Path(__file__).with_name("r")


def row_level(
    d: pd.DataFrame,
    design: SurveyDesign,
    a: np.ndarray,
    b: np.ndarray,
    valid: np.ndarray,
    by: str,
    within: str | None,
) -> dict[Any, tuple[float, float, float]]:
    """Per unit: (R̂_u − R̂_r, Var, df of r) from the rows. The influence value of the
    difference is z_i = w_i(a_i − R̂_u b_i)/B_u·1[i ∈ u] − w_i(a_i − R̂_r b_i)/B_r·1[i ∈ r], one
    column per unit, and its variance is the design's variance of the total of z over r."""
    units, refs = make_grouping(d, by), make_grouping(d, within)
    ok = valid & (refs.codes >= 0)
    w = design.weights
    g = np.where(ok, refs.codes, -1)
    z = np.zeros((len(d), units.size))
    diff: dict[int, tuple[float, int]] = {}
    for k in range(units.size):
        in_u = ok & (units.codes == k)
        if not in_u.any():
            continue
        r = int(refs.codes[in_u][0])
        in_r = ok & (refs.codes == r)
        big_b_u, big_b_r = (w * b)[in_u].sum(), (w * b)[in_r].sum()
        r_u, r_r = (w * a)[in_u].sum() / big_b_u, (w * a)[in_r].sum() / big_b_r
        z[:, k] = np.where(in_u, w * (a - r_u * b) / big_b_u, 0.0) - np.where(
            in_r, w * (a - r_r * b) / big_b_r, 0.0
        )
        diff[k] = (r_u - r_r, r)
    var = variance_by_group(design, z, g, refs.size)
    df = df_by_group(design, g, refs.size)
    return {
        units.labels[k][by]: (delta, float(var[r, k]), float(df[r]))
        for k, (delta, r) in diff.items()
    }


def assert_rows(
    ours: list[ReferenceComparison], rows: dict[Any, tuple[float, float, float]], by: str
) -> None:
    assert len(ours) == len(rows)
    for c in ours:
        delta, var, df = rows[c.group[by]]
        assert c.difference is not None and c.se is not None
        assert math.isclose(c.difference, delta, rel_tol=1e-12, abs_tol=1e-15), (c, delta)
        assert math.isclose(c.se**2, var, rel_tol=1e-12, abs_tol=1e-30), (c, var)
        assert c.df == df


def _share(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q = d["q"].to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnan(q)
    return np.where(valid, (q >= 4) * 1.0, 0.0), valid * 1.0, valid


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("within", [None, "sector"])
def test_counter_counts_equal_the_row_level_difference(
    seed: int, rule: str, within: str | None
) -> None:
    """The counter design of test_aggregates (a lonely stratum, a census one, one without a
    valid answer): every stratum inside one agency."""
    d = counter_rows(seed)
    design = counter_design(d, strata="stratum", volume="volume", lonely_psu=rule)
    counts, strata = counts_of(d, ["sector", "grp"])
    ours = compare_to_reference(counts, strata, "grp", within, item="q", min_n=0, lonely_psu=rule)
    assert_rows(ours, row_level(d, design, *_share(d), "grp", within), "grp")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("clustered", [True, False])
def test_weighted_cells_equal_the_rows_when_units_share_strata_and_psus(
    seed: int, rule: str, clustered: bool
) -> None:
    """A stratified design with unequal weights where the units are drawn row by row: every
    stratum, and (clustered) every PSU, holds rows of several units."""
    d = two_stage(seed).assign(everyone="all")
    design = general_design(
        d, strata="stratum", psu="psu" if clustered else None, weight="w", lonely_psu=rule
    )
    a, b, valid = _share(d)
    tables = cells_from_rows(d, design, a, b, ["grp", "everyone"], valid=valid)
    ours = compare_cells_to_reference(
        tables, "grp", "everyone", measure="share_satisfied:q", min_n=0, lonely_psu=rule
    )
    assert_rows(ours, row_level(d, design, a, b, valid, "grp", "everyone"), "grp")


@pytest.mark.parametrize("clustered", [True, False])
def test_a_mean_from_weighted_cells_with_nested_sectors(clustered: bool) -> None:
    d = two_stage(5)
    d["sector"] = np.where(d["grp"] == "g3", "x", "y")
    design = general_design(d, strata="stratum", psu="psu" if clustered else None, weight="w")
    q = d["q"].to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnan(q)
    a, b = np.where(valid, q, 0.0), valid * 1.0
    tables = cells_from_rows(d, design, a, b, ["sector", "grp"], valid=valid)
    ours = compare_cells_to_reference(
        tables, "grp", "sector", measure="mean:q", min_n=0, adjust="none"
    )
    rows = row_level(d, design, a, b, valid, "grp", "sector")
    # g3 is the whole of sector x: the difference is 0 with no variance, and said so
    whole = next(c for c in ours if c.group == {"grp": "g3"})
    assert whole.difference == 0.0 and whole.se == 0.0 and whole.p_value is None
    assert whole.verdict == "not_distinguishable" and "whole reference" in whole.note
    assert rows["g3"][1] == pytest.approx(0.0, abs=1e-30)
    assert_rows([c for c in ours if c is not whole], {k: rows[k] for k in ("g1", "g2")}, "grp")


def test_estimates_are_those_of_the_estimators_from_counts() -> None:
    d = counter_rows(4)
    counts, strata = counts_of(d, ["sector", "grp"])
    by_unit = {
        e.group["grp"]: e
        for e in estimate_share_from_counts(counts, strata, "grp", item="q", min_n=0)
        if e.group
    }
    by_sector = {
        e.group["sector"]: e
        for e in estimate_share_from_counts(counts, strata, "sector", item="q", min_n=0)
        if e.group
    }
    for c in compare_to_reference(counts, strata, "grp", "sector", item="q", min_n=0):
        assert c.estimate == by_unit[c.group["grp"]].estimate
        assert c.reference_estimate == by_sector[c.reference["sector"]].estimate
        assert c.n == by_unit[c.group["grp"]].n
        assert c.reference_n == by_sector[c.reference["sector"]].n
        assert c.df == by_sector[c.reference["sector"]].df


def test_index_is_25_times_the_mean_difference() -> None:
    d = counter_rows(2)
    counts, strata = counts_of(d, ["sector", "grp"])
    means = compare_to_reference(counts, strata, "grp", "sector", item="q", kind="mean", min_n=0)
    index = compare_to_reference(counts, strata, "grp", "sector", item="q", kind="index", min_n=0)
    for m, x in zip(means, index, strict=True):
        assert x.measure == "mean_index:q" and m.measure == "mean:q"
        assert x.difference == pytest.approx(25 * m.difference, rel=1e-14)
        assert x.se == pytest.approx(25 * m.se, rel=1e-14)
        assert x.estimate == pytest.approx(25 * m.estimate - 25, rel=1e-14)
        assert x.p_value == pytest.approx(m.p_value, rel=1e-12)


def test_adjusted_p_values_verdicts_and_small_units() -> None:
    d = counter_rows(1)
    counts, strata = counts_of(d, ["sector", "grp"])
    small = counts["grp"] == "A6"
    counts.loc[small, "answered"] = np.minimum(counts.loc[small, "answered"], 1)
    counts.loc[small, "satisfied"] = np.minimum(counts.loc[small, "satisfied"], 1)
    for adjust in ("holm", "bh", "none"):
        out = compare_to_reference(counts, strata, "grp", "sector", item="q", adjust=adjust)
        assert [c.reference["sector"] for c in out] == sorted(c.reference["sector"] for c in out)
        six = next(c for c in out if c.group == {"grp": "A6"})
        assert six.status == six.verdict == "insufficient_data" and six.p_holm is None
        assert six.se is None and six.difference is None and six.n < 30
        for sector in ("health", "education"):
            family = [c for c in out if c.reference["sector"] == sector and c.status == "ok"]
            raw = [c.p_value for c in family]
            assert [c.p_holm for c in family] == holm_adjust(raw)
            assert [c.p_bh for c in family] == bh_adjust(raw)
            for c in family:
                assert c.adjust == adjust
                chosen = {"holm": c.p_holm, "bh": c.p_bh, "none": c.p_value}[adjust]
                assert c.difference is not None and chosen is not None
                expected = (
                    "not_distinguishable"
                    if chosen >= 0.05
                    else ("above" if c.difference > 0 else "below")
                )
                assert c.verdict == expected
                assert (c.ci_low > 0 or c.ci_high < 0) == (c.p_value < 0.05)
                assert c.to_dict()["group"] == c.group


def test_bad_input_gets_a_clear_message() -> None:
    d = counter_rows(3)
    counts, strata = counts_of(d, ["sector", "grp"])
    moved = counts.copy()
    moved.loc[moved.index[0], "sector"] = (
        "health" if moved.loc[moved.index[0], "sector"] != "health" else "education"
    )
    with pytest.raises(AnalysisError, match="lies in two references"):
        compare_to_reference(moved, strata, "grp", "sector", item="q")
    with pytest.raises(AnalysisError, match="unknown adjustment"):
        compare_to_reference(counts, strata, "grp", item="q", adjust="bonferroni")
    with pytest.raises(AnalysisError, match="unknown kind"):
        compare_to_reference(counts, strata, "grp", item="q", kind="median")
    with pytest.raises(AnalysisError, match="lacks the column"):
        compare_to_reference(counts, strata, "agency", item="q")
    with pytest.raises(AnalysisError, match="'lonely'"):
        compare_to_reference(counts, strata, "grp", item="q", lonely_psu="fail")


@pytest.mark.needs_r
@pytest.mark.parametrize("seed", [1, 2])
def test_differences_match_r_svycontrast(seed: int, tmp_path: Path) -> None:
    d = counter_rows(seed)
    data, result = tmp_path / "counter.csv", tmp_path / "r.csv"
    d.to_csv(data, index=False)
    done = subprocess.run(
        [_rscript(), str(R_SCRIPTS / "reference_contrasts.R"), str(data), str(result)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert done.returncode == 0, done.stderr
    expected = pd.read_csv(result)
    counts, strata = counts_of(d, ["sector", "grp"])
    ours = {
        (c.reference.get("sector", "all"), c.group["grp"]): c
        for within in (None, "sector")
        for c in compare_to_reference(counts, strata, "grp", within, item="q", min_n=0)
    }
    for row in expected.to_dict("records"):
        c = ours[row["reference"], row["group"]]
        for field, theirs in (
            ("difference", row["difference"]),
            ("se", row["se"]),
            ("df", row["df"]),
            ("ci_low", row["ci_low"]),
            ("ci_high", row["ci_high"]),
            ("p_value", row["p"]),
            ("p_holm", row["p_holm"]),
            ("p_bh", row["p_bh"]),
        ):
            assert getattr(c, field) == pytest.approx(theirs, abs=1e-6), (row, field)
    assert len(expected) == 14  # 7 agencies against the province and against their sector
