"""Simulations of the verdicts: the power promised by "responses needed" and the false "met" rate.

Samples are drawn from three designs, with a target of 70%:

- ``srs``: simple random sampling (equal weights, each response its own PSU);
- ``cluster``: PSUs of 10 respondents whose own shares follow a Beta law with intra-cluster
  correlation 0.05 (design effect 1 + 9·0.05 = 1.45);
- ``weights``: one respondent per PSU with log-normal sampling weights, σ = 0.75 (Kish's design
  effect e^{σ²} ≈ 1.75); ``skewed`` the same with σ = 1 (≈ 2.7);
- ``counter`` (false "met" rate only): the counter design's shape, 10 strata (service points)
  whose weights are constant within each and span 0.08 to 5.0 between them (Kish's design effect
  1.73, as ``weights``).

Each replicate's estimate and linearised standard error are computed vectorised with the engine's
formulas (checked against :func:`analysis.estimate_proportion` on a few replicates) and the
engine's own interval functions decide; a verdict is "met" when the lower end of the 95% interval
is above 70%. 4,000 replicates per case, seeded; Monte Carlo standard errors are about 0.6 points
for a power of 80% and 0.25 points for a rate of 2.5%.

Realised power of "responses needed" (truth 75% = the current estimate of a pilot of 100 whose
SE is the design's, nominal 80%; the total n promised in brackets):

    design    logit           beta            wilson          wald
    srs       79.9% (641)     79.8% (650)     80.5% (640)     79.0% (607)
    cluster   80.4% (950)     79.7% (960)     79.5% (950)     80.4% (900)
    weights   80.5% (1123)    79.4% (1141)    79.1% (1121)    79.8% (1063)
    band 70–75%, truth 72.5%, logit, SRS: P(within the band) 80.3% (n = 3,351)

False "met" rate with the truth on the target (nominal 2.5% for a 95% interval), n = 100 | 300:

    design    logit           beta            wilson          wald
    srs       1.5 | 2.2%      1.6 | 2.8%      1.8 | 2.4%      2.5 | 2.9%
    cluster   2.1 | 2.6%      2.2 | 2.0%      2.2 | 2.5%      3.5 | 3.3%
    counter   2.2 | 2.5%      2.7 | 2.1%      2.2 | 2.1%      4.7 | 3.3%
    weights   2.7 | 2.9%      2.8 | 2.6%      3.0 | 2.8%      5.2 | 3.6%
    skewed    3.8 | 3.6%      4.1 | 3.4%      3.9 | 3.7%      7.0 | 4.2%

The Wald interval declares "met" too often (its lower end ignores the skew of p̂ near 70%): it
is not the default. With weights that vary a lot **between respondents** (``skewed``, Kish's
design effect ≈ 2.7) the linearised variance is small precisely in the samples whose large
weights fell on satisfied respondents, and the false "met" rate rises to 3.4–4.1% whatever the
interval (7% for Wald); weights constant within strata with the same Kish effect as ``weights``
(``counter``) keep it nominal. What the engine does: it cannot tell the two apart from an
estimate, so every verdict of a group whose Kish design effect is 2 or more carries a note saying
so (``TargetTest.note``, printed by the command line), and "responses needed" never uses a design
effect below Kish's. It does not widen the interval: that would part the verdict from the
R-matched interval printed beside it (a Kish floor on the variance, tried, overcorrects to 0.8%).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd
import pytest

from analysis import Estimate, Target, estimate_proportion, general_design, intervals, test_target
from analysis.intervals import CI_METHODS

REPLICATES = 4000
TARGET = 0.70
PILOT = 100
DESIGNS = {
    # name: (sampling options, true design effect, respondents per PSU)
    "srs": ({}, 1.0, 1),
    "cluster": ({"icc": 0.05}, 1.45, 10),
    "weights": ({"sigma": 0.75}, math.exp(0.75**2), 1),
    "counter": ({"sigma": 1.5}, 1.0, 1),  # for the false "met" rate only
}


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _sample(
    design: str, n: int, p: float, replicates: int, rng: np.random.Generator, **kw: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(satisfied, weights, PSU code, stratum code) arrays of shape (replicates, n)."""
    strata = np.zeros(n, dtype=np.int64)
    if design == "cluster":
        m, icc = 10, kw.get("icc", 0.05)
        k = n // m
        shares = rng.beta(p * (1 - icc) / icc, (1 - p) * (1 - icc) / icc, size=(replicates, k))
        y = (rng.random((replicates, k, m)) < shares[:, :, None]).reshape(replicates, k * m)
        psu = np.repeat(np.arange(k), m)
        w = np.ones(y.shape)
    elif design == "counter":  # 10 service points, weights constant within each
        y = rng.random((replicates, n)) < p
        psu = np.arange(n)
        strata = np.arange(n) % 10
        stratum_weight = np.exp(kw.get("sigma", 1.5) * _rng("counter weights").standard_normal(10))
        w = np.broadcast_to(stratum_weight[strata], y.shape)
    else:
        y = rng.random((replicates, n)) < p
        psu = np.arange(n)
        sigma = kw.get("sigma", 0.0)
        w = np.exp(sigma * rng.standard_normal(y.shape)) if sigma else np.ones(y.shape)
    return (
        y.astype(float),
        np.asarray(w, dtype=float),
        np.broadcast_to(psu, y.shape),
        np.broadcast_to(strata, y.shape),
    )


