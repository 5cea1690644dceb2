"""Estimators from aggregates (analysis/aggregates.py) equal the row-level estimators and R.

The cells are what a database GROUP BY returns: counts per stratum × domain under the counter
design, or weighted totals per stratum × PSU × domain under a clustered design. Every field of
every Estimate must equal the row-level one to 1e-12 (relative), and R's ``survey`` to 1e-6
(tests/analysis/r/aggregates.R).
"""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import (
    AnalysisError,
    Estimate,
    counter_design,
    estimate_mean,
    estimate_proportion,
    general_design,
)
from analysis.aggregates import (
    CellTables,
    cells_from_rows,
    estimate_mean_from_counts,
    estimate_ratio_from_cells,
    estimate_share_from_counts,
    impute_volumes,
    share_cells,
)
from tests.analysis.design_data import two_stage
from tests.analysis.test_differential_r import _rscript

R_SCRIPTS = Path(__file__).with_name("r")
RULES = ("adjust", "average", "certainty", "remove")


def counter_rows(seed: int, n: int = 1500, strata: int = 30) -> pd.DataFrame:
    """Counter-design responses: strata (service point × quarter) with their volume, domains
    ``grp`` (agencies) and ``sector``, a 1–5 item ``q`` with blanks; one stratum with a single
    response (lonely), one where every client answered (census), one without a valid answer."""
    rng = np.random.default_rng(seed)
    names = np.array([f"S{k:02d}" for k in range(strata)])
    stratum = names[rng.integers(0, strata, n)].astype(object)
    stratum[0] = "lonely"
    stratum[1:6] = "census"
    stratum[6:9] = "blank"
    d = pd.DataFrame({"stratum": stratum})
    agency = {s: f"A{k % 7}" for k, s in enumerate(sorted(set(stratum)))}
    d["grp"] = d["stratum"].map(agency)
    d["sector"] = np.where(d["grp"] < "A3", "health", "education")
    size = d.groupby("stratum")["grp"].transform("size")
    extra = pd.Series(rng.integers(0, 400, strata + 3), index=sorted(set(stratum)))
    d["volume"] = size + d["stratum"].map(extra)
    d.loc[d["stratum"] == "census", "volume"] = 5
    quality = d["grp"].map({f"A{k}": rng.normal(0.3, 0.8) for k in range(7)})
    q = np.clip(np.rint(3.4 + quality + rng.normal(0, 1.1, n)), 1, 5)
    q[rng.random(n) < 0.08] = np.nan
    q[6:9] = np.nan
    d["q"] = pd.array(q, dtype="Int64")
    return d


