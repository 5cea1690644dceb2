"""Verdicts of estimates against targets (thresholds and bands), with power.

A threshold target p₀ is **met** when the whole confidence interval lies above p₀, **not met**
when it lies below, **undetermined** otherwise. With a logit interval the test is done on the
logit scale, t = (logit p̂ − logit p₀)/(se/(p̂(1 − p̂))), so that the verdict and the one-sided
p-value agree (p < (1 − level)/2 exactly when the interval excludes p₀); other intervals use
t = (p̂ − p₀)/se. Degrees of freedom are the design's (Lumley 2010 §2.3.1).

Responses still needed at the current estimate: the one-sample size formula for a proportion
(Fleiss, Levin & Paik 2003, §2.5), n = deff·[(z_{1−α/2}√(p₀q₀) + z_{power}√(p̂q̂)) / (p̂ − p₀)]²,
with the design effect deff of the estimate (Kish 1965), minus the respondents already there.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from analysis import intervals
from analysis.errors import AnalysisError
from analysis.results import Estimate, Target, TargetTest

VERDICTS = (
    "met",
    "not_met",
    "undetermined",
    "above_band",
    "within_band",
    "below_band",
    "insufficient_data",
    "variance_not_estimable",
)


def parse_target(text: str) -> Target:
    """Parse ``"0.70"`` (threshold) or ``"0.70:0.75"`` (band); percentages like ``70`` too."""
    try:
        parts = [float(p) for p in str(text).split(":")]
    except ValueError:
        raise AnalysisError(
            f"target {text!r} must be a number like 0.70 or a band like 0.70:0.75"
        ) from None
    if len(parts) not in (1, 2):
        raise AnalysisError(f"target {text!r} must be a number like 0.70 or a band like 0.70:0.75")
    if all(p > 1 for p in parts):
        parts = [p / 100 for p in parts]
    return Target(parts[0], parts[1] if len(parts) == 2 else None)


def _one_sided(e: Estimate, bound: float, upper: bool) -> tuple[float | None, float | None]:
    """(statistic, p) for H1: p > bound (upper=True) or p < bound; on the interval's scale."""
    p, se, df = e.estimate, e.se, e.df
    if p is None or se is None or df is None:
        return None, None
    if se <= 0:
        if p >= 1 or p <= 0:  # degenerate group: exact binomial tail on Kish's effective n
            n = max(e.n_eff, 1.0)
            prob = (bound**n if p >= 1 else (1 - bound) ** n) if (p >= 1) == upper else 1.0
            return None, float(prob)
        return None, None
    if e.ci_method == "logit" and 0 < p < 1 and 0 < bound < 1:
        stat = (math.log(p / (1 - p)) - math.log(bound / (1 - bound))) / (se / (p * (1 - p)))
    else:
        stat = (p - bound) / se
    tail = float(intervals.t_sf(np.array(stat if upper else -stat), np.array(df)))
    return float(stat), tail


def additional_responses(
    e: Estimate, bound: float, confidence_level: float, power: float = 0.8
) -> int | None:
    """More respondents needed to tell ``e.estimate`` from ``bound`` with the given power."""
    p = e.estimate
    if p is None or p == bound:
        return None
    alpha = 1 - confidence_level
    za = float(special.ndtri(1 - alpha / 2))
    zb = float(special.ndtri(power))
    q = max(min(p, 1 - 1e-9), 1e-9)
    deff = e.deff if e.deff is not None and np.isfinite(e.deff) and e.deff > 0 else 1.0
    n_srs = ((za * math.sqrt(bound * (1 - bound)) + zb * math.sqrt(q * (1 - q))) / (p - bound)) ** 2
    return max(1, math.ceil(n_srs * deff - e.n))


def test_target(estimate: Estimate, target: Target, *, power: float = 0.8) -> TargetTest:
    """Verdict of one estimate against a target (see the module docstring for the rules)."""
    if not 0 < power < 1:
        raise AnalysisError("power must be between 0 and 1")
    e = estimate
    if e.status != "ok" or e.ci_low is None or e.ci_high is None or e.estimate is None:
        status = e.status if e.status != "ok" else "variance_not_estimable"
        return TargetTest(e, target, status, None, None, None, power, e.note)
    level = e.confidence_level
    lo, hi = e.ci_low, e.ci_high
    if target.high is None:
        thr = target.low
        if lo > thr:
            verdict = "met"
        elif hi < thr:
            verdict = "not_met"
        else:
            verdict = "undetermined"
        stat, p = _one_sided(e, thr, upper=e.estimate >= thr)
        extra = 0 if verdict != "undetermined" else additional_responses(e, thr, level, power)
        return TargetTest(e, target, verdict, p, stat, extra, power)
    low, high = target.low, target.high
    if lo > high:
        verdict = "above_band"
    elif hi < low:
        verdict = "below_band"
    elif lo >= low and hi <= high:
        verdict = "within_band"
    else:
        verdict = "undetermined"
    if e.estimate > high:
        stat, p = _one_sided(e, high, upper=True)
        edge = high
    elif e.estimate < low:
        stat, p = _one_sided(e, low, upper=False)
        edge = low
    else:  # inside the band: evidence of being inside = the weaker of the two one-sided tests
        s1, p1 = _one_sided(e, low, upper=True)
        s2, p2 = _one_sided(e, high, upper=False)
        if p1 is None or p2 is None:
            stat, p = None, None
        else:
            stat, p = (s1, p1) if p1 >= p2 else (s2, p2)
        edge = low if e.estimate - low < high - e.estimate else high
    extra = 0 if verdict != "undetermined" else additional_responses(e, edge, level, power)
    return TargetTest(e, target, verdict, p, stat, extra, power)


test_target.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