def _estimate(
    y: np.ndarray, w: np.ndarray, psu: np.ndarray, strata: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """p̂ = Σwy/Σw and its linearised SE with replacement (no fpc), as the engine computes them
    (Lumley 2010 §2.2): V = Σ_h k_h/(k_h − 1) Σ_c (t_hc − t̄_h)², t_hc the totals of
    z = w(y − p̂)/Σw over PSU c of stratum h; df = PSUs − strata."""
    total = w.sum(axis=1)
    p = (w * y).sum(axis=1) / total
    z = w * (y - p[:, None]) / total[:, None]
    var = np.zeros(len(p))
    df = 0.0
    for h in np.unique(strata[0]):
        in_h = strata[0] == h
        codes = np.unique(psu[0][in_h])
        t = np.column_stack([z[:, psu[0] == c].sum(axis=1) for c in codes])
        k = len(codes)
        var += k / (k - 1) * ((t - t.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        df += k - 1
    return p, np.sqrt(var), df


def _intervals(
    method: str, p: np.ndarray, se: np.ndarray, n: int, df: float
) -> tuple[np.ndarray, np.ndarray]:
    r = len(p)
    return intervals.proportion_interval(method, p, se, np.full(r, float(n)), np.full(r, df), 0.95)


@pytest.mark.parametrize("design", ["srs", "cluster", "weights", "counter"])
def test_the_simulated_estimates_are_the_engines(design: str) -> None:
    options, _, _ = DESIGNS[design]
    y, w, psu, strata = _sample(design, 200, 0.72, 3, _rng("check", design), **options)
    p, se, df = _estimate(y, w, psu, strata)
    for r in range(3):
        data = pd.DataFrame(
            {"q": np.where(y[r] > 0, 5, 2), "w": w[r], "psu": psu[r], "s": strata[r]}
        )
        des = general_design(
            data, strata="s", psu="psu" if design == "cluster" else None, weight="w"
        )
        (e,) = estimate_proportion(data, "q", des, min_n=0)
        assert e.estimate == pytest.approx(p[r], abs=1e-12)
        assert e.se == pytest.approx(se[r], rel=1e-9)
        assert e.df == df


def _pilot(design: str, method: str, p: float) -> Estimate:
    """A pilot of 100 whose estimate is the truth and whose SE is the design's true SE."""
    _, deff, m = DESIGNS[design]
    se = math.sqrt(deff * p * (1 - p) / PILOT)
    df = float(PILOT // m - 1)
    lo, hi = intervals.proportion_interval(
        method, np.array([p]), np.array([se]), np.array([float(PILOT)]), np.array([df]), 0.95
    )
    return Estimate(
        {}, "share_satisfied:q", PILOT, PILOT / (deff if design == "weights" else 1.0), p, se,
        float(lo[0]), float(hi[0]), df, deff, ci_method=method,
    )  # fmt: skip


@pytest.mark.parametrize("method", CI_METHODS)
@pytest.mark.parametrize("design", ["srs", "cluster", "weights"])
def test_promised_power_is_realised(design: str, method: str) -> None:
    options, _, m = DESIGNS[design]
    truth = 0.75
    t = test_target(_pilot(design, method, truth), Target(TARGET))
    assert t.verdict == "undetermined" and t.additional_n is not None
    n = math.ceil((PILOT + t.additional_n) / m) * m
    y, w, psu, strata = _sample(
        design, n, truth, REPLICATES, _rng("power", design, method), **options
    )
    p, se, df = _estimate(y, w, psu, strata)
    lo, _ = _intervals(method, p, se, n, df)
    power = float((lo > TARGET).mean())
    print(f"{design} {method}: n = {n}, realised power {power:.4f}")
    assert abs(power - t.power) < 0.03


def test_promised_power_for_a_band_resolves_both_edges() -> None:
    truth = 0.725
    t = test_target(_pilot("srs", "logit", truth), Target(0.70, 0.75))
    assert t.verdict == "undetermined"
    n = PILOT + t.additional_n
    y, w, psu, strata = _sample("srs", n, truth, REPLICATES, _rng("band"))
    p, se, df = _estimate(y, w, psu, strata)
    lo, hi = _intervals("logit", p, se, n, df)
    power = float(((lo > 0.70) & (hi < 0.75)).mean())
    print(f"band: n = {n}, realised power {power:.4f}")
    assert abs(power - t.power) < 0.03


def _false_met(design: str, method: str, n: int, **options: float) -> float:
    y, w, psu, strata = _sample(
        design, n, TARGET, REPLICATES, _rng("null", design, method, n), **options
    )
    p, se, df = _estimate(y, w, psu, strata)
    lo, _ = _intervals(method, p, se, n, df)
    return float((lo > TARGET).mean())


#: Upper bounds asserted on the false "met" rate: nominal 2.5% plus three Monte Carlo standard
#: errors, except where the module docstring says the rate is above nominal.
NOMINAL_BOUND = 0.025 + 3 * math.sqrt(0.025 * 0.975 / REPLICATES)


@pytest.mark.parametrize("n", [100, 300])
@pytest.mark.parametrize("method", CI_METHODS)
@pytest.mark.parametrize("design", ["srs", "cluster", "weights", "counter", "skewed"])
def test_false_met_rate_when_the_truth_is_the_target(design: str, method: str, n: int) -> None:
    options = {"sigma": 1.0} if design == "skewed" else DESIGNS[design][0]
    sampler = "weights" if design == "skewed" else design
    rate = _false_met(sampler, method, n, **options)
    print(f"{design} {method} n = {n}: false 'met' rate {rate:.4f}")
    if design == "skewed":
        assert rate < (0.08 if method == "wald" else 0.05)
    elif method == "wald":
        assert rate < 0.06
    else:
        assert rate < NOMINAL_BOUND


def test_verdicts_with_very_unequal_weights_say_so() -> None:
    rng = _rng("note")
    y, w, _, _ = _sample("weights", 300, TARGET, 1, rng, sigma=1.0)
    data = pd.DataFrame({"q": np.where(y[0] > 0, 5, 2), "w": w[0]})
    (e,) = estimate_proportion(data, "q", general_design(data, weight="w"), min_n=0)
    assert e.n / e.n_eff >= 2
    t = test_target(e, Target(0.5))
    assert "Kish's design effect" in t.note and "false" in t.note
    equal = data.assign(w=1.0)
    (e,) = estimate_proportion(equal, "q", general_design(equal, weight="w"), min_n=0)
    assert test_target(e, Target(0.5)).note == ""
