"""League tables from estimates and variances (analysis.ranks.rank_estimates): the same table
as rank_units on the same data for small tables, Bonferroni's critical value for large ones
(conservative: its intervals contain the Monte Carlo ones and cover all ranks at once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError, counter_design, estimate_proportion
from analysis.aggregates import estimate_share_from_counts
from analysis.ranks import (
    EXACT_UNITS,
    RankInterval,
    bonferroni_critical_value,
    rank_bounds,
    rank_estimates,
    rank_intervals,
    rank_units,
)
from analysis.results import Estimate
from tests.analysis.test_cli import DATA

FIELDS = ("estimate", "se", "shrunk", "shrinkage", "shrunk_sd")


def _from(estimates: list[Estimate], **kwargs: object) -> list[RankInterval]:
    units = [e for e in estimates if e.group]
    return rank_estimates(
        [e.group for e in units],
        [e.estimate for e in units],
        [None if e.se is None else e.se**2 for e in units],
        [e.n for e in units],
        [e.n_eff for e in units],
        measure=units[0].measure,
        **kwargs,  # type: ignore[arg-type]
    )


def assert_same_table(old: list[RankInterval], new: list[RankInterval], rel: float) -> None:
    assert len(old) == len(new)
    for a, b in zip(old, new, strict=True):
        exact = ("group", "measure", "n", "rank", "rank_low", "rank_high", "n_ranked", "note")
        assert [getattr(a, f) for f in exact] == [getattr(b, f) for f in exact]
        assert b.critical_value == pytest.approx(a.critical_value, rel=rel, abs=0)
        for f in FIELDS:
            x, y = getattr(a, f), getattr(b, f)
            assert (x is None) == (y is None), f
            if x is not None:
                assert y == pytest.approx(x, rel=rel, abs=rel), f


def test_small_tables_equal_rank_units_on_the_same_data() -> None:
    """The reference responses (27 agencies, one of them all satisfied, some below min_n): the
    row-level estimates and variances, and those from counts, give rank_units' table."""
    d = pd.read_csv(DATA)
    design = counter_design(d)
    old = rank_units(d, design, "agency", min_n=40)
    rows = estimate_proportion(d, "q_overall", design, "agency", min_n=0)
    assert_same_table(old, _from(rows, min_n=40), rel=1e-12)
    d["sat"] = (d["q_overall"] >= 4).astype(int)
    d["ans"] = d["q_overall"].notna().astype(int)
    counts = (
        d.groupby(["service_point", "agency"], as_index=False)
        .agg(answered=("ans", "sum"), satisfied=("sat", "sum"))
        .rename(columns={"service_point": "stratum"})
    )
    strata = (
        d.groupby("service_point", as_index=False)
        .agg(responses=("ans", "size"), volume=("volume", "first"))
        .rename(columns={"service_point": "stratum"})
    )
    from_counts = estimate_share_from_counts(counts, strata, "agency", item="q_overall", min_n=0)
    assert_same_table(old, _from(from_counts, min_n=40), rel=1e-12)


