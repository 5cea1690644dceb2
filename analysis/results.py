"""Frozen result objects returned by the estimators, tests and comparisons.

Every number is kept at full precision: rounding and wording happen last, in
:mod:`analysis.summaries` or in the web reports.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

#: Status of an estimate.
#: ``ok`` — estimate and interval are reported;
#: ``insufficient_data`` — fewer respondents than the minimum sample rule allows (no numbers shown);
#: ``variance_not_estimable`` — the design gives the domain no degrees of freedom (e.g. a single
#: primary sampling unit), so no standard error or interval exists (never reported as SE 0).
STATUSES = ("ok", "insufficient_data", "variance_not_estimable")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: Kinds of estimate, for wording and units: a share of respondents (``share``), a share of
#: satisfied answers over several items (``answers``), a composite of element indices
#: (``composite``), a mean on the answer scale (``mean``), the 0–100 index (``index``), other.
PROPORTION_KINDS = ("share", "answers", "composite")


def measure_kind(measure: str, ci_method: str = "logit") -> str:
    """Kind of an estimate from its measure name (see :data:`PROPORTION_KINDS`).

    ``mean_index:…`` → ``index``; ``mean:…`` → ``mean``; ``share_satisfied:…`` and
    ``comprehensive_satisfaction`` → ``share``; ``satisfied_answers:…`` / ``element:…`` →
    ``answers``; ``composite`` → ``composite``. Another name is a share when its interval is one
    for proportions (logit, beta, wilson), else ``other``.
    """
    head = measure.split(":", 1)[0]
    kinds = {
        "mean_index": "index",
        "mean": "mean",
        "share_satisfied": "share",
        "comprehensive_satisfaction": "share",
        "satisfied_answers": "answers",
        "element": "answers",
        "composite": "composite",
    }
    if head in kinds:
        return kinds[head]
    return "share" if ci_method in ("logit", "beta", "wilson") else "other"


@dataclass(frozen=True)
class Estimate:
    """One estimate for one group (domain) of respondents.

    ``group`` maps each grouping column to its value (empty for the whole population).
    ``n`` counts respondents contributing to the estimate, ``n_eff`` is Kish's effective sample
    size (Σw)²/Σw² (Kish 1965) with sampling weights w, ``df`` the design degrees of freedom of the
    domain (PSUs − strata containing the domain, as R's ``degf``), ``deff`` the design effect
    (variance over the variance of simple random sampling of the same size without replacement
    from a population of Σw, Kish 1965, R's ``deff=TRUE``; ``None`` when Σw ≤ n; for a
    degenerate group the weighting design effect n/n_eff, explained in ``note``; see
    :data:`analysis.estimators.DEFF_DEFINITION`).
    """

    group: dict[str, Any]
    measure: str
    n: int
    n_eff: float
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: float | None
    deff: float | None
    status: str = "ok"
    note: str = ""
    confidence_level: float = 0.95
    ci_method: str = "logit"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with non-finite numbers as ``None`` (JSON-ready)."""
        return {k: _clean(v) for k, v in asdict(self).items()}

    @property
    def kind(self) -> str:
        """``share``, ``answers``, ``composite``, ``mean``, ``index`` or ``other``
        (:func:`measure_kind`)."""
        return measure_kind(self.measure, self.ci_method)


@dataclass(frozen=True)
class Target:
    """A target for an index: a threshold (``high is None``) or a band ``[low, high]``.

    Values are proportions (0.70 for 70%). A threshold target is "met" when the estimate is above
    ``low`` with statistical confidence; a band (e.g. the 70–75% of Điện Biên's 2015 plan) reports
    where the estimate lies relative to the band.
    """

    low: float
    high: float | None = None

    def __post_init__(self) -> None:
        from analysis.errors import AnalysisError

        if not (0.0 <= self.low <= 1.0) or (self.high is not None and not 0.0 <= self.high <= 1.0):
            raise AnalysisError(
                f"a target must be a proportion between 0 and 1 (got {self.low}"
                f"{'' if self.high is None else ':' + str(self.high)}); write 0.70 for 70%"
            )
        if self.high is not None and self.high < self.low:
            raise AnalysisError(
                f"a target band must go from low to high (got {self.low}:{self.high})"
            )

    @property
    def is_band(self) -> bool:
        return self.high is not None

    def label(self) -> str:
        if self.high is None:
            return f"{self.low:g}"
        return f"{self.low:g}:{self.high:g}"


@dataclass(frozen=True)
class TargetTest:
    """Verdict of an estimate against a target.

    ``verdict`` for a threshold: ``met`` (interval entirely above the threshold), ``not_met``
    (entirely below) or ``undetermined`` (the interval contains the threshold). For a band:
    ``above_band``, ``within_band`` (interval inside the band), ``below_band`` or ``undetermined``
    (the interval straddles a band edge). ``insufficient_data`` / ``variance_not_estimable``
    when the estimate itself has that status.

    ``p_value`` is **one-sided**, in the direction of the estimate (``alternative``: ``greater``
    for H₁ p > bound, ``less`` for H₁ p < bound), against the relevant bound, and comes from the
    same procedure as the interval (it is below (1 − level)/2 exactly when the interval excludes
    the bound). Inside a band it is the larger of the two one-sided p-values (two one-sided
    tests) and ``alternative`` is None. ``statistic`` is the t statistic for logit and Wald
    intervals, None for intervals inverted numerically.

    ``additional_n`` is how many more respondents would be needed to reach a decision at the
    current estimate with power ``power``; 0 when decided, ``None`` when the estimate equals the
    bound (no sample size can decide). It never exceeds the remaining population
    (``population`` − n) when ``population`` (a known population size) is given; ``census`` is
    True when it equals the remaining population (a census of the rest decides).
    ``deff_sizing`` is the design effect used for it; ``additional_n_range`` the responses needed
    at the ends of a 95% interval for that design effect, given when it rests on few degrees of
    freedom (see :mod:`analysis.targets`).
    """

    estimate: Estimate
    target: Target
    verdict: str
    p_value: float | None
    statistic: float | None
    additional_n: int | None
    power: float = 0.8
    note: str = ""
    alternative: str | None = None
    population: float | None = None
    census: bool = False
    deff_sizing: float | None = None
    additional_n_range: tuple[int, int] | None = None


@dataclass(frozen=True)
class PairwiseDifference:
    """Difference ``estimate_a − estimate_b`` between two groups, with its interval and p-values.

    ``ci_low``/``ci_high`` and ``p_value`` (two-sided) are per comparison: the t interval and the
    t test of the same statistic. ``p_holm`` and ``p_bh`` are adjusted over the family of pairs
    reported together (Holm 1979; Benjamini & Hochberg 1995); they are not paired with
    ``ci_low``/``ci_high``, which are not simultaneous intervals. ``measure`` is what was
    compared (``prop``, ``ratio`` or ``mean``), so that a difference of means is not written in
    percentage points.
    """

    group_a: dict[str, Any]
    group_b: dict[str, Any]
    estimate_a: float
    estimate_b: float
    difference: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: float | None
    p_value: float | None
    p_holm: float | None = None
    p_bh: float | None = None
    confidence_level: float = 0.95
    measure: str = "prop"

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ComparisonTest:
    """A test that groups differ, within one domain, in F form.

    ``method="rao-scott"`` (share satisfied): second-order corrected test of independence,
    ``statistic`` = X²/tr(Δ̂) referred to F(d, d·ν) with d = tr(Δ̂)²/tr(Δ̂²) and ν the domain's
    design degrees of freedom (Rao & Scott 1984; R: ``svychisq(..., statistic="F")``).
    ``method="wald"`` (ratios, means): W/(k − 1) referred to F(k − 1, ν − k + 1), see
    :func:`analysis.compare.wald_equality_test`; ``pearson_chisq`` is then None. The groups
    differ significantly when ``p_value`` < 1 − ``confidence_level``.
    """

    within: dict[str, Any]
    statistic: float | None
    ndf: float | None
    ddf: float | None
    p_value: float | None
    pearson_chisq: float | None
    n: int
    groups: int
    pairs: tuple[PairwiseDifference, ...] = field(default_factory=tuple)
    note: str = ""
    method: str = "rao-scott"
    confidence_level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        out = {k: _clean(v) for k, v in asdict(self).items() if k != "pairs"}
        out["pairs"] = [p.to_dict() for p in self.pairs]
        return out


@dataclass(frozen=True)
class LinearTrend:
    """Linear trend of an estimate over ordered periods: slope per period with its interval."""

    periods: tuple[Any, ...]
    slope: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: float | None
    p_value: float | None
    confidence_level: float = 0.95


@dataclass(frozen=True)
class Reliability:
    """Cronbach's alpha of the items of one element (Cronbach 1951), with sampling weights."""

    element: str
    items: tuple[str, ...]
    alpha: float | None
    n: int
    note: str = ""
