"""Weighted satisfaction estimators by group, with Taylor-linearised variances.

Every estimator here is a ratio of weighted totals within a domain (group) g,

    R̂_g = Σ_{i∈g} w_i a_i / Σ_{i∈g} w_i b_i,

with **sampling weights** w_i (design weights, not frequencies). Its influence values are
z_i = w_i (a_i − R̂_g b_i) / Σ_{i∈g} w_i b_i (Binder 1983; Lumley 2010, *Complex Surveys*, §2.2),
whose total's design variance comes from :mod:`analysis.design`:

- share satisfied with one item: a = 1[answer ≥ satisfied_from], b = 1 over valid answers
  (R: ``svymean(~sat, sub)`` / ``svyciprop``);
- share of satisfied answers over several items (an element or the whole questionnaire, the
  SIPAS-style index): a = number of satisfied answers, b = number of valid answers
  (R: ``svyratio(~sat_answers, ~answers, sub)``);
- mean score: a = answer, b = 1 over valid answers (R: ``svymean(~q, sub, na.rm=TRUE)``), and the
  0–100 index M = 100·(mean − 1)/4;
- comprehensive satisfaction: share of respondents satisfied on every item they answered;
- composite index Σ_k c_k E_k of element indices E_k (weights c_k, equal by default), whose
  influence values are Σ_k c_k z_{ik}.

"Not applicable" and blank answers are excluded from every denominator. Groups are computed at
once with bincount on group codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import pandas as pd

from analysis import intervals
from analysis.design import SurveyDesign, df_by_group, variance_by_group
from analysis.errors import AnalysisError
from analysis.results import Estimate

if TYPE_CHECKING:
    from analysis.replicates import ReplicateDesign

DEGENERATE_NOTE = (
    "every respondent in this group gave the same verdict ({what}), so the linearised variance "
    "is 0 and the usual design effect is undefined; the interval is Korn–Graubard on Kish's "
    "effective sample size and deff is Kish's weighting effect n/n_eff"
)
NOT_ESTIMABLE_NOTE = (
    "the design gives this group no degrees of freedom (e.g. a single primary sampling unit), "
    "so its sampling variance cannot be estimated"
)
INSUFFICIENT_NOTE = "fewer than {min_n} respondents: too few to report"
#: The one design-effect definition of every estimate (Kish 1965; R ``svymean(deff=TRUE)``).
DEFF_DEFINITION = (
    "deff = design variance / variance of a simple random sample of the same n drawn without "
    "replacement from a population of Σw (R svymean(..., deff=TRUE)); not given when the "
    "weights add up to n or less (not scaled to a population); Kish's n/n_eff for a group "
    "where everyone gave the same verdict (see its note)"
)


# --------------------------------------------------------------------------------------------
# grouping


@dataclass(frozen=True, eq=False)
class Grouping:
    """Group codes per row (−1: in no group) and the label of each group."""

    codes: np.ndarray
    labels: tuple[dict[str, Any], ...]

    @property
    def size(self) -> int:
        return len(self.labels)


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [c for c in by.split(",") if c]
    return list(by)


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def make_grouping(data: pd.DataFrame, by: str | Sequence[str] | None) -> Grouping:
    """Cross-classify rows by the ``by`` columns (sorted); blank values belong to no group."""
    cols = _as_list(by)
    if not cols:
        return Grouping(np.zeros(len(data), dtype=np.int64), ({},))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise AnalysisError(f"grouping column {missing[0]!r} not found in the data")
    code = np.zeros(len(data), dtype=np.int64)
    uniques_list = []
    for c in cols:
        k, uniq = pd.factorize(data[c], sort=True)
        uniques_list.append(np.asarray(uniq, dtype=object))
        code = np.where((k < 0) | (code < 0), -1, code * max(len(uniq), 1) + k)
    if len(cols) == 1:
        labels = tuple({cols[0]: _py(v)} for v in uniques_list[0])
        return Grouping(code, labels)
    ok = code >= 0
    inv, uniq = pd.factorize(code[ok], sort=True)
    out = np.full(len(data), -1, dtype=np.int64)
    out[ok] = inv
    sizes = [len(u) for u in uniques_list]
    labels_l = []
    for key in np.asarray(uniq):
        parts = []
        rem = int(key)
        for s in reversed(sizes):
            parts.append(rem % s)
            rem //= s
        parts.reverse()
        labels_l.append({c: _py(u[p]) for c, u, p in zip(cols, uniques_list, parts, strict=True)})
    return Grouping(out, tuple(labels_l))


def groupings_for(
    data: pd.DataFrame, by: str | Sequence[str] | None, include_total: bool
) -> list[Grouping]:
    out = []
    if _as_list(by):
        out.append(make_grouping(data, by))
    if include_total or not _as_list(by):
        out.append(make_grouping(data, None))
    return out


# --------------------------------------------------------------------------------------------
# items


def _numeric_column(data: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """A column as floats (NaN for blanks), or an error naming ``what`` and the first bad row."""
    if column not in data.columns:
        raise AnalysisError(f"{what} {column!r} not found in the data")
    s = data[column]
    if not pd.api.types.is_numeric_dtype(s):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna() & (s.astype(str).str.strip() != "")
        if bad.any():
            raise AnalysisError(
                f"{what} {column!r} is not numeric (e.g. {s[bad].iloc[0]!r} in row "
                f"{int(np.flatnonzero(bad.to_numpy())[0]) + 1})"
            )
        s = conv
    values: np.ndarray = s.to_numpy(dtype=float, na_value=np.nan)
    return values


def item_values(data: pd.DataFrame, item: str, scale: tuple[int, int] = (1, 5)) -> np.ndarray:
    """Answers of one item as floats, NaN for blank / not applicable; checked against the scale."""
    x = _numeric_column(data, item, "item column")
    lo, hi = scale
    if x.size and (np.nanmin(x, initial=lo) < lo or np.nanmax(x, initial=hi) > hi):
        finite = x[~np.isnan(x)]
        bad_v = finite[(finite < lo) | (finite > hi)][0]
        raise AnalysisError(
            f"item column {item!r} has the value {bad_v:g}, outside the {lo}–{hi} scale "
            "(leave not-applicable answers blank)"
        )
    return x


#: Columns of a questionnaire export hold answers on the 1–5 scale: ``q_<code>``.
ITEM_PREFIX = "q_"
AUTO = "auto"


def item_scale(column: str, scale: tuple[int, int] | str | None = AUTO) -> tuple[int, int] | None:
    """The answer scale a column is declared on: ``scale`` if given, (1, 5) for a questionnaire
    item (``q_<code>``) when ``scale="auto"``, else None (any number)."""
    if scale == AUTO:
        return (1, 5) if column.startswith(ITEM_PREFIX) else None
    return scale  # type: ignore[return-value]


def numeric_values(
    data: pd.DataFrame, column: str, scale: tuple[int, int] | str | None = AUTO
) -> np.ndarray:
    """Values of any numeric column as floats, NaN for blanks; checked against its declared
    scale (:func:`item_scale`), and refused when infinite."""
    sc = item_scale(column, scale)
    if sc is not None:
        return item_values(data, column, sc)
    x = _numeric_column(data, column, "column")
    inf = np.isinf(x)
    if inf.any():
        raise AnalysisError(
            f"column {column!r} holds an infinite value in row {int(np.flatnonzero(inf)[0]) + 1}"
        )
    return x


# --------------------------------------------------------------------------------------------
# core


def is_replicate(design: Any) -> TypeGuard[ReplicateDesign]:
    """Whether ``design`` has replicate weights (:class:`analysis.replicates.ReplicateDesign`)."""
    return getattr(design, "rep_matrix", None) is not None


def _calibrated(design: Any) -> bool:
    return bool(getattr(design, "calibrations", ()))


@dataclass(frozen=True, eq=False)
class _Core:
    estimate: np.ndarray  # (G, m)
    var: np.ndarray  # (G, m)
    df: np.ndarray  # (G,)
    n: np.ndarray  # (G, m) respondents with b > 0
    n_eff: np.ndarray  # (G, m) Kish
    nobs: np.ndarray  # (G,) rows in the domain
    deff: np.ndarray  # (G, m)
    nrow: np.ndarray  # (G,) R's nrow(design) of the domain: its rows, or all rows if calibrated
    var_logit: np.ndarray | None = None  # (G, m) replicate variance of logit(estimate)


def _ratio_core(
    design: SurveyDesign,
    a: np.ndarray,
    b: np.ndarray,
    valid: np.ndarray | None,
    grouping: Grouping,
    combos: np.ndarray | None = None,
) -> _Core:
    """Ratios Σw·a/Σw·b of the m rows of a, b (shape m × n) within every group, with variances.

    ``combos`` (m × k) appends k linear combinations of the m ratios (composite indices).
    """
    w = design.weights
    g_all = grouping.codes if valid is None else np.where(valid, grouping.codes, -1)
    n_groups = grouping.size
    sel = g_all >= 0
    if not sel.all():
        idx = np.flatnonzero(sel)
        g, ws, a_s, b_s = g_all[idx], w[idx], a[:, idx], b[:, idx]
    else:
        idx = None
        g, ws, a_s, b_s = g_all, w, a, b
    m = a.shape[0]
    k = 0 if combos is None else combos.shape[1]
    n_sel = g.shape[0]
    wsum = np.bincount(g, weights=ws, minlength=n_groups)
    nobs = np.bincount(g, minlength=n_groups).astype(float)
    est = np.empty((n_groups, m + k))
    e = np.empty((m + k, n_sel))  # influence values per unit weight, one row per measure
    n_resp = np.empty((n_groups, m + k))
    n_eff = np.empty((n_groups, m + k))
    w2 = ws * ws
    tmp = np.empty(n_sel)

    def counts(has: np.ndarray, col: int) -> None:
        n_resp[:, col] = np.bincount(g, weights=has, minlength=n_groups)
        sw = np.bincount(g, weights=np.multiply(ws, has, out=tmp), minlength=n_groups)
        sw2 = np.bincount(g, weights=np.multiply(w2, has, out=tmp), minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff[:, col] = sw * sw / sw2

    for j in range(m):
        aj, bj = a_s[j], b_s[j]
        num = np.bincount(g, weights=np.multiply(ws, aj, out=tmp), minlength=n_groups)
        den = np.bincount(g, weights=np.multiply(ws, bj, out=tmp), minlength=n_groups)
        pos = den > 0
        den_safe = np.where(pos, den, 1.0)
        r = np.where(pos, num / den_safe, np.nan)
        est[:, j] = r
        ej = e[j]
        np.multiply(np.where(pos, r, 0.0)[g], bj, out=ej)
        np.subtract(aj, ej, out=ej)
        np.divide(ej, den_safe[g], out=ej)
        counts((bj > 0).astype(float), j)
    if combos is not None:
        est[:, m:] = est[:, :m] @ combos
        e[m:] = combos.T @ e[:m]
        has = (b_s > 0).any(axis=0).astype(float)
        for c in range(m, m + k):
            counts(has, c)
    z = e * ws  # (m + k, n_sel)
    zt = z.T  # Fortran-ordered view: contiguous columns for bincount
    var_logit = None
    if is_replicate(design):
        var, var_logit = _replicate_ratio_variance(design, a, b, g_all, n_groups, est, combos)
    elif idx is not None:
        z_full = np.zeros((m + k, design.n_rows))
        z_full[:, idx] = z
        var = variance_by_group(design, z_full.T, g_all, n_groups)
    else:
        var = variance_by_group(design, zt, g_all, n_groups)
    df = df_by_group(design, g_all, n_groups)
    # design effect (DEFF_DEFINITION): V / V_srswor, V_srswor = (1 − n/W)/n · s²,
    # s² = W·Σw e² · n/(n − 1); undefined when W ≤ n (R: NA, or Inf at W = n)
    swe2 = np.empty_like(var)
    for j in range(m + k):
        swe2[:, j] = np.bincount(g, weights=np.multiply(z[j], e[j], out=tmp), minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = (wsum * nobs / (nobs - 1))[:, None] * swe2
        fpc = np.where(wsum > nobs, (wsum - nobs) / (wsum * nobs), np.nan)
        deff = var / (s2 * fpc[:, None])
    # Korn–Graubard's n: R's nrow(design) keeps every row of a calibrated design's domain
    nrow = np.full(n_groups, float(design.n_rows)) if design.calibrations else nobs
    return _Core(est, var, df, n_resp, n_eff, nobs, deff, nrow, var_logit)


def _replicate_ratio_variance(
    design: Any,
    a: np.ndarray,
    b: np.ndarray,
    g: np.ndarray,
    n_groups: int,
    est: np.ndarray,
    combos: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Replicate variances of the m ratios (and their k combinations) of every group, and of
    their logits (R's svyciprop(method="logit") on replicates: svyglm's replicate variance of
    the intercept logit(θ̂_r))."""
    from analysis import replicates

    m = a.shape[0]
    thetas = [replicates.ratio_replicates(design, a[j], b[j], g, n_groups) for j in range(m)]
    if combos is not None:
        stacked = np.stack(thetas, axis=-1)  # G × R × m
        thetas += [stacked @ combos[:, c] for c in range(combos.shape[1])]
    var = np.column_stack(
        [replicates.svr_variance(design, t, est[:, j]) for j, t in enumerate(thetas)]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        var_logit = np.column_stack(
            [
                replicates.svr_variance(design, np.log(t / (1 - t)), np.log(e / (1 - e)))
                for t, e in zip(thetas, est.T, strict=True)
            ]
        )
    return var, var_logit


def _build(
    core: _Core,
    grouping: Grouping,
    measures: Sequence[str],
    *,
    proportion_like: Sequence[bool],
    ci_method: str,
    confidence_level: float,
    min_n: int,
    transform: Sequence[tuple[float, float] | None] | None = None,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Estimate]:
    """Turn core arrays into Estimate objects (intervals, statuses, notes). ``bounds`` (G × m
    arrays) gives intervals computed by the caller (Woodruff intervals of quantiles)."""
    level = intervals.check_level(confidence_level)
    out: list[Estimate] = []
    n_groups = grouping.size
    df = core.df
    for j, measure in enumerate(measures):
        p = core.estimate[:, j]
        var = core.var[:, j]
        se = np.sqrt(var)
        n = core.n[:, j]
        nobs = core.nobs
        if proportion_like[j]:
            method = ci_method
            if method == "logit" and core.var_logit is not None:
                lo, hi = intervals.logit_scale_interval(p, np.sqrt(core.var_logit[:, j]), df, level)
            else:
                lo, hi = intervals.proportion_interval(method, p, se, core.nrow, df, level)
            degenerate = (var <= 0) & ((p <= 0) | (p >= 1))
            if degenerate.any():
                dlo, dhi = intervals.degenerate_interval(p, core.n_eff[:, j], core.nrow, df, level)
                lo = np.where(degenerate, dlo, lo)
                hi = np.where(degenerate, dhi, hi)
        elif bounds is not None:
            method = ci_method
            lo, hi = bounds[0][:, j], bounds[1][:, j]
            degenerate = np.zeros(n_groups, dtype=bool)
        else:
            method = "wald"
            lo, hi = intervals.wald_interval(p, se, df, level)
            degenerate = np.zeros(n_groups, dtype=bool)
        deff = core.deff[:, j]
        tr = transform[j] if transform is not None else None
        for k in range(n_groups):
            nk = int(n[k])
            label = grouping.labels[k]
            if nk < min_n or nk == 0:
                out.append(
                    Estimate(
                        label,
                        measure,
                        nk,
                        float(core.n_eff[k, j]) if nk else 0.0,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        "insufficient_data",
                        INSUFFICIENT_NOTE.format(min_n=max(min_n, 1)),
                        level,
                        method,
                    )
                )
                continue
            est = float(p[k])
            if tr is not None:
                est = tr[0] + tr[1] * est
            if df[k] <= 0:
                out.append(
                    Estimate(
                        label,
                        measure,
                        nk,
                        float(core.n_eff[k, j]),
                        est,
                        None,
                        None,
                        None,
                        float(df[k]),
                        None,
                        "variance_not_estimable",
                        NOT_ESTIMABLE_NOTE,
                        level,
                        method,
                    )
                )
                continue
            s, lo_k, hi_k, d_k = float(se[k]), float(lo[k]), float(hi[k]), float(deff[k])
            note = ""
            if degenerate[k]:
                what = "all satisfied" if p[k] >= 1 else "none satisfied"
                note = DEGENERATE_NOTE.format(what=what)
                d_k = float(nobs[k] / core.n_eff[k, j])
            elif var[k] <= 0 and bounds is None:
                # A census of the group: the value is exact, whatever the interval method.
                note = "the sampling variance is 0 (every unit of the group was observed)"
                lo_k = hi_k = float(p[k])
            if tr is not None:
                s = abs(tr[1]) * s
                lo_k, hi_k = tr[0] + tr[1] * lo_k, tr[0] + tr[1] * hi_k
            out.append(
                Estimate(
                    label,
                    measure,
                    nk,
                    float(core.n_eff[k, j]),
                    est,
                    s,
                    lo_k,
                    hi_k,
                    float(df[k]),
                    d_k if np.isfinite(d_k) else None,
                    "ok",
                    note,
                    level,
                    method,
                )
            )
    return out


def _check_method(ci_method: str) -> None:
    if ci_method not in intervals.CI_METHODS:
        raise AnalysisError(
            f"unknown interval method {ci_method!r}; use one of {', '.join(intervals.CI_METHODS)}"
        )


def _check_design(data: pd.DataFrame, design: SurveyDesign) -> None:
    if design.n_rows != len(data):
        raise AnalysisError(
            f"the design has {design.n_rows} rows but the data {len(data)}: build the design "
            "from the same data"
        )


def _run(
    data: pd.DataFrame,
    design: SurveyDesign,
    by: str | Sequence[str] | None,
    include_total: bool,
    a: np.ndarray,
    b: np.ndarray,
    valid: np.ndarray | None,
    measures: Sequence[str],
    proportion_like: Sequence[bool],
    ci_method: str,
    confidence_level: float,
    min_n: int,
    combos: np.ndarray | None = None,
    transform: Sequence[tuple[float, float] | None] | None = None,
) -> list[Estimate]:
    _check_design(data, design)
    _check_method(ci_method)
    if min_n < 0:
        raise AnalysisError("the minimum sample size cannot be negative")
    out: list[Estimate] = []
    for grouping in groupings_for(data, by, include_total):
        core = _ratio_core(design, a, b, valid, grouping, combos)
        out.extend(
            _build(
                core,
                grouping,
                measures,
                proportion_like=proportion_like,
                ci_method=ci_method,
                confidence_level=confidence_level,
                min_n=min_n,
                transform=transform,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# public estimators


def estimate_proportion(
    data: pd.DataFrame,
    item: str,
    design: SurveyDesign,
    by: str | Sequence[str] | None = None,
    *,
    satisfied_from: float = 4,
    ci_method: str = "logit",
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
    scale: tuple[int, int] = (1, 5),
) -> list[Estimate]:
    """Share satisfied with one item: Σw·1[x ≥ satisfied_from] / Σw over valid answers, by group.

    Sampling weights from ``design``; blank answers are outside the domain (R
    ``svyciprop(~I(q >= 4), subset(design, !is.na(q)))``). Intervals: logit (default),
    Korn–Graubard ``beta``, ``wilson`` on the effective sample size or ``wald``, t with the
    domain's degrees of freedom (Lumley 2010 §2.3.1; Korn & Graubard 1998).
    """
    x = item_values(data, item, scale)
    valid = ~np.isnan(x)
    a = (x >= satisfied_from).astype(float)[None, :]
    b = valid.astype(float)[None, :]
    return _run(
        data,
        design,
        by,
        include_total,
        a,
        b,
        valid,
        [f"share_satisfied:{item}"],
        [True],
        ci_method,
        confidence_level,
        min_n,
    )


def _answer_counts(
    data: pd.DataFrame, items: Sequence[str], satisfied_from: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not items:
        raise AnalysisError("give at least one item column")
    n = len(data)
    sat = np.zeros(n)
    answered = np.zeros(n)
    all_sat = np.ones(n, dtype=bool)
    for it in items:
        x = item_values(data, it)
        ok = x == x  # not NaN
        s = x >= satisfied_from  # False for NaN
        sat += s
        answered += ok
        all_sat &= s | ~ok
    return sat, answered, all_sat


def estimate_ratio(
    data: pd.DataFrame,
    items: Sequence[str],
    design: SurveyDesign,
    by: str | Sequence[str] | None = None,
    *,
    satisfied_from: float = 4,
    ci_method: str = "logit",
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
    name: str = "satisfied_answers",
) -> list[Estimate]:
    """Share of satisfied answers over a set of items (the SIPAS-style element/overall index).

    R̂ = Σ_i w_i s_i / Σ_i w_i v_i with s_i the number of the respondent's answers ≥
    ``satisfied_from`` and v_i the number of valid answers (blank / not applicable excluded);
    sampling weights; ratio linearisation (R ``svyratio(~sat_answers, ~answers, sub)``; Lumley
    2010 §2.3). Use ``ci_method="wald"`` for R's estimate ± t·se.
    """
    sat, answered, _ = _answer_counts(data, items, satisfied_from)
    return _run(
        data,
        design,
        by,
        include_total,
        sat[None, :],
        answered[None, :],
        None,
        [f"{name}:{','.join(items)}"],
        [True],
        ci_method,
        confidence_level,
        min_n,
    )


def comprehensive_satisfaction(
    data: pd.DataFrame,
    items: Sequence[str],
    design: SurveyDesign,
    by: str | Sequence[str] | None = None,
    *,
    satisfied_from: float = 4,
    ci_method: str = "logit",
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
) -> list[Estimate]:
    """Share of respondents satisfied on every item they answered ("hài lòng toàn diện").

    Weighted proportion (sampling weights) among respondents with at least one valid answer
    (Ministry of Health decision 3869/QĐ-BYT, 2019). Same variance and intervals as
    :func:`estimate_proportion`.
    """
    _, answered, all_sat = _answer_counts(data, items, satisfied_from)
    valid = answered > 0
    return _run(
        data,
        design,
        by,
        include_total,
        (all_sat & valid).astype(float)[None, :],
        valid.astype(float)[None, :],
        valid,
        ["comprehensive_satisfaction"],
        [True],
        ci_method,
        confidence_level,
        min_n,
    )


def estimate_mean(
    data: pd.DataFrame,
    item: str,
    design: SurveyDesign,
    by: str | Sequence[str] | None = None,
    *,
    index: bool = False,
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
    scale: tuple[int, int] | str | None = AUTO,
) -> list[Estimate]:
    """Weighted mean Σw·x/Σw over non-blank values (sampling weights), or its 0–100 index.

    ``item`` may be any numeric column (a score, a waiting time); it is checked against its
    declared scale (:func:`item_scale`: 1–5 for ``q_<code>`` items or when ``scale`` is given).
    With ``index=True`` (a 1–5 item) the estimate is M = 100·(mean − 1)/4 (ACSI-style
    rescaling), its SE 25·SE(mean). Interval: estimate ± t_{df}·se (R ``svymean(~x,
    subset(design, !is.na(x)))``, ``confint(df=degf)``; Lumley 2010 §2.3).
    """
    x = numeric_values(data, item, (1, 5) if index and scale == AUTO else scale)
    valid = ~np.isnan(x)
    a = np.where(valid, x, 0.0)[None, :]
    b = valid.astype(float)[None, :]
    measure = f"mean_index:{item}" if index else f"mean:{item}"
    tr = [(-25.0, 25.0)] if index else None
    return _run(
        data,
        design,
        by,
        include_total,
        a,
        b,
        valid,
        [measure],
        [False],
        "wald",
        confidence_level,
        min_n,
        transform=tr,
    )


def _total_core(
    design: SurveyDesign, x: np.ndarray, valid: np.ndarray, grouping: Grouping
) -> _Core:
    """Totals Σ_{i∈g} w_i x_i of every group over non-blank values, with their variances.

    Influence values z_i = w_i x_i (Lumley 2010 §2.2). deff as R's ``svytotal(deff=TRUE)``:
    V / (W² s² (W − n)/(W n)), s² the weighted variance of x with n/(n − 1)."""
    w = design.weights
    n_groups = grouping.size
    g_all = np.where(valid, grouping.codes, -1)
    sel = g_all >= 0
    g = g_all[sel]
    xs = x[sel]
    ws = w[sel]
    est = np.bincount(g, weights=ws * xs, minlength=n_groups)
    wsum = np.bincount(g, weights=ws, minlength=n_groups)
    nobs = np.bincount(g, minlength=n_groups).astype(float)
    sw2 = np.bincount(g, weights=ws * ws, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = wsum * wsum / sw2
        mean = est / wsum
    if is_replicate(design):
        from analysis import replicates

        var = replicates.total_variance(design, np.where(sel, x, 0.0), g_all, n_groups)
        df = replicates.df_by_group(design, g_all, n_groups)
    else:
        z = np.where(sel, w * np.where(sel, x, 0.0), 0.0)
        var = variance_by_group(design, z, g_all, n_groups)
        df = df_by_group(design, g_all, n_groups)
    dev = xs - mean[g]
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.bincount(g, weights=ws * dev * dev, minlength=n_groups) / wsum
        s2 = s2 * nobs / (nobs - 1)
        fpc = np.where(wsum > nobs, (wsum - nobs) / (wsum * nobs), np.nan)
        deff = var / (wsum * wsum * s2 * fpc)
    nrow = np.full(n_groups, float(design.n_rows)) if _calibrated(design) else nobs

    def col(v: np.ndarray) -> np.ndarray:
        return v[:, None]

    return _Core(col(est), col(var), df, col(nobs), col(n_eff), nobs, col(deff), nrow)


def estimate_total(
    data: pd.DataFrame,
    column: str,
    design: SurveyDesign,
    by: str | Sequence[str] | None = None,
    *,
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
    scale: tuple[int, int] | str | None = AUTO,
) -> list[Estimate]:
    """Weighted total Σw·x over non-blank values of any numeric column, by group.

    Sampling weights, so the total estimates the population total (e.g. minutes waited by all
    clients). Variance of the total of z_i = w_i x_i; interval estimate ± t_{df}·se; deff as R's
    ``svytotal(deff=TRUE)``. R: ``svyby(~x, ~g, subset(design, !is.na(x)), svytotal)``
    (Lumley 2010 §2.2).
    """
    x = numeric_values(data, column, scale)
    valid = ~np.isnan(x)
    _check_design(data, design)
    out: list[Estimate] = []
    for grouping in groupings_for(data, by, include_total):
        core = _total_core(design, np.where(valid, x, 0.0), valid, grouping)
        out.extend(
            _build(
                core,
                grouping,
                [f"total:{column}"],
                proportion_like=[False],
                ci_method="wald",
                confidence_level=confidence_level,
                min_n=min_n,
            )
        )
    return out


def _quantile_rule(xs: np.ndarray, cumw: np.ndarray, total: float, p: float) -> float:
    """R's ``qrule_math`` on values sorted ascending with their cumulative weights: the value
    at the last position whose cumulative weight is ≤ p·W, or the next one unless
    p·W − cumw is 0 (Hyndman & Fan 1996 type 1 with weights).

    "≤" and "is 0" are judged to a relative 1e-12 of W, so that weights c·w give the same
    quantile and interval as w: at a step of the weighted distribution (p = cumw/W exactly,
    which an interval bound p ± z·se reaches when se is 0) rounding would otherwise decide
    the side, differently for different scales of the same weights."""
    target = p * total
    tolerance = 1e-12 * abs(total)
    hits = np.flatnonzero(cumw <= target + tolerance)
    pos = int(hits[-1]) if hits.size else 0
    nxt = pos if pos == len(xs) - 1 else pos + 1
    return float(xs[pos] if abs(target - cumw[pos]) <= tolerance else xs[nxt])


def estimate_quantile(
    data: pd.DataFrame,
    column: str,
    design: SurveyDesign,
    by: str | Sequence[str] | None = None,
    *,
    quantiles: Sequence[float] = (0.5,),
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
    scale: tuple[int, int] | str | None = AUTO,
) -> list[Estimate]:
    """Weighted quantiles of any numeric column by group, with Woodruff (1952) intervals.

    q̂_p = the smallest value whose share of the weight at or below it reaches p (R's default
    ``qrule="math"``, sampling weights). Interval: p̂ = weighted share of x ≤ q̂, its design SE,
    the t interval p̂ ± t_{df}·se inverted through the same rule; se = width/(2 t_{df}).
    R: ``svyquantile(~x, subset(design, !is.na(x)), quantiles, interval.type="mean")``
    (survey ≥ 4.1 defaults; Lumley 2010 §2.4.1). ``deff`` is not given.
    """
    qs = [float(q) for q in quantiles]
    if not qs or any(not 0.0 <= q <= 1.0 for q in qs):
        raise AnalysisError(f"quantiles must be between 0 and 1 (got {quantiles}); e.g. 0.5")
    level = intervals.check_level(confidence_level)
    x = numeric_values(data, column, scale)
    valid = ~np.isnan(x)
    _check_design(data, design)
    w = design.weights
    out: list[Estimate] = []
    for grouping in groupings_for(data, by, include_total):
        g_all = np.where(valid, grouping.codes, -1)
        rows = np.flatnonzero(g_all >= 0)
        rows = rows[w[rows] != 0]
        order = rows[np.lexsort((x[rows], g_all[rows]))]
        bounds = np.searchsorted(g_all[order], np.arange(grouping.size + 1))
        sorted_parts = []
        for k in range(grouping.size):
            part = order[bounds[k] : bounds[k + 1]]
            cw = np.cumsum(w[part].astype(np.longdouble))
            sorted_parts.append((x[part], cw.astype(float), float(cw[-1]) if part.size else 0.0))
        for p in qs:
            qhat = np.full(grouping.size, np.nan)
            for k, (xs, cw, tot) in enumerate(sorted_parts):
                if xs.size:
                    qhat[k] = _quantile_rule(xs, cw, tot, p)
            below = (x <= qhat[np.maximum(grouping.codes, 0)]) & valid
            core = _ratio_core(
                design, below.astype(float)[None, :], valid.astype(float)[None, :], valid, grouping
            )
            se_p = np.sqrt(core.var[:, 0])
            half = intervals.t_quantile(1 - (1 - level) / 2, core.df) * se_p
            lo_p = core.estimate[:, 0] - half
            hi_p = core.estimate[:, 0] + half
            est = np.empty_like(core.estimate)
            est[:, 0] = qhat
            lo = np.full(grouping.size, np.nan)
            hi = np.full(grouping.size, np.nan)
            for k, (xs, cw, tot) in enumerate(sorted_parts):
                if xs.size and np.isfinite(lo_p[k]) and lo_p[k] >= 0:
                    lo[k] = _quantile_rule(xs, cw, tot, float(lo_p[k]))
                if xs.size and np.isfinite(hi_p[k]) and hi_p[k] <= 1:
                    hi[k] = _quantile_rule(xs, cw, tot, float(hi_p[k]))
            q_crit = intervals.t_quantile(1 - (1 - level) / 2, core.df)
            with np.errstate(invalid="ignore", divide="ignore"):
                se_q = (hi - lo) / (2 * q_crit)
            qcore = replace(
                core,
                estimate=est,
                var=(se_q * se_q)[:, None],
                deff=np.full_like(core.deff, np.nan),
            )
            out.extend(
                _build(
                    qcore,
                    grouping,
                    [f"quantile_{p:g}:{column}"],
                    proportion_like=[False],
                    ci_method="woodruff",
                    confidence_level=level,
                    min_n=min_n,
                    bounds=(lo[:, None], hi[:, None]),
                )
            )
    return out


def parse_elements(spec: str) -> dict[str, list[str]]:
    """Parse ``"access=q_a1,q_a2;staff=q_s1"`` into {element: [items]}."""
    out: dict[str, list[str]] = {}
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise AnalysisError(f"element {part!r} must be written name=item1,item2")
        name, items = part.split("=", 1)
        cols = [c.strip() for c in items.split(",") if c.strip()]
        if not name.strip() or not cols:
            raise AnalysisError(f"element {part!r} must be written name=item1,item2")
        out[name.strip()] = cols
    if not out:
        raise AnalysisError("no elements given")
    return out


def element_indices(
    data: pd.DataFrame,
    elements: Mapping[str, Sequence[str]],
    design: SurveyDesign,
    by: str | Sequence[str] | None = None,
    *,
    element_weights: Mapping[str, float] | None = None,
    satisfied_from: float = 4,
    ci_method: str = "logit",
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
) -> list[Estimate]:
    """Element indices E_k (share of satisfied answers over element k's items) and the composite.

    Composite = Σ_k c_k E_k with c_k = 1/K by default (the official SIPAS weights are not
    published) or ``element_weights`` normalised to sum to 1. Its variance uses the combined
    influence values Σ_k c_k z_ik, so covariances between elements are accounted for
    (Lumley 2010 §2.3, ``svycontrast``). Measures: ``element:<name>`` and ``composite``.
    """
    names = list(elements)
    if not names:
        raise AnalysisError("give at least one element")
    n = len(data)
    a = np.empty((len(names), n))
    b = np.empty((len(names), n))
    for j, nm in enumerate(names):
        a[j], b[j], _ = _answer_counts(data, list(elements[nm]), satisfied_from)
    if element_weights is None:
        c = np.full(len(names), 1.0 / len(names))
    else:
        unknown = set(element_weights) - set(names)
        if unknown:
            raise AnalysisError(f"element weight given for unknown element {sorted(unknown)[0]!r}")
        c = np.array([float(element_weights.get(nm, 0.0)) for nm in names])
        if (c < 0).any() or c.sum() <= 0:
            raise AnalysisError("element weights must be non-negative and not all zero")
        c = c / c.sum()
    measures = [f"element:{nm}" for nm in names] + ["composite"]
    return _run(
        data,
        design,
        by,
        include_total,
        a,
        b,
        None,
        measures,
        [True] * len(measures),
        ci_method,
        confidence_level,
        min_n,
        combos=c[:, None],
    )


def kish_effective_n(weights: np.ndarray) -> float:
    """Kish's (1965) effective sample size (Σw)²/Σw² of sampling weights w."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return 0.0
    return float(w.sum() ** 2 / (w * w).sum())


def to_frame(estimates: Sequence[Estimate]) -> pd.DataFrame:
    """Tidy DataFrame of estimates, one row each, group columns spread out first."""
    rows = []
    for e in estimates:
        d = e.to_dict()
        grp = d.pop("group")
        rows.append({**grp, **d})
    return pd.DataFrame(rows)


def answer_distribution(
    data: pd.DataFrame, item: str, design: SurveyDesign, scale: tuple[int, int] = (1, 5)
) -> dict[int, float]:
    """Weighted share of each answer on the scale among valid answers: Σw·1[x = v] / Σw·1[x valid].

    Sampling weights from ``design`` (R: ``svymean(~factor(q), subset(design, !is.na(q)))``);
    blank answers ("not applicable") are left out. Empty when nobody answered.
    """
    x = item_values(data, item, scale)
    valid = ~np.isnan(x)
    total = float(design.weights[valid].sum())
    if total <= 0:
        return {}
    return {
        value: float(design.weights[valid & (x == value)].sum() / total)
        for value in range(scale[0], scale[1] + 1)
    }