def counts_of(d: pd.DataFrame, by: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the database returns: answers per stratum × domain, responses and volume per
    stratum."""
    q = d["q"].to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnan(q)
    frame = d[["stratum", *by]].assign(
        answered=valid.astype(int),
        satisfied=(q >= 4).astype(int),
        score_sum=np.where(valid, q, 0).astype(int),
        score_squares=np.where(valid, q * q, 0).astype(int),
    )
    counts = frame.groupby(["stratum", *by], as_index=False).sum()
    strata = d.groupby("stratum", as_index=False).agg(
        responses=("q", "size"), volume=("volume", "first")
    )
    return counts, strata


def assert_same(rows: list[Estimate], cells: list[Estimate], rel: float = 1e-12) -> None:
    assert len(rows) == len(cells)
    for x, y in zip(rows, cells, strict=True):
        a, b = x.to_dict(), y.to_dict()
        assert a.keys() == b.keys()
        for key, value in a.items():
            other = b[key]
            if isinstance(value, float) and isinstance(other, float):
                assert math.isclose(value, other, rel_tol=rel, abs_tol=rel), (key, a, b)
            else:
                assert value == other, (key, a, b)


def _items(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    q = d["q"].to_numpy(dtype=float, na_value=np.nan)
    return q, ~np.isnan(q)


# --------------------------------------------------------------------------------------------
# (a) the row-level estimators


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("rule", RULES)
def test_counter_design_counts_equal_the_rows(seed: int, rule: str) -> None:
    d = counter_rows(seed)
    design = counter_design(d, strata="stratum", volume="volume", lonely_psu=rule)
    counts, strata = counts_of(d, ["sector", "grp"])
    for by in (None, "grp", "sector", ["sector", "grp"]):
        for method in ("logit", "beta", "wilson", "wald"):
            assert_same(
                estimate_proportion(d, "q", design, by, ci_method=method, min_n=10),
                estimate_share_from_counts(
                    counts, strata, by, item="q", ci_method=method, min_n=10, lonely_psu=rule
                ),
            )
        for index in (False, True):
            assert_same(
                estimate_mean(d, "q", design, by, index=index, min_n=10),
                estimate_mean_from_counts(
                    counts, strata, by, item="q", index=index, min_n=10, lonely_psu=rule
                ),
            )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("clustered", [True, False])
def test_weighted_cells_equal_the_rows(seed: int, rule: str, clustered: bool) -> None:
    """Stratified designs with unequal weights, PSUs (or every row its own PSU), a certainty
    stratum and a lonely one (tests/analysis/design_data.py)."""
    d = two_stage(seed)
    design = general_design(
        d, strata="stratum", psu="psu" if clustered else None, weight="w", lonely_psu=rule
    )
    q, valid = _items(d)
    shares = cells_from_rows(
        d, design, (q >= 4).astype(float), valid.astype(float), "grp", valid=valid
    )
    assert_same(
        estimate_proportion(d, "q", design, "grp", min_n=0),
        estimate_ratio_from_cells(
            shares, "grp", measure="share_satisfied:q", min_n=0, lonely_psu=rule
        ),
    )
    means = cells_from_rows(
        d, design, np.where(valid, q, 0.0), valid.astype(float), "grp", valid=valid
    )
    assert_same(
        estimate_mean(d, "q", design, "grp", min_n=0),
        estimate_ratio_from_cells(
            means, "grp", measure="mean:q", proportion=False, min_n=0, lonely_psu=rule
        ),
    )


def test_finite_population_correction_of_a_clustered_design() -> None:
    d = two_stage(5)
    design = general_design(d, strata="stratum", psu="psu", weight="w", fpc="N1")
    q, valid = _items(d)
    tables = cells_from_rows(
        d, design, (q >= 4).astype(float), valid.astype(float), "grp", valid=valid
    )
    assert_same(
        estimate_proportion(d, "q", design, "grp", min_n=0, ci_method="beta"),
        estimate_ratio_from_cells(
            tables, "grp", measure="share_satisfied:q", min_n=0, ci_method="beta"
        ),
    )


def test_cells_cut_finer_than_the_domain_count_each_psu_once() -> None:
    """Cells per PSU × agency, estimated by sector: a PSU's cells are added up before the
    variance (one PSU total per domain), so the result is that of the rows."""
    d = two_stage(6)
    d["sector"] = np.where(d["grp"] == "g1", "x", "y")
    design = general_design(d, strata="stratum", psu="psu", weight="w")
    q, valid = _items(d)
    tables = cells_from_rows(
        d, design, (q >= 4).astype(float), valid.astype(float), ["sector", "grp"], valid=valid
    )
    assert_same(
        estimate_proportion(d, "q", design, "sector", min_n=0),
        estimate_ratio_from_cells(tables, "sector", measure="share_satisfied:q", min_n=0),
    )


def test_every_answer_the_same_is_degenerate_as_in_rows() -> None:
    d = counter_rows(7)
    d.loc[d["grp"] == "A1", "q"] = 5
    d.loc[d["grp"] == "A2", "q"] = 1
    design = counter_design(d, strata="stratum", volume="volume")
    counts, strata = counts_of(d, ["grp"])
    rows = estimate_proportion(d, "q", design, "grp", min_n=0)
    cells = estimate_share_from_counts(counts, strata, "grp", item="q", min_n=0)
    assert_same(rows, cells)
    by_group = {e.group.get("grp"): e for e in cells}
    assert by_group["A1"].se == 0.0 and by_group["A1"].estimate == 1.0
    assert "the same verdict (none satisfied)" in by_group["A2"].note


def test_lonely_psu_fail_rule_refuses_as_the_rows_do() -> None:
    d = counter_rows(1)
    design = counter_design(d, strata="stratum", volume="volume", lonely_psu="fail")
    counts, strata = counts_of(d, ["grp"])
    with pytest.raises(AnalysisError) as rows:
        estimate_proportion(d, "q", design, "grp", min_n=0)
    with pytest.raises(AnalysisError) as cells:
        estimate_share_from_counts(counts, strata, "grp", item="q", lonely_psu="fail")
    assert str(cells.value) == str(rows.value)
    assert "'lonely'" in str(cells.value)


def test_a_domain_without_valid_answers_is_reported_with_n_0() -> None:
    d = counter_rows(2)
    d["grp"] = np.where(d["stratum"] == "blank", "silent", d["grp"])
    design = counter_design(d, strata="stratum", volume="volume")
    counts, strata = counts_of(d, ["grp"])
    cells = estimate_share_from_counts(counts, strata, "grp", item="q")
    assert_same(estimate_proportion(d, "q", design, "grp"), cells)
    silent = next(e for e in cells if e.group == {"grp": "silent"})
    assert silent.n == 0 and silent.status == "insufficient_data"


def test_bad_tables_get_a_clear_message() -> None:
    d = counter_rows(3)
    counts, strata = counts_of(d, ["grp"])
    with pytest.raises(AnalysisError, match="lacks the column"):
        estimate_share_from_counts(counts.drop(columns="satisfied"), strata)
    with pytest.raises(AnalysisError, match="not in the strata table"):
        estimate_share_from_counts(counts, strata[strata["stratum"] != "S01"])
    short = strata.assign(volume=np.where(strata["stratum"] == "S02", 0, strata["volume"]))
    with pytest.raises(AnalysisError, match="volume"):
        estimate_share_from_counts(counts, short)
    tables = share_cells(counts, strata)
    with pytest.raises(AnalysisError, match="interval method"):
        estimate_ratio_from_cells(tables, measure="x", ci_method="exact")
    twice = CellTables(cells=tables.cells, strata=pd.concat([tables.strata, tables.strata]))
    with pytest.raises(AnalysisError, match="twice"):
        estimate_ratio_from_cells(twice, measure="x")


def test_missing_volumes_are_imputed_at_the_median_response_rate() -> None:
    imputed = impute_volumes([10, 20, 5, 7], [100, 50, None, float("nan")])
    # rates 0.1 and 0.4: median 0.25, so 5 → 20 and 7 → 28
    assert imputed.volume.tolist() == [100, 50, 20, 28]
    assert imputed.imputed.tolist() == [False, False, True, True]
    assert imputed.response_rate == 0.25
    assert impute_volumes([3, 4], [None, None]).volume.tolist() == [15, 20]  # 20 per 100
    clipped = impute_volumes([30, 2], [10, None])  # a volume below its responses is raised
    assert clipped.volume.tolist() == [30, 2] and clipped.response_rate == 1.0
    assert impute_volumes([3], [9]).response_rate is None


# --------------------------------------------------------------------------------------------
# (b) R survey


@pytest.mark.needs_r
@pytest.mark.parametrize("seed", [1, 2])
def test_aggregates_match_r(seed: int, tmp_path: Path) -> None:
    counter = counter_rows(seed)
    clustered = two_stage(seed)
    paths = [tmp_path / "counter.csv", tmp_path / "clustered.csv", tmp_path / "r.csv"]
    counter.to_csv(paths[0], index=False)
    clustered.to_csv(paths[1], index=False)
    done = subprocess.run(
        [_rscript(), str(R_SCRIPTS / "aggregates.R"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert done.returncode == 0, done.stderr
    expected = pd.read_csv(paths[2])
    counts, strata = counts_of(counter, ["grp"])
    design = general_design(clustered, strata="stratum", psu="psu", weight="w", fpc="N1")
    q, valid = _items(clustered)
    shares = cells_from_rows(
        clustered, design, (q >= 4).astype(float), valid.astype(float), "grp", valid=valid
    )
    means = cells_from_rows(
        clustered, design, np.where(valid, q, 0.0), valid.astype(float), "grp", valid=valid
    )
    ours: dict[tuple[str, str], list[Estimate]] = {}
    for method in ("logit", "beta"):
        ours["counter", method] = estimate_share_from_counts(
            counts, strata, "grp", item="q", ci_method=method, min_n=0
        )
        ours["clustered", method] = estimate_ratio_from_cells(
            shares, "grp", measure="share_satisfied:q", ci_method=method, min_n=0
        )
    ours["counter", "mean"] = estimate_mean_from_counts(counts, strata, "grp", item="q", min_n=0)
    ours["clustered", "mean"] = estimate_ratio_from_cells(
        means, "grp", measure="mean:q", proportion=False, min_n=0
    )
    checked = 0
    for row in expected.to_dict("records"):
        by_group = {e.group.get("grp", "all"): e for e in ours[row["design"], row["measure"]]}
        e = by_group[row["group"]]
        for field in ("estimate", "se", "ci_low", "ci_high", "df"):
            assert getattr(e, field) == pytest.approx(row[field], abs=1e-6), (row, field)
        if row["measure"] == "mean":
            assert e.deff == pytest.approx(row["deff"], rel=1e-6), row
        checked += 1
    assert checked == 3 * (8 + 4)  # measures × groups and 'all' (8 in counter, 4 in clustered)


# --------------------------------------------------------------------------------------------
# (c) property: aggregating and then estimating is estimating the rows


@st.composite
def designs(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, str | None]]:
    clustered = draw(st.booleans())
    rows = []
    for h in range(draw(st.integers(1, 4))):
        # stratum S0 has two PSUs at least: under "average" a design made only of lonely
        # strata has no variance to borrow (the row-level code warns, then gives NaN)
        psus = draw(st.integers(2 if h == 0 else 1, 3))
        for j in range(psus):
            for _ in range(draw(st.integers(1, 4))):
                rows.append(
                    {
                        "stratum": f"S{h}",
                        "psu": f"S{h}P{j}",
                        "w": draw(st.floats(0.5, 40.0)),
                        "q": draw(st.one_of(st.none(), st.integers(1, 5))),
                        "grp": draw(st.sampled_from(["a", "b", "c"])),
                    }
                )
    d = pd.DataFrame(rows)
    d["q"] = pd.array(d["q"], dtype="Int64")
    spec: dict[str, str | None] = {"strata": "stratum", "psu": "psu" if clustered else None}
    return d, spec


@given(
    designs(),
    st.sampled_from(RULES),
    st.sampled_from(["logit", "beta", "wilson", "wald"]),
    st.sampled_from([None, "grp"]),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_aggregating_then_estimating_is_estimating_the_rows(
    frame: tuple[pd.DataFrame, dict[str, str | None]], rule: str, method: str, by: str | None
) -> None:
    d, spec = frame
    design = general_design(d, weight="w", lonely_psu=rule, **spec)  # type: ignore[arg-type]
    q, valid = _items(d)
    tables = cells_from_rows(
        d, design, (q >= 4).astype(float), valid.astype(float), by, valid=valid
    )
    assert_same(
        estimate_proportion(d, "q", design, by, ci_method=method, min_n=0),
        estimate_ratio_from_cells(
            tables, by, measure="share_satisfied:q", ci_method=method, min_n=0, lonely_psu=rule
        ),
        rel=1e-12,
    )
