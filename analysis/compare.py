"""Comparisons between groups: Rao–Scott tests, pairwise differences, periods, trends, alpha.

All variances are design-based (Taylor linearisation with sampling weights, see
:mod:`analysis.design`), with covariances between groups that share strata or PSUs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from analysis import intervals
from analysis.design import SurveyDesign, df_by_group, vcov_groups
from analysis.errors import AnalysisError
from analysis.estimators import Grouping, _answer_counts, item_values, make_grouping
from analysis.results import ComparisonTest, LinearTrend, PairwiseDifference, Reliability

ALTERNATIVES = ("two-sided", "less", "greater")


# --------------------------------------------------------------------------------------------
# multiple testing


def _adjust_sorted(
    p_values: Sequence[float | None], adjust: Callable[[np.ndarray], np.ndarray]
) -> list[float | None]:
    """Apply ``adjust`` to the finite p-values sorted ascending; ``None``/NaN entries are kept
    as ``None`` and every other value returns to its original position."""
    idx = [i for i, p in enumerate(p_values) if p is not None and np.isfinite(p)]
    out: list[float | None] = [None] * len(p_values)
    if not idx:
        return out
    p = np.array([p_values[i] for i in idx], dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = adjust(p[order])
    for rank, k in enumerate(order):
        out[idx[k]] = float(adjusted[rank])
    return out


def holm_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's (1979) step-down adjusted p-values (not Holm–Šidák); ``None`` entries are skipped.

    For sorted p₍₁₎ ≤ … ≤ p₍ₘ₎: p̃₍ᵢ₎ = min(1, maxⱼ≤ᵢ (m − j + 1)·p₍ⱼ₎) (R ``p.adjust("holm")``).
    """

    def step_down(p: np.ndarray) -> np.ndarray:
        m = len(p)
        return np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p))

    return _adjust_sorted(p_values, step_down)


def bh_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg (1995) false-discovery-rate adjusted p-values; ``None`` skipped.

    For sorted p₍ᵢ₎: p̃₍ᵢ₎ = min(1, minⱼ≥ᵢ m·p₍ⱼ₎/j) (R ``p.adjust("BH")``).
    """

    def step_up(p: np.ndarray) -> np.ndarray:
        m = len(p)
        ranked = p * m / np.arange(1, m + 1)
        return np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])

    return _adjust_sorted(p_values, step_up)


# --------------------------------------------------------------------------------------------
# group ratios with their covariance


def _ratios_with_vcov(
    design: SurveyDesign, a: np.ndarray, b: np.ndarray, g: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = design.weights
    sel = g >= 0
    gs = np.where(sel, g, 0)
    num = np.bincount(g[sel], weights=(w * a)[sel], minlength=n_groups)
    den = np.bincount(g[sel], weights=(w * b)[sel], minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
        z = np.where(sel, w * (a - r[gs] * b) / den[gs], 0.0)
    z = np.nan_to_num(z)
    if getattr(design, "rep_matrix", None) is not None:  # replicate weights (R svrVar)
        from analysis import replicates

        thetas = replicates.ratio_replicates(design, a, b, g, n_groups)  # type: ignore[arg-type]
        cov = replicates.covariance(design, thetas, r)  # type: ignore[arg-type]
    else:
        cov = vcov_groups(design, z, g, n_groups)
    n = np.bincount(g[sel & (b > 0)], minlength=n_groups)
    return r, cov, n


def _measure_arrays(
    data: pd.DataFrame, measure: str, items: Sequence[str], satisfied_from: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, valid) of the measure: prop (first item), ratio (all items) or mean (first item)."""
    if measure == "prop":
        x = item_values(data, items[0])
        valid = ~np.isnan(x)
        return (np.nan_to_num(x, nan=-np.inf) >= satisfied_from).astype(float), valid * 1.0, valid
    if measure == "mean":
        x = item_values(data, items[0])
        valid = ~np.isnan(x)
        return np.nan_to_num(x, nan=0.0), valid * 1.0, valid
    if measure == "ratio":
        s, v, _ = _answer_counts(data, items, satisfied_from)
        return s, v, np.ones(len(data), dtype=bool)
    raise AnalysisError(f"unknown measure {measure!r}; use prop, ratio or mean")


