"""What may be shown: the minimum-sample rule and the NCHS standard for proportions.

NCHS Data Presentation Standards for Proportions (Parker J.D., Talih M., Malec D.J., et al. 2017,
*Vital and Health Statistics* series 2, no. 175), applied with the Korn–Graubard interval:

1. the denominator sample size n must be at least 30, and the effective sample size
   n_eff = p̂(1 − p̂)/V̂ (at most n) at least 30 — otherwise **suppress**;
2. an absolute Korn–Graubard interval width ≤ 0.05 → **present**;
3. a width in (0.05, 0.30) → **present** if the relative width (width / p̂) ≤ 130%, else
   **suppress** (the complementary proportion 1 − p̂ may still be shown, noted);
4. a width ≥ 0.30 → **suppress**;
5. design degrees of freedom < 8 → **flag** for statistical review (when otherwise presented);
6. an estimate of 0% or 100% that passes the rules above is **flagged** for review (its interval
   here is Korn–Graubard on Kish's effective sample size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis import intervals
from analysis.results import Estimate


@dataclass(frozen=True)
class PresentationDecision:
    """``action`` is ``present``, ``flag`` (present, marked for review) or ``suppress``."""

    action: str
    reasons: tuple[str, ...]
    n_eff: float | None
    ci_width: float | None
    relative_width: float | None


def minimum_sample_ok(estimate: Estimate, min_n: int = 30) -> bool:
    """The platform's minimum sample rule: at least ``min_n`` respondents (default 30)."""
    return estimate.n >= min_n


def nchs_proportion_standard(estimate: Estimate) -> PresentationDecision:
    """Apply the NCHS (Parker et al. 2017) presentation standard to a proportion estimate."""
    e = estimate
    if e.estimate is None or e.status == "insufficient_data":
        return PresentationDecision("suppress", ("sample size below 30",), None, None, None)
    if e.n < 30:
        return PresentationDecision("suppress", ("sample size below 30",), None, None, None)
    if e.se is None or e.df is None:
        return PresentationDecision("suppress", ("variance not estimable",), None, None, None)
    p = e.estimate
    level = e.confidence_level
    degenerate = e.se <= 0
    if degenerate:
        n_eff = float(e.n_eff)
        lo, hi = intervals.degenerate_interval(
            np.array([p]), np.array([e.n_eff]), np.array([e.n]), np.array([e.df]), level
        )
    else:
        n_eff = min(float(e.n), p * (1 - p) / e.se**2) if 0 < p < 1 else float(e.n_eff)
        lo, hi = intervals.korn_graubard_interval(
            np.array([p]), np.array([e.se]), np.array([e.n]), np.array([e.df]), level
        )
    width = float(hi[0] - lo[0])
    rel = width / p if p > 0 else float("inf")
    reasons: list[str] = []
    if n_eff < 30:
        return PresentationDecision(
            "suppress", ("effective sample size below 30",), n_eff, width, rel
        )
    action = "present"
    if width >= 0.30:
        return PresentationDecision(
            "suppress", ("confidence interval width 30 points or more",), n_eff, width, rel
        )
    if width > 0.05 and rel > 1.30:
        comp = width / (1 - p) if p < 1 else float("inf")
        reason = "relative confidence interval width above 130%"
        if comp <= 1.30:
            reason += " (the complementary proportion may be shown)"
        return PresentationDecision("suppress", (reason,), n_eff, width, rel)
    if e.df < 8:
        action = "flag"
        reasons.append("fewer than 8 degrees of freedom: statistical review")
    if p <= 0 or p >= 1:
        action = "flag"
        reasons.append("estimate of 0% or 100%: statistical review")
    return PresentationDecision(action, tuple(reasons), n_eff, width, rel)
