"""League tables: simultaneous rank intervals (Mogstad, Romano, Shaikh & Wilhelm 2024) and
empirical-Bayes shrinkage (Morris 1983), checked by known cases, simulation and statsmodels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError, counter_design
from analysis.ranks import RankInterval, rank_intervals, rank_units, shrink, summarize_rank
from tests.analysis.test_cli import DATA, run


def test_two_units_critical_value_is_the_two_sided_normal_quantile() -> None:
    # max over both ordered pairs of (Z1 − Z2)/se is |N(0, 1)|: ĉ ≈ 1.96
    _, _, _, c = rank_intervals(np.array([0.5, 0.6]), np.diag([0.01, 0.02]), draws=40_000)
    assert c == pytest.approx(1.95996, abs=0.03)


def test_well_separated_units_have_exact_ranks_and_equal_ones_span_the_table() -> None:
    theta = np.array([0.2, 0.9, 0.5, 0.7])
    rank, low, high, _ = rank_intervals(theta, np.eye(4) * 1e-6, draws=2000)
    assert rank.tolist() == [4, 1, 3, 2]
    assert low.tolist() == rank.tolist() and high.tolist() == rank.tolist()
    rank, low, high, _ = rank_intervals(np.full(4, 0.5), np.eye(4) * 0.01, draws=2000)
    assert rank.tolist() == [1, 1, 1, 1]
    assert low.tolist() == [1] * 4 and high.tolist() == [4] * 4


def test_simultaneous_coverage_of_all_ranks_by_simulation() -> None:
    """Independent N(θ_j, s²) estimates, θ = 0, 0.1, ..., 0.5, s = 0.08: the intervals cover
    all six true ranks at once in at least 95% of 400 samples (up to Monte Carlo error)."""
    rng = np.random.default_rng(7)
    theta = np.linspace(0, 0.5, 6)
    true_rank = 1 + (theta[None, :] > theta[:, None]).sum(axis=1)
    cov = np.eye(6) * 0.08**2
    hits = 0
    for k in range(400):
        est = rng.normal(theta, 0.08)
        _, low, high, _ = rank_intervals(est, cov, draws=2000, seed=k)
        hits += bool(((low <= true_rank) & (true_rank <= high)).all())
    assert hits / 400 >= 0.93


def test_shrinkage_matches_statsmodels_paule_mandel_and_morris_formula() -> None:
    from statsmodels.stats.meta_analysis import combine_effects

    est = np.array([0.55, 0.62, 0.71, 0.90, 0.40])
    var = np.array([0.002, 0.01, 0.004, 0.03, 0.001])
    shrunk, b, sd, mu, tau2 = shrink(est, var)
    ref = combine_effects(est, var, method_re="pm")
    assert tau2 == pytest.approx(ref.tau2) and mu == pytest.approx(ref.mean_effect_re)
    np.testing.assert_allclose(b, var / (var + tau2))
    np.testing.assert_allclose(shrunk, mu + (1 - b) * (est - mu))
    np.testing.assert_allclose(sd, np.sqrt(tau2 * var / (tau2 + var)))
    assert b[3] == b.max()  # the noisiest unit is shrunk most


def test_rank_units_on_the_reference_data() -> None:
    d = pd.read_csv(DATA)
    table = rank_units(d, counter_design(d), "agency", min_n=40)
    ranked = [r for r in table if r.rank is not None]
    assert len(ranked) == ranked[0].n_ranked and all(r.n >= 40 for r in ranked)
    assert [r.rank for r in ranked] == sorted(r.rank for r in ranked)
    for r in ranked:
        assert r.rank_low <= r.rank <= r.rank_high
        assert min(r.estimate, r.shrunk) <= r.shrunk <= max(r.estimate, r.shrunk)
    small = [r for r in table if r.rank is None]
    assert small and all("fewer than 40" in r.note and r.shrunk is not None for r in small)
    exemplary = next(r for r in table if r.group["agency"] == "ADM-C01")  # all satisfied
    assert exemplary.se == 0.0 and exemplary.shrunk < 1.0 and "variance 0" in exemplary.note


def test_sentences_say_when_a_rank_cannot_be_placed() -> None:
    base = dict(
        group={"agency": "Sở Tư pháp"},
        measure="m",
        n=50,
        estimate=0.8,
        se=0.03,
        n_ranked=20,
        shrunk=0.79,
        shrinkage=0.1,
        shrunk_sd=0.02,
    )
    narrow = RankInterval(**base, rank=3, rank_low=1, rank_high=6)
    wide = RankInterval(**base, rank=3, rank_low=1, rank_high=15)
    assert summarize_rank(narrow) == (
        "Sở Tư pháp is ranked 3 of 20 (95% interval for the rank: 1–6)."
    )
    assert summarize_rank(narrow, language="vi") == (
        "Sở Tư pháp đứng thứ 3/20 (khoảng tin cậy 95% của thứ hạng: 1–6)."
    )
    assert wide.wide and "cannot tell where it stands" in summarize_rank(wide)
    assert "chưa đủ để xác định vị trí" in summarize_rank(wide, language="vi")
    unranked = RankInterval(
        **{**base, "n": 5},
        rank=None,
        rank_low=None,
        rank_high=None,
        note="not ranked: fewer than 30 respondents",
    )
    assert summarize_rank(unranked) == "Sở Tư pháp: not ranked (fewer than 30 respondents)."
    assert summarize_rank(unranked, language="vi") == (
        "Sở Tư pháp: không xếp hạng (chưa đủ số phiếu, n = 5)."
    )
    with pytest.raises(AnalysisError):
        summarize_rank(narrow, language="fr")


def test_ranks_command() -> None:
    p = run(
        "ranks",
        DATA,
        "--by",
        "agency",
        "--min-n",
        "0",
        "--draws",
        "2000",
        "--format",
        "json",
        "--language",
        "vi",
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["command"] == "ranks" and len(out["units"]) == 27
    assert all("đứng thứ" in u["summary"] for u in out["units"])
    p = run("ranks", DATA, "--min-n", "0")
    assert p.returncode == 2 and "--by" in p.stderr
    p = run("ranks", DATA, "--by", "agency", "--measure", "total", "--items", "q1")
    assert p.returncode == 2 and "prop, ratio or mean" in p.stderr