def pairwise_differences(
    labels: Sequence[dict[str, Any]],
    estimates: np.ndarray,
    cov: np.ndarray,
    df: float,
    *,
    confidence_level: float = 0.95,
    include: np.ndarray | None = None,
    measure: str = "prop",
) -> list[PairwiseDifference]:
    """All pairwise differences e_a − e_b (a listed before b) with t intervals, two-sided raw
    p-values and Holm and BH adjusted p-values over the pairs returned together.

    Var(e_a − e_b) = V_aa + V_bb − 2V_ab from the design covariance matrix; t with the domain's
    design degrees of freedom (Lumley 2010 §3.3, ``svycontrast``). The intervals are per
    comparison (not simultaneous): they go with ``p_value``, not with the adjusted p-values.
    """
    level = intervals.check_level(confidence_level)
    k = len(labels)
    keep = np.arange(k) if include is None else np.flatnonzero(include)
    if len(keep) < 2:
        return []
    ia, ib = np.triu_indices(len(keep), 1)
    ia, ib = keep[ia], keep[ib]
    diff = estimates[ia] - estimates[ib]
    var = cov[ia, ia] + cov[ib, ib] - 2 * cov[ia, ib]
    se = np.sqrt(np.maximum(var, 0.0))
    q = float(intervals.t_quantile(1 - (1 - level) / 2, df)) if df > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se
    p = 2 * intervals.t_sf(np.abs(t), np.full(t.shape, df if df > 0 else np.nan))
    ok = (se > 0) & np.isfinite(p)
    p_list: list[float | None] = [float(v) if o else None for v, o in zip(p, ok, strict=True)]
    holm = holm_adjust(p_list)
    bh = bh_adjust(p_list)
    out = []
    for j in range(len(diff)):
        s = float(se[j]) if ok[j] else None
        out.append(
            PairwiseDifference(
                labels[ia[j]],
                labels[ib[j]],
                float(estimates[ia[j]]),
                float(estimates[ib[j]]),
                float(diff[j]),
                s,
                float(diff[j] - q * se[j]) if s is not None else None,
                float(diff[j] + q * se[j]) if s is not None else None,
                float(df),
                p_list[j],
                holm[j],
                bh[j],
                level,
                measure=measure,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Rao–Scott


def rao_scott_test(
    design: SurveyDesign,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    domain: np.ndarray,
) -> tuple[float, float, float, float, float]:
    """Rao–Scott second-order corrected Pearson test of independence in a two-way table.

    Returns (F, ndf, ddf, p, X²). X² is Pearson's statistic on the weighted table scaled to the
    domain's sample size N; Δ̂ = (C'D⁻¹C/N)⁻¹ C'D⁻¹V̂D⁻¹C with C the interaction contrasts
    orthogonalised on the main effects, D = diag(p̂) of cell proportions and V̂ their design
    covariance; F = X²/tr(Δ̂) on d = tr(Δ̂)²/tr(Δ̂²) and d·ν degrees of freedom, ν = PSUs − strata
    of the domain (Rao & Scott 1984; R ``svychisq(~row + col, subset, statistic="F")``). On a
    calibrated (raked, post-stratified) design R's subset keeps every row, so N is the whole
    sample's size and ν the whole design's PSUs − strata, as here.
    """
    d_idx = np.flatnonzero(domain)
    r_codes, r_uniq = pd.factorize(row_codes[d_idx], sort=True)
    c_codes, c_uniq = pd.factorize(col_codes[d_idx], sort=True)
    nr, nc = len(r_uniq), len(c_uniq)
    if nr < 2 or nc < 2:
        nan = float("nan")
        return nan, nan, nan, nan, nan
    n_cells = nr * nc
    cells = np.full(design.n_rows, -1, dtype=np.int64)
    cells[d_idx] = r_codes + nr * c_codes  # rows vary fastest, as R's interaction()
    w = design.weights
    wd = np.where(domain, w, 0.0)
    big_w = wd.sum()
    p = np.bincount(cells[d_idx], weights=w[d_idx], minlength=n_cells) / big_w
    z = np.where(domain, w / big_w, 0.0)
    if getattr(design, "rep_matrix", None) is not None:  # replicate weights (R svrVar)
        from analysis import replicates

        cell_codes = np.where(cells >= 0, cells, 0)
        dom = np.where(domain, 0, -1)
        den = replicates.replicate_sums(design, np.ones(design.n_rows), dom, 1)  # type: ignore[arg-type]
        thetas = (
            np.vstack(
                [
                    replicates.replicate_sums(design, (cell_codes == c) * 1.0, dom, 1)[0]  # type: ignore[arg-type]
                    for c in range(n_cells)
                ]
            )
            / den
        )
        v = replicates.covariance(design, thetas, p)  # type: ignore[arg-type]
    else:
        v = vcov_groups(design, z, cells, n_cells, u=-wd / big_w, q=p)
    if design.calibrations:
        # R keeps every row of a calibrated design's subset (weight 0 outside it), so svychisq's
        # N = nrow(mm) is the whole sample and ν counts every PSU and stratum of the design
        n = float(design.n_rows)
        nu = float(df_by_group(design, np.zeros(design.n_rows, dtype=np.int64), 1)[0])
    else:
        n = float(len(d_idx))
        nu = float(df_by_group(design, np.where(domain, 0, -1), 1)[0])
    table = (p * n).reshape(nc, nr).T  # nr × nc
    expected = np.outer(table.sum(1), table.sum(0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = float(np.nansum((table - expected) ** 2 / expected))
    rows = np.tile(np.arange(nr), nc)
    cols = np.repeat(np.arange(nc), nr)
    x1 = np.column_stack(
        [np.ones(n_cells)]
        + [(rows == i).astype(float) for i in range(1, nr)]
        + [(cols == j).astype(float) for j in range(1, nc)]
    )
    inter = np.column_stack(
        [((rows == i) & (cols == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    coef, *_ = np.linalg.lstsq(x1, inter, rcond=None)
    cmat = inter - x1 @ coef
    with np.errstate(divide="ignore"):
        inv_p = np.where(p == 0, 0.0, 1.0 / p)
    cd = cmat * inv_p[:, None]
    denom = cmat.T @ cd / n
    numr = cd.T @ v @ cd
    delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(delta))
    tr2 = float(np.trace(delta @ delta))
    f = x2 / tr
    ndf = tr * tr / tr2
    ddf = ndf * nu
    pv = float(special.fdtrc(ndf, ddf, f)) if ddf > 0 else float("nan")
    return f, ndf, ddf, pv, x2


def wald_equality_test(
    estimates: np.ndarray, cov: np.ndarray, df: float
) -> tuple[float, float, float, float]:
    """Design-based Wald test that k group estimates (means or ratios) are all equal.

    W = (Cθ̂)ᵀ (C V̂ Cᵀ)⁻¹ (Cθ̂) with C the (k − 1) × k contrasts θᵢ − θₖ and V̂ the design
    covariance of the estimates; F = W/(k − 1) referred to F(k − 1, ν − (k − 1)), ν the
    domain's design degrees of freedom. For means this is R's
    ``regTermTest(svyglm(y ~ group, subset), ~group)`` (Lumley 2010, §5.2.1; W does not depend
    on which contrasts are tested). Groups without an estimate are left out. Returns
    (F, ndf, ddf, p), NaN when fewer than two groups remain or C V̂ Cᵀ is singular (reciprocal
    condition number below machine epsilon, where R's ``solve`` stops).
    """
    keep = np.isfinite(estimates)
    theta = estimates[keep]
    v = cov[np.ix_(keep, keep)]
    k = len(theta)
    nan = float("nan")
    if k < 2:
        return nan, nan, nan, nan
    contrasts = np.hstack([np.eye(k - 1), -np.ones((k - 1, 1))])
    d = contrasts @ theta
    cv = contrasts @ v @ contrasts.T
    # As R's solve(): refuse a (numerically) singular matrix rather than return a huge W, e.g.
    # when a group's variance cannot be estimated (a single PSU).
    if not np.all(np.isfinite(cv)) or 1.0 / np.linalg.cond(cv, 1) < np.finfo(float).eps:
        return nan, nan, nan, nan
    w = float(d @ np.linalg.solve(cv, d))
    ndf = float(k - 1)
    ddf = df - ndf
    f = w / ndf
    p = float(special.fdtrc(ndf, ddf, f)) if ddf > 0 and np.isfinite(f) else nan
    return f, ndf, ddf, p


def compare_groups(
    data: pd.DataFrame,
    design: SurveyDesign,
    by: str | Sequence[str],
    within: str | None = None,
    *,
    measure: str = "prop",
    items: Sequence[str] = ("q_overall",),
    satisfied_from: float = 4,
    confidence_level: float = 0.95,
    min_n: int = 30,
    pairs: bool = True,
) -> list[ComparisonTest]:
    """Compare groups (e.g. agencies) within each value of ``within`` (e.g. sector).

    For ``measure="prop"``: the Rao–Scott F test of share satisfied × group (R
    ``svychisq(~sat + agency, subset(design, sector == s), statistic="F")``) plus pairwise
    differences among groups with at least ``min_n`` respondents, with Holm and BH adjustment
    within each ``within`` value. For ``ratio`` and ``mean``: the design-based Wald test that all
    groups are equal (:func:`wald_equality_test`) and the same pairwise differences.
    """
    if design.n_rows != len(data):
        raise AnalysisError("the design and the data have different numbers of rows")
    a, b, valid = _measure_arrays(data, measure, list(items), satisfied_from)
    groups = make_grouping(data, by)
    if within is None:
        outer = Grouping(np.zeros(len(data), dtype=np.int64), ({},))
    else:
        outer = make_grouping(data, within)
    out = []
    for k, label in enumerate(outer.labels):
        domain = (outer.codes == k) & valid & (groups.codes >= 0)
        n = int(domain.sum())
        present = np.unique(groups.codes[domain])
        f = ndf = ddf = pv = x2 = float("nan")
        note = ""
        pair_list: tuple[PairwiseDifference, ...] = ()
        if n > 0:
            local = np.full(groups.size, -1, dtype=np.int64)
            local[present] = np.arange(len(present))
            g = np.where(domain, local[np.maximum(groups.codes, 0)], -1)
            est, cov, n_g = _ratios_with_vcov(design, a, b, g, len(present))
            df = float(df_by_group(design, np.where(domain, 0, -1), 1)[0])
            if measure == "prop":
                f, ndf, ddf, pv, x2 = rao_scott_test(design, a, groups.codes, domain)
            else:
                f, ndf, ddf, pv = wald_equality_test(est, cov, df)
                if not np.isfinite(f) and len(present) > 1:
                    note = (
                        "no test: the covariance of the group differences is singular "
                        "(e.g. a group with a single PSU)"
                    )
            if pairs:
                labels = [groups.labels[i] for i in present]
                pair_list = tuple(
                    pairwise_differences(
                        labels,
                        est,
                        cov,
                        df,
                        confidence_level=confidence_level,
                        include=n_g >= max(min_n, 1),
                        measure=measure,
                    )
                )
        out.append(
            ComparisonTest(
                label,
                _f(f),
                _f(ndf),
                _f(ddf),
                _f(pv),
                _f(x2),
                n,
                len(present),
                pair_list,
                note,
                method="rao-scott" if measure == "prop" else "wald",
                confidence_level=intervals.check_level(confidence_level),
            )
        )
    return out


def _f(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


# --------------------------------------------------------------------------------------------
# periods and trends


def _period_arrays(
    data: pd.DataFrame,
    design: SurveyDesign,
    period: str,
    measure: str,
    items: Sequence[str],
    satisfied_from: float,
) -> tuple[list[Any], np.ndarray, np.ndarray, float, np.ndarray]:
    """(periods sorted, estimates, their covariance, design df, respondents per period)."""
    if period not in data.columns:
        raise AnalysisError(f"period column {period!r} not found in the data")
    a, b, valid = _measure_arrays(data, measure, list(items), satisfied_from)
    grouping = make_grouping(data, period)
    g = np.where(valid, grouping.codes, -1)
    est, cov, n = _ratios_with_vcov(design, a, b, g, grouping.size)
    df = float(df_by_group(design, np.where(g >= 0, 0, -1), 1)[0])
    return [lab[period] for lab in grouping.labels], est, cov, df, n


def _period_setup(
    data: pd.DataFrame,
    design: SurveyDesign,
    period: str,
    measure: str,
    items: Sequence[str],
    satisfied_from: float,
) -> tuple[list[Any], np.ndarray, np.ndarray, float]:
    periods, est, cov, df, _ = _period_arrays(data, design, period, measure, items, satisfied_from)
    return periods, est, cov, df


def compare_periods(
    data: pd.DataFrame,
    design: SurveyDesign,
    period: str,
    *,
    first: Any = None,
    second: Any = None,
    measure: str = "prop",
    items: Sequence[str] = ("q_overall",),
    satisfied_from: float = 4,
    confidence_level: float = 0.95,
    min_n: int = 0,
) -> PairwiseDifference:
    """Difference ``first − second`` between two periods, with its t interval and two-sided p.

    By default ``first`` is the latest period and ``second`` the one before (periods sorted), so
    the difference is the change since the previous period; ``group_a`` is always ``first``.
    Var(e₁ − e₂) = V₁₁ + V₂₂ − 2V₁₂ includes the covariance between periods (0 when the periods
    are separate strata, as with stratum = service point × period); t on the design degrees of
    freedom (Lumley 2010 §3.3, R ``svycontrast(svyby(...), quote(first - second))``).
    Raises :class:`AnalysisError` when a period has fewer than ``min_n`` respondents: no change
    is reported from a period below the minimum sample.
    """
    periods, est, cov, df, n = _period_arrays(data, design, period, measure, items, satisfied_from)
    if len(periods) < 2:
        raise AnalysisError("need at least two periods to compare")
    for name, value in (("first", first), ("second", second)):
        if value is not None and value not in periods:
            raise AnalysisError(f"{name} period {value!r} is not in the data")
    i = periods.index(first) if first is not None else len(periods) - 1
    j = periods.index(second) if second is not None else len(periods) - 2
    if i == j:
        raise AnalysisError("compare two different periods")
    for k in (i, j):
        if n[k] < min_n:
            raise AnalysisError(
                f"period {periods[k]!r} has {int(n[k])} respondents, fewer than {min_n}: "
                "no change is reported"
            )
    order = np.array([i, j])
    (res,) = pairwise_differences(
        [{period: periods[i]}, {period: periods[j]}],
        est[order],
        cov[np.ix_(order, order)],
        df,
        confidence_level=confidence_level,
        measure=measure,
    )
    return res


def linear_trend(
    data: pd.DataFrame,
    design: SurveyDesign,
    period: str,
    *,
    measure: str = "prop",
    items: Sequence[str] = ("q_overall",),
    satisfied_from: float = 4,
    confidence_level: float = 0.95,
    alternative: str = "two-sided",
) -> LinearTrend:
    """Least-squares slope of the period estimates on period rank 0, 1, 2, ...

    slope = Σ c_t e_t with c_t = (t − t̄)/Σ(t − t̄)², Var = cᵀVc using the design covariance of the
    period estimates; t test with the design degrees of freedom (a linear contrast,
    Lumley 2010 §3.3).
    """
    if alternative not in ALTERNATIVES:
        raise AnalysisError(f"alternative must be one of {', '.join(ALTERNATIVES)}")
    periods, est, cov, df = _period_setup(data, design, period, measure, items, satisfied_from)
    if len(periods) < 3:
        raise AnalysisError("a trend needs at least three periods")
    t = np.arange(len(periods), dtype=float)
    c = (t - t.mean()) / ((t - t.mean()) ** 2).sum()
    slope = float(c @ est)
    se = float(np.sqrt(max(c @ cov @ c, 0.0)))
    level = intervals.check_level(confidence_level)
    if se <= 0 or df <= 0:
        return LinearTrend(tuple(periods), slope, None, None, None, df, None, level)
    q = float(intervals.t_quantile(1 - (1 - level) / 2, df))
    stat = slope / se
    if alternative == "two-sided":
        p = float(2 * intervals.t_sf(np.abs(stat), df))
    elif alternative == "greater":
        p = float(intervals.t_sf(stat, df))
    else:
        p = float(intervals.t_sf(-stat, df))
    return LinearTrend(tuple(periods), slope, se, slope - q * se, slope + q * se, df, p, level)


def cronbach_alpha(
    data: pd.DataFrame,
    elements: dict[str, list[str]],
    weights: np.ndarray | None = None,
) -> list[Reliability]:
    """Cronbach's (1951) alpha per element, α = k/(k − 1)·(1 − Σ s²_j / s²_total).

    Computed on respondents who answered every item of the element; variances are weighted with
    the (normalised) sampling weights when given. Elements with one item have no alpha.
    """
    out = []
    for name, items in elements.items():
        if len(items) < 2:
            out.append(Reliability(name, tuple(items), None, 0, "alpha needs at least two items"))
            continue
        x = np.column_stack([item_values(data, it) for it in items])
        ok = ~np.isnan(x).any(axis=1)
        x = x[ok]
        w = np.ones(len(x)) if weights is None else np.asarray(weights, float)[ok]
        if len(x) < 2:
            out.append(Reliability(name, tuple(items), None, len(x), "too few complete answers"))
            continue
        w = w / w.sum()
        mean = w @ x
        var_items = w @ (x - mean) ** 2
        tot = x.sum(axis=1)
        var_tot = w @ (tot - w @ tot) ** 2
        k = len(items)
        alpha = k / (k - 1) * (1 - var_items.sum() / var_tot) if var_tot > 0 else float("nan")
        out.append(
            Reliability(
                name,
                tuple(items),
                float(alpha) if np.isfinite(alpha) else None,
                len(x),
                "" if np.isfinite(alpha) else "no variation in the total score",
            )
        )
    return out