def _table(p: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = np.sort(rng.uniform(0.4, 0.95, p))
    var = (rng.uniform(0.01, 0.06, p)) ** 2
    return rng.normal(theta, np.sqrt(var)), var


def test_bounds_are_those_of_rank_intervals_for_the_same_critical_value() -> None:
    est, var = _table(60, 1)
    rank, low, high, c = rank_intervals(est, np.diag(var), draws=2000)
    for block in (7, 60, 512):
        r2, l2, h2 = rank_bounds(est, var, c, block=block)
        assert r2.tolist() == rank.tolist()
        assert l2.tolist() == low.tolist() and h2.tolist() == high.tolist()


def test_large_tables_use_bonferroni_and_contain_the_monte_carlo_intervals() -> None:
    p = EXACT_UNITS + 250
    est, var = _table(p, 2)
    keys = [{"unit": k} for k in range(p)]
    ones = np.full(p, 200.0)
    table = rank_estimates(keys, est, var, ones, ones, min_n=0, proportion=False)
    mc = rank_estimates(
        keys, est, var, ones, ones, min_n=0, proportion=False, method="monte-carlo", draws=1000
    )
    c = bonferroni_critical_value(p)
    assert table[0].critical_value == c and table[0].n_ranked == p
    assert mc[0].critical_value is not None and mc[0].critical_value < c
    by_unit = {r.group["unit"]: r for r in mc}
    widened = 0
    for r in table:
        m = by_unit[r.group["unit"]]
        assert r.rank == m.rank and r.shrunk == m.shrunk
        assert r.rank_low is not None and r.rank_high is not None and r.rank is not None
        assert m.rank_low is not None and m.rank_high is not None
        assert r.rank_low <= r.rank <= r.rank_high
        assert r.rank_low <= m.rank_low and m.rank_high <= r.rank_high
        widened += (r.rank_low, r.rank_high) != (m.rank_low, m.rank_high)
    assert 0 < widened < p  # conservative, but not the whole table
    # every significant pair counted once from each side
    assert sum(r.rank_low - 1 for r in table) == sum(p - r.rank_high for r in table)


def test_intervals_are_nested_in_the_level_and_monotone_in_the_estimate() -> None:
    p = 400
    rng = np.random.default_rng(3)
    est = rng.normal(0.7, 0.1, p)
    var = np.full(p, 0.03**2)
    keys = [{"unit": k} for k in range(p)]
    n = np.full(p, 100.0)
    tables = {
        level: {
            r.group["unit"]: r
            for r in rank_estimates(keys, est, var, n, n, min_n=0, confidence_level=level)
        }
        for level in (0.8, 0.95, 0.99)
    }
    for k in range(p):
        narrow, mid, wide = (tables[level][k] for level in (0.8, 0.95, 0.99))
        assert wide.rank_low <= mid.rank_low <= narrow.rank_low  # type: ignore[operator]
        assert narrow.rank_high <= mid.rank_high <= wide.rank_high  # type: ignore[operator]
    ordered = sorted(tables[0.95].values(), key=lambda r: -(r.estimate or 0.0))
    lows = [r.rank_low for r in ordered]
    highs = [r.rank_high for r in ordered]
    assert lows == sorted(lows) and highs == sorted(highs)  # type: ignore[type-var]


def test_simultaneous_coverage_of_a_large_table_by_simulation() -> None:
    """Independent N(θ_j, s_j²) estimates of 200 units (Bonferroni's critical value): all 200
    true ranks are covered at once in at least 95% of 300 samples."""
    p, reps = 200, 300
    rng = np.random.default_rng(11)
    theta = np.linspace(0.3, 0.95, p)
    sd = rng.uniform(0.005, 0.02, p)
    true_rank = 1 + (theta[None, :] > theta[:, None]).sum(axis=1)
    c = bonferroni_critical_value(p)
    hits = 0
    widths = []
    for _ in range(reps):
        est = rng.normal(theta, sd)
        _, low, high = rank_bounds(est, sd**2, c)
        hits += bool(((low <= true_rank) & (true_rank <= high)).all())
        widths.append(float(np.mean(high - low)))
    assert hits / reps >= 0.95
    assert np.mean(widths) < p / 4  # informative: the intervals are far from the whole table


def test_units_without_enough_data_are_shrunk_but_not_ranked() -> None:
    keys = [{"u": k} for k in "abcde"]
    table = rank_estimates(
        keys,
        [0.8, 0.6, None, 1.0, 0.7],
        [0.002, 0.003, None, 0.0, 0.001],
        [50, 10, 0, 60, 80],
        [50, 10, 0, 60, 80],
        min_n=30,
    )
    by = {r.group["u"]: r for r in table}
    assert by["b"].rank is None and "fewer than 30" in by["b"].note and by["b"].shrunk
    assert by["c"].estimate is None and by["c"].note == "no respondents with an answer"
    assert by["d"].rank == 1 and by["d"].se == 0.0 and "variance 0" in by["d"].note
    assert by["d"].shrunk is not None and by["d"].shrunk < 1.0
    assert [r.group["u"] for r in table] == ["d", "a", "e", "b", "c"]


def test_bad_input_gets_a_clear_message() -> None:
    keys = [{"u": 1}, {"u": 2}]
    with pytest.raises(AnalysisError, match="one value of variances per unit"):
        rank_estimates(keys, [0.1, 0.2], [0.01], [40, 40], [40, 40])
    with pytest.raises(AnalysisError, match="unknown rank method"):
        rank_estimates(keys, [0.1, 0.2], [0.01, 0.01], [40, 40], [40, 40], method="holm")
    with pytest.raises(AnalysisError, match="negative"):
        rank_estimates(keys, [0.1, 0.2], [0.01, -0.01], [40, 40], [40, 40])
    with pytest.raises(AnalysisError, match="draws"):
        rank_estimates(keys, [0.1, 0.2], [0.01, 0.01], [40, 40], [40, 40], draws=10)
