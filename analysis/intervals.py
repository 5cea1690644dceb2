"""Confidence intervals for proportions and means under a complex design (vectorised).

Quantiles use Student's t with the design's degrees of freedom, as R's ``svyciprop`` does
(Lumley 2010, §2.3.1). Only ``scipy.special`` is imported (cheap at start-up).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from analysis.errors import AnalysisError

CI_METHODS = ("logit", "beta", "wilson", "wald")


def check_level(confidence_level: float) -> float:
    if not 0.0 < confidence_level < 1.0:
        raise AnalysisError(
            f"the confidence level must be between 0 and 1 (got {confidence_level}); "
            "write 0.95 for 95%"
        )
    return float(confidence_level)


def t_quantile(p: float | np.ndarray, df: float | np.ndarray) -> np.ndarray:
    """Quantile of Student's t with ``df`` degrees of freedom (normal for infinite df)."""
    df = np.asarray(df, dtype=float)
    p_arr = np.broadcast_to(np.asarray(p, dtype=float), df.shape)
    with np.errstate(invalid="ignore"):
        q = special.stdtrit(np.where(np.isfinite(df), df, 1.0), p_arr)
    quantile: np.ndarray = np.where(np.isfinite(df), q, special.ndtri(p_arr))
    return quantile


def t_sf(t: float | np.ndarray, df: float | np.ndarray) -> np.ndarray:
    """Upper-tail probability P(T > t) of Student's t (normal for infinite df)."""
    t = np.asarray(t, dtype=float)
    df = np.broadcast_to(np.asarray(df, dtype=float), t.shape)
    with np.errstate(invalid="ignore"):
        cdf = special.stdtr(np.where(np.isfinite(df), df, 1.0), t)
    tail: np.ndarray = np.where(np.isfinite(df), 1.0 - cdf, special.ndtr(-t))
    return tail


