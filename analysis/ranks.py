"""League tables with their uncertainty: simultaneous confidence intervals for ranks and
empirical-Bayes shrunken estimates.

**Ranks.** Units (agencies, service points...) are ranked by a design-based estimate θ̂_j
(share satisfied, ratio or mean; sampling weights; rank 1 = highest). The rank of unit j is
r_j = 1 + #{k : θ_k > θ_j}. Following Mogstad, Romano, Shaikh & Wilhelm (2024, "Inference for
ranks with applications to mobility across neighbourhoods and academic achievement across
countries", *Review of Economic Studies* 91(1), §3.2), with Σ̂ the design covariance of the
estimates and se_jk = √(Σ̂_jj + Σ̂_kk − 2Σ̂_jk),

    ĉ = (1 − α) quantile of max_{j≠k} (Z_j − Z_k)/se_jk,   Z ~ N(0, Σ̂),

(by Monte Carlo with a fixed seed), and the simultaneous confidence set for all ranks is

    [1 + #{k : θ̂_k − θ̂_j > ĉ·se_jk},  p − #{k : θ̂_j − θ̂_k > ĉ·se_jk}],

which covers every unit's true rank at once with probability ≥ 1 − α asymptotically. Units
with fewer than ``min_n`` respondents, or without an estimable standard error, are not ranked
(they get a note); a share whose linearised variance is 0 is ranked with the binomial floor
below. Differences use the full covariance matrix, so units sharing strata or PSUs
are handled (R: ``svyby(..., covmat=TRUE)``).

**Shrinkage.** Small units' estimates are noisy; the empirical-Bayes estimate (Morris 1983,
"Parametric empirical Bayes inference", *JASA* 78; Fay & Herriot 1979) of θ_j under
θ̂_j ~ N(θ_j, s_j²), θ_j ~ N(μ, τ²) is

    θ̃_j = μ̂ + (1 − B_j)(θ̂_j − μ̂),   B_j = s_j²/(s_j² + τ̂²),   sd_j = √((1 − B_j) s_j²),

with μ̂ and τ̂² the Paule–Mandel random-effects estimates (statsmodels ``combine_effects``,
``method_re="pm"``; Paule & Mandel 1982) over the units with s_j > 0. A share whose linearised
variance is 0 (everyone gave the same verdict) uses s_j² = μ̂(1 − μ̂)/n_eff,j (binomial variance
at the overall mean on Kish's effective size) so that it is shrunk rather than left at 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

# imported with the module (about 1 s), not on a report's first league table
from statsmodels.stats.meta_analysis import combine_effects

from analysis import intervals
from analysis.errors import AnalysisError
from analysis.estimators import make_grouping

#: Monte Carlo draws for the critical value, and the seed (results are reproducible).
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20240101
#: An interval covering more than this share of the table is "most of the table".
WIDE_SHARE = 0.5
#: :func:`rank_estimates` computes the Monte Carlo critical value (:func:`rank_intervals`, the
#: same draws and numbers as :func:`rank_units`) up to this many ranked units, and the Bonferroni
#: one above it (its cost, draws × p², is about 0.3 s at 150 units and grows with p²).
EXACT_UNITS = 150
RANK_METHODS = ("auto", "monte-carlo", "bonferroni")


@dataclass(frozen=True, kw_only=True)
class RankInterval:
    """One unit of a league table.

    ``rank`` is 1 + the number of units with a higher estimate (1 = highest); ``rank_low`` and
    ``rank_high`` bound the true rank simultaneously for all ranked units at
    ``confidence_level`` (None for units not ranked, see ``note``); ``n_ranked`` is the table's
    size. ``shrunk`` is the empirical-Bayes estimate, ``shrinkage`` its weight B on the overall
    mean (0: the unit's own estimate, 1: the overall mean) and ``shrunk_sd`` its posterior SD.
    """

    group: dict[str, Any]
    measure: str
    n: int
    estimate: float | None
    se: float | None
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    n_ranked: int
    shrunk: float | None
    shrinkage: float | None
    shrunk_sd: float | None
    confidence_level: float = 0.95
    critical_value: float | None = None
    note: str = ""

    @property
    def wide(self) -> bool:
        """Whether the rank interval spans more than half of the table."""
        if self.rank_low is None or self.rank_high is None or self.n_ranked < 2:
            return False
        return (self.rank_high - self.rank_low + 1) > WIDE_SHARE * self.n_ranked

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, float) and not np.isfinite(v):
                out[k] = None
        out["wide"] = self.wide
        return out


def rank_intervals(
    estimates: np.ndarray,
    cov: np.ndarray,
    *,
    confidence_level: float = 0.95,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Ranks (1 = highest) and simultaneous rank intervals of p estimates with covariance
    ``cov`` (Mogstad–Romano–Shaikh–Wilhelm 2024; module docstring). Returns (rank, low, high,
    critical value ĉ)."""
    level = intervals.check_level(confidence_level)
    theta = np.asarray(estimates, dtype=float)
    p = theta.shape[0]
    rank = 1 + (theta[None, :] > theta[:, None]).sum(axis=1)
    if p < 2:
        return rank, rank.copy(), rank.copy(), float("nan")
    v = np.diag(cov)
    se = np.sqrt(np.maximum(v[:, None] + v[None, :] - 2 * cov, 0.0))
    off = ~np.eye(p, dtype=bool)
    if not (se[off] > 0).all():
        raise AnalysisError("two units have a difference with no sampling variance: cannot rank")
    inv_se = np.where(off, 1.0 / np.where(off, se, 1.0), 0.0)
    rng = np.random.default_rng(seed)
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    maxima = np.empty(draws)
    chunk = max(1, 4_000_000 // (p * p))
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        z = rng.standard_normal((k, p)) @ root.T
        diff = (z[:, :, None] - z[:, None, :]) * inv_se[None, :, :]
        maxima[start : start + k] = diff.reshape(k, -1).max(axis=1)
    c = float(np.quantile(maxima, level, method="higher"))
    better = (theta[None, :] - theta[:, None]) > c * se  # [j, k]: k significantly above j
    worse = (theta[:, None] - theta[None, :]) > c * se  # [j, k]: j significantly above k
    low = 1 + (better & off).sum(axis=1)
    high = p - (worse & off).sum(axis=1)
    return rank, low, high, c


def bonferroni_critical_value(p: int, confidence_level: float = 0.95) -> float:
    """ĉ_B = Φ⁻¹(1 − α/(p(p − 1))): Bonferroni's bound for the p(p − 1) one-sided pair
    comparisons of the rank intervals (see :func:`rank_estimates`)."""
    from scipy import special

    level = intervals.check_level(confidence_level)
    if p < 2:
        return float("nan")
    return float(-special.ndtri((1 - level) / (p * (p - 1))))


def rank_bounds(
    estimates: np.ndarray, variances: np.ndarray, critical_value: float, *, block: int = 512
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks (1 = highest) and the rank bounds [1 + #{k : θ̂_k − θ̂_j > ĉ·se_jk},
    p − #{k : θ̂_j − θ̂_k > ĉ·se_jk}] of independent estimates (se_jk = √(v_j + v_k)), in blocks
    of ``block`` units so that memory stays O(block·p)."""
    theta = np.asarray(estimates, dtype=float)
    v = np.asarray(variances, dtype=float)
    p = theta.shape[0]
    rank = np.empty(p, dtype=np.int64)
    low = np.empty(p, dtype=np.int64)
    high = np.empty(p, dtype=np.int64)
    for start in range(0, p, block):
        rows = slice(start, min(p, start + block))
        gap = theta[None, :] - theta[rows, None]  # [j, k]: θ̂_k − θ̂_j
        bar = critical_value * np.sqrt(v[rows, None] + v[None, :])
        rank[rows] = 1 + (gap > 0).sum(axis=1)
        # the diagonal (k = j) has gap 0 and a positive bar: never counted
        low[rows] = 1 + (gap > bar).sum(axis=1)
        high[rows] = p - (-gap > bar).sum(axis=1)
    return rank, low, high


def rank_estimates(
    keys: Sequence[dict[str, Any]],
    estimates: Sequence[float | None] | np.ndarray,
    variances: Sequence[float | None] | np.ndarray,
    n: Sequence[float] | np.ndarray,
    n_eff: Sequence[float] | np.ndarray,
    *,
    measure: str = "share_satisfied:q_overall",
    proportion: bool = True,
    confidence_level: float = 0.95,
    min_n: int = 30,
    method: str = "auto",
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> list[RankInterval]:
    """League table of units whose estimates are **independent** (covariance 0), from their
    estimates and variances alone: no rows, e.g. the :class:`analysis.results.Estimate` objects
    of :func:`analysis.aggregates.estimate_share_from_counts` under the counter design, where
    every stratum (service point × quarter) belongs to one unit.

    ``keys``: each unit's label; ``estimates`` θ̂_j (None/NaN: no respondent), ``variances``
    their design variances (se²), ``n`` respondents, ``n_eff`` Kish's effective sizes (for the
    binomial floor of a share with variance 0); ``proportion``: the estimates are shares.
    Ranks, bounds, shrinkage (Morris 1983 with Paule–Mandel τ̂²), notes and order are those of
    :func:`rank_units`: given the same estimates and variances of ≤ :data:`EXACT_UNITS` ranked
    units the result is identical (the same Monte Carlo draws).

    **Critical value.** The simultaneous confidence set of Mogstad, Romano, Shaikh & Wilhelm
    (2024, §3.2) needs ĉ with P(max_{j≠k} T_jk ≤ ĉ) ≥ 1 − α, T_jk = (θ̂_j − θ̂_k − (θ_j −
    θ_k))/se_jk. ``method``:

    - ``"monte-carlo"``: the (1 − α) quantile of the max statistic by simulation
      (:func:`rank_intervals` with the diagonal covariance), cost O(draws·p²);
    - ``"bonferroni"``: ĉ_B = Φ⁻¹(1 − α/(p(p − 1))). Each T_jk is asymptotically N(0, 1), so
      P(max T_jk > ĉ_B) ≤ Σ_{j≠k} P(T_jk > ĉ_B) = α (Bonferroni's inequality, any dependence
      between the pairs): the rank intervals cover all true ranks at once with asymptotic
      probability ≥ 1 − α, as the Monte Carlo ones do. ĉ_B is at least the exact quantile, so
      its intervals contain the Monte Carlo ones (up to simulation error); the excess is small
      when p is large (at p = 2,000 and 95%: ĉ_B = 5.57 against about 5.4), because the
      extreme pair comparisons rarely exceed ĉ together. Cost O(1) for ĉ, O(p²) comparisons
      (in blocks) for the bounds;
    - ``"auto"`` (default): Monte Carlo up to :data:`EXACT_UNITS` ranked units, Bonferroni
      above.

    The result's ``critical_value`` is the ĉ used. For units sharing strata or PSUs (a
    non-diagonal covariance) use :func:`rank_units`.
    """
    level = intervals.check_level(confidence_level)
    if method not in RANK_METHODS:
        raise AnalysisError(f"unknown rank method {method!r}; use one of {', '.join(RANK_METHODS)}")
    _check_draws(draws)
    size = len(keys)
    arrays = []
    for name, values in (
        ("estimates", estimates),
        ("variances", variances),
        ("n", n),
        ("n_eff", n_eff),
    ):
        arr = np.array([np.nan if x is None else x for x in values], dtype=float)
        if arr.shape != (size,):
            raise AnalysisError(f"give one value of {name} per unit ({size} units)")
        arrays.append(arr)
    est, var, n_g, neff = arrays
    if (var < 0).any():
        raise AnalysisError("a variance is negative")
    n_g = np.nan_to_num(n_g, nan=0.0)

    def ranker(idx: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
        theta, vv = est[idx], v[idx]
        use_mc = method == "monte-carlo" or (method == "auto" and idx.size <= EXACT_UNITS)
        if use_mc or idx.size < 2:
            rank, low, high, c = rank_intervals(
                theta, np.diag(vv), confidence_level=level, draws=draws, seed=seed
            )
            return rank, low, high, np.array(c)
        c = bonferroni_critical_value(idx.size, level)
        rank, low, high = rank_bounds(theta, vv, c)
        return rank, low, high, np.array(c)

    return _league_table(
        list(keys),
        measure,
        est,
        var,
        n_g,
        neff,
        proportion=proportion,
        level=level,
        min_n=min_n,
        ranker=ranker,
    )


def shrink(
    estimates: np.ndarray, variances: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Empirical-Bayes estimates (module docstring): (θ̃, B, posterior sd, μ̂, τ̂²)."""
    theta = np.asarray(estimates, dtype=float)
    s2 = np.asarray(variances, dtype=float)
    if theta.shape[0] < 2:
        return theta.copy(), np.zeros_like(theta), np.sqrt(s2), float(theta.mean()), 0.0
    res = combine_effects(theta, s2, method_re="pm")
    tau2 = float(max(res.tau2, 0.0))
    mu = float(res.mean_effect_re)
    b = s2 / (s2 + tau2) if tau2 > 0 else np.ones_like(s2)
    return mu + (1 - b) * (theta - mu), b, np.sqrt((1 - b) * s2), mu, tau2


def rank_units(
    data: pd.DataFrame,
    design: Any,
    by: str | Sequence[str],
    *,
    measure: str = "prop",
    items: Sequence[str] = ("q_overall",),
    satisfied_from: float = 4,
    confidence_level: float = 0.95,
    min_n: int = 30,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> list[RankInterval]:
    """League table of the units in ``by``: estimate, rank with its simultaneous interval,
    and empirical-Bayes shrunken estimate, sorted by rank (unranked units last).

    ``measure``: ``prop`` (share satisfied with the first item), ``ratio`` (satisfied answers
    over ``items``) or ``mean`` (mean of the first item), with the design's sampling weights and
    covariance (Taylor or replicate). Units with fewer than ``min_n`` respondents are shrunk but
    not ranked. Without rows (estimates and variances of independent units, e.g. from
    aggregates) see :func:`rank_estimates`.
    """
    from analysis.compare import _measure_arrays, _ratios_with_vcov

    level = intervals.check_level(confidence_level)
    if design.n_rows != len(data):
        raise AnalysisError("the design and the data have different numbers of rows")
    _check_draws(draws)
    a, b, valid = _measure_arrays(data, measure, list(items), satisfied_from)
    groups = make_grouping(data, by)
    g = np.where(valid, groups.codes, -1)
    est, cov, n_g = _ratios_with_vcov(design, a, b, g, groups.size)
    w = design.weights
    sel = g >= 0
    sw = np.bincount(g[sel], weights=w[sel] * (b[sel] > 0), minlength=groups.size)
    sw2 = np.bincount(g[sel], weights=(w[sel] ** 2) * (b[sel] > 0), minlength=groups.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = sw * sw / sw2

    def ranker(idx: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, ...]:
        sub = cov[np.ix_(idx, idx)].copy()
        sub[np.diag_indices_from(sub)] = var[idx]  # a degenerate share: its binomial floor
        rank, low, high, c = rank_intervals(
            est[idx], sub, confidence_level=level, draws=draws, seed=seed
        )
        return rank, low, high, np.array(c)

    name = {"prop": "share_satisfied", "ratio": "satisfied_answers", "mean": "mean"}[measure]
    label = f"{name}:{items[0] if measure != 'ratio' else ','.join(items)}"
    return _league_table(
        groups.labels,
        label,
        est,
        np.diag(cov).copy(),
        n_g.astype(float),
        n_eff,
        proportion=measure == "prop",
        level=level,
        min_n=min_n,
        ranker=ranker,
    )


def _check_draws(draws: int) -> None:
    if draws < 100:
        raise AnalysisError("draws must be at least 100 (option --draws)")


def _league_table(
    labels: Sequence[dict[str, Any]],
    label: str,
    est: np.ndarray,
    var: np.ndarray,
    n_g: np.ndarray,
    n_eff: np.ndarray,
    *,
    proportion: bool,
    level: float,
    min_n: int,
    ranker: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, ...]],
) -> list[RankInterval]:
    """The league table from the units' estimates and variances (shared by
    :func:`rank_units` and :func:`rank_estimates`); ``ranker(idx, var)`` returns the ranks,
    bounds and critical value of the ranked units ``idx`` given their variances ``var``."""
    size = len(labels)
    has = np.isfinite(est) & (n_g > 0)
    # shrinkage: every unit with an estimate
    s2 = var.copy()
    mu0 = float(np.average(est[has], weights=n_g[has])) if has.any() else np.nan
    if proportion:
        with np.errstate(divide="ignore", invalid="ignore"):
            floor = mu0 * (1 - mu0) / n_eff
        s2 = np.where(has & (s2 <= 0), floor, s2)
    use = has & (s2 > 0) & np.isfinite(s2)
    shrunk = np.full(size, np.nan)
    bw = np.full(size, np.nan)
    sd = np.full(size, np.nan)
    if use.sum() >= 1:
        sh, bb, ss, _, _ = shrink(est[use], s2[use])
        shrunk[use], bw[use], sd[use] = sh, bb, ss
    # ranks: units with enough respondents and a positive variance (a share with variance 0
    # is ranked with the binomial floor used for shrinkage, and says so)
    var0 = var.copy()
    degenerate = has & (var <= 0) & (s2 > 0) & np.isfinite(s2)
    if degenerate.any():
        var = np.where(degenerate, s2, var)
    ranked = has & (n_g >= max(min_n, 1)) & (var > 0) & np.isfinite(var)
    idx = np.flatnonzero(ranked)
    rank = np.full(size, -1)
    low = np.full(size, -1)
    high = np.full(size, -1)
    c = float("nan")
    if idx.size:
        r, lo, hi, cc = ranker(idx, var)
        rank[idx], low[idx], high[idx], c = r, lo, hi, float(cc)
    out = []
    for k in range(size):
        note = ""
        if not has[k]:
            note = "no respondents with an answer"
        elif not ranked[k]:
            note = (
                f"not ranked: fewer than {max(min_n, 1)} respondents"
                if n_g[k] < max(min_n, 1)
                else "not ranked: its sampling variance cannot be estimated or is 0"
            )
        elif degenerate[k]:
            note = (
                "everyone gave the same verdict (variance 0): ranked and shrunk with the "
                "binomial variance at the overall share on Kish's effective sample size"
            )
        out.append(
            RankInterval(
                group=labels[k],
                measure=label,
                n=int(n_g[k]),
                estimate=float(est[k]) if has[k] else None,
                se=float(np.sqrt(var0[k])) if has[k] and np.isfinite(var0[k]) else None,
                rank=int(rank[k]) if ranked[k] else None,
                rank_low=int(low[k]) if ranked[k] else None,
                rank_high=int(high[k]) if ranked[k] else None,
                n_ranked=int(idx.size),
                shrunk=float(shrunk[k]) if use[k] else None,
                shrinkage=float(bw[k]) if use[k] else None,
                shrunk_sd=float(sd[k]) if use[k] else None,
                confidence_level=level,
                critical_value=c if np.isfinite(c) else None,
                note=note,
            )
        )
    out.sort(key=lambda r: (r.rank is None, r.rank or 0, -(r.estimate or 0.0)))
    return out


def summarize_rank(item: RankInterval, *, name: str | None = None, language: str = "en") -> str:
    """One sentence for one unit of a league table, in English or Vietnamese, e.g.
    "Sở Tư pháp is ranked 3 of 27 (95% interval for the rank: 1–9)." A rank whose interval
    covers more than half of the table says that the data cannot place the unit."""
    if language not in ("en", "vi"):
        raise AnalysisError(f"language must be 'en' or 'vi' (got {language!r})")
    vi = language == "vi"
    who = name or (", ".join(str(v) for v in item.group.values()) or ("Toàn tỉnh" if vi else "All"))
    level = f"{100 * item.confidence_level:g}"
    if vi:
        level = level.replace(".", ",")
    if item.rank is None:
        if vi:
            return f"{who}: không xếp hạng ({_note_vi(item)})."
        return f"{who}: not ranked ({item.note.removeprefix('not ranked: ')})."
    p, r, lo, hi = item.n_ranked, item.rank, item.rank_low, item.rank_high
    span = f"{lo}–{hi}" if lo != hi else f"{lo}"
    if item.wide:
        if vi:
            return (
                f"{who} đứng thứ {r}/{p}, nhưng khoảng tin cậy {level}% của thứ hạng là từ "
                f"{lo} đến {hi}: số liệu chưa đủ để xác định vị trí của đơn vị này so với phần "
                "lớn các đơn vị khác."
            )
        return (
            f"{who} is ranked {r} of {p}, but its {level}% interval for the rank runs from "
            f"{lo} to {hi}: the data cannot tell where it stands among most of the units."
        )
    if vi:
        return f"{who} đứng thứ {r}/{p} (khoảng tin cậy {level}% của thứ hạng: {span})."
    return f"{who} is ranked {r} of {p} ({level}% interval for the rank: {span})."


def _note_vi(item: RankInterval) -> str:
    if item.n == 0 or item.estimate is None:
        return "không có người trả lời"
    if "fewer than" in item.note:
        return f"chưa đủ số phiếu, n = {item.n}"
    return "không ước lượng được sai số"