def wald_interval(
    estimate: np.ndarray, se: np.ndarray, df: np.ndarray, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """estimate ± t_{1−α/2, df}·se (R: ``confint(svymean(...), df=degf(design))``)."""
    q = t_quantile(1 - (1 - confidence_level) / 2, df)
    return estimate - q * se, estimate + q * se


def logit_interval(
    p: np.ndarray, se: np.ndarray, df: np.ndarray, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Interval computed on the logit scale and transformed back.

    logit(p̂) ± t_{1−α/2, df}·se(p̂)/(p̂(1 − p̂)), then expit; this is R's
    ``svyciprop(method="logit")`` (a quasi-binomial intercept-only ``svyglm``; Lumley 2010 §2.3.1).
    Undefined (NaN) for p̂ ∈ {0, 1}: see :func:`degenerate_interval`.
    """
    p = np.asarray(p, dtype=float)
    q = t_quantile(1 - (1 - confidence_level) / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.log(p / (1 - p))
        half = q * se / (p * (1 - p))
        lo = special.expit(eta - half)
        hi = special.expit(eta + half)
    bad = (p <= 0) | (p >= 1)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def logit_scale_interval(
    p: np.ndarray, se_logit: np.ndarray, df: np.ndarray, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """expit(logit(p̂) ± t_{1−α/2, df}·se_η) with the standard error se_η of logit(p̂) itself,
    e.g. a replicate variance of the replicates' logits (R ``svyciprop(method="logit")`` on a
    replicate design, whose ``svyglm`` refits the logit with every replicate weight)."""
    p = np.asarray(p, dtype=float)
    q = t_quantile(1 - (1 - confidence_level) / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.log(p / (1 - p))
        lo = special.expit(eta - q * se_logit)
        hi = special.expit(eta + q * se_logit)
    bad = (p <= 0) | (p >= 1)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def _beta_ppf(q: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        ppf: np.ndarray = special.betaincinv(a, b, q)
    return ppf


def clopper_pearson_interval(
    x: np.ndarray, n: np.ndarray, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial interval (Clopper & Pearson 1934), allowing non-integer x and n."""
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    alpha = 1 - confidence_level
    lo = np.where(x > 0, _beta_ppf(alpha / 2, np.maximum(x, 1e-300), n - x + 1), 0.0)
    hi = np.where(x < n, _beta_ppf(1 - alpha / 2, x + 1, np.maximum(n - x, 1e-300)), 1.0)
    return lo, hi


def korn_graubard_interval(
    p: np.ndarray,
    se: np.ndarray,
    n: np.ndarray,
    df: np.ndarray,
    confidence_level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Korn–Graubard (1998) interval: Clopper–Pearson on the design-effective sample size.

    n* = p̂(1 − p̂)/V̂ · (t_{α/2, n−1}/t_{α/2, df})², then Beta quantiles
    B(α/2; n*p̂, n*(1 − p̂) + 1) and B(1 − α/2; n*p̂ + 1, n*(1 − p̂)) — R's
    ``svyciprop(method="beta")``. NaN when the variance is zero (see :func:`degenerate_interval`).
    """
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = p * (1 - p) / (np.asarray(se) ** 2) * _df_adjustment(n, df, confidence_level)
        bad = ~np.isfinite(n_eff) | (n_eff <= 0)
        n_eff = np.where(bad, 1.0, n_eff)  # placeholder, masked below
        lo, hi = clopper_pearson_interval(n_eff * p, n_eff, confidence_level)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def _df_adjustment(n: np.ndarray, df: np.ndarray, confidence_level: float) -> np.ndarray:
    """Korn & Graubard's effective-size factor (t_{α/2, n−1} / t_{α/2, df})²."""
    alpha = 1 - confidence_level
    with np.errstate(divide="ignore", invalid="ignore"):
        factor: np.ndarray = (
            t_quantile(alpha / 2, np.asarray(n, float) - 1) / t_quantile(alpha / 2, df)
        ) ** 2
    return factor


def wilson_interval(
    p: np.ndarray, n_eff: np.ndarray, df: np.ndarray, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score interval on the effective sample size n* = p̂(1 − p̂)/V̂, t quantile."""
    z = t_quantile(1 - (1 - confidence_level) / 2, df)
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + z * z / n_eff
        centre = (p + z * z / (2 * n_eff)) / denom
        half = z * np.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff * n_eff)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def degenerate_interval(
    p: np.ndarray,
    n_kish: np.ndarray,
    n: np.ndarray,
    df: np.ndarray,
    confidence_level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Interval for a group where every respondent (or none) is satisfied.

    The linearised variance is 0 there, so R returns a zero-width logit interval and no
    Korn–Graubard interval. We use Korn & Graubard's (1998) construction with Kish's effective
    sample size n_K = (Σw)²/Σw² in place of the design-based one, adjusted by
    (t_{α/2, n−1}/t_{α/2, df})²: the exact Clopper–Pearson interval for x = p̂·n*, which for
    p̂ = 1 is [(α/2)^{1/n*}, 1] and for p̂ = 0 is [0, 1 − (α/2)^{1/n*}].
    """
    df_use = np.where(np.asarray(df, float) > 0, df, np.asarray(n, float) - 1)
    adj = _df_adjustment(n, df_use, confidence_level)
    adj = np.where(np.isfinite(adj) & (adj > 0), adj, 1.0)
    n_star = np.asarray(n_kish, float) * adj
    return clopper_pearson_interval(np.asarray(p, float) * n_star, n_star, confidence_level)


def proportion_interval(
    method: str,
    p: np.ndarray,
    se: np.ndarray,
    n: np.ndarray,
    df: np.ndarray,
    confidence_level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch on ``method`` in {"logit", "beta", "wilson", "wald"}."""
    if method == "logit":
        return logit_interval(p, se, df, confidence_level)
    if method == "beta":
        return korn_graubard_interval(p, se, n, df, confidence_level)
    if method == "wilson":
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.asarray(p) * (1 - np.asarray(p)) / np.asarray(se) ** 2
        return wilson_interval(p, n_eff, df, confidence_level)
    if method == "wald":
        return wald_interval(np.asarray(p, float), np.asarray(se, float), df, confidence_level)
    raise AnalysisError(f"unknown interval method {method!r}; use one of {', '.join(CI_METHODS)}")
