"""Each unit against the aggregate that contains it: an agency against its sector or the
province, from the same sufficient statistics as :mod:`analysis.aggregates`.

**Estimator.** Unit u (an agency) lies inside a reference aggregate r (its sector, or the
whole table). Both indices are ratios of weighted totals with **sampling weights** w_i,
R̂_u = A_u/B_u and R̂_r = A_r/B_r (A = Σw·a, B = Σw·b; share satisfied: a = 1[satisfied],
b = 1 over valid answers; mean score: a = x, b = 1), and A_r = A_u + A_o, B_r = B_u + B_o with
o the rest of r, so the two estimates are correlated: the difference

    Δ̂_u = R̂_u − R̂_r

has Var(Δ̂_u) = V(R̂_u) + V(R̂_r) − 2 Cov(R̂_u, R̂_r), and the covariance is not 0 even when
the units are independent of each other.

**Variance (Taylor linearisation).** Δ̂_u is a smooth function of the four totals
(A_u, B_u, A_r, B_r); its linearised influence value per PSU j is the difference of the two
ratios' influence values (Binder 1983; Wolter 2007, *Introduction to Variance Estimation*, ch. 6;
Lumley 2010, *Complex Surveys*, §2.3 and §3.3 on contrasts, R's ``svycontrast`` of a
nonlinear expression in ``svytotal``\\ s):

    z_j = (A_j^u − R̂_u B_j^u)/B_u − (A_j^r − R̂_r B_j^r)/B_r,

i.e. z_j = α A_j + β B_j with α = 1/B_u − 1/B_r, β = R̂_r/B_r − R̂_u/B_u on the PSUs of u and
z_j = −(A_j − R̂_r B_j)/B_r on the PSUs of the rest of r (0 outside r), and

    V(Δ̂_u) = Σ_h c_h [ Σ_j (z_hj − μ_h)² + (n_h − m_h) μ_h² ],   μ_h = Σ_j z_hj / n_h,

with the conventions of :mod:`analysis.aggregates` (c_h = (1 − f_h) n_h/(n_h − 1), n_h the PSUs
of stratum h in the full design, m_h those with a row of r, the lonely-PSU rule, R's domain
convention). Being linear in each PSU's A_j and B_j, the sum over a cell of PSUs is exact from
the cell's ΣA, ΣB and centred sums of products S_AA, S_AB, S_BB: Σ_j (z_j − z̄)² =
α² S_AA + 2αβ S_AB + β² S_BB for the unit's cells and (S_AA − 2R̂_r S_AB + R̂_r² S_BB)/B_r² for the
others'. A stratum's other units enter through their sums (Q = Σ SS + T²/m, T = Σ t, m) and the
strata of r that u does not touch through r's own variance there, so the cost is O(cells) for
all units together. In the counter design (every stratum, a service point × quarter, inside one
agency) a stratum of u holds only u's PSUs, and V(Δ̂_u) = Σ_{h∈u} c_h Var_h(αA + βB) +
Σ_{h∈r∖u} V_h(R̂_r).

**Tests.** t = Δ̂_u/se on the reference's design degrees of freedom (its PSUs − strata, R's
``degf`` of the subset), the t interval Δ̂_u ± t_{1−α/2, df}·se and the two-sided p-value; Holm
(1979) and Benjamini–Hochberg (1995) adjusted p-values over the units of one reference. The
``verdict`` is ``above``/``below`` when the p-value chosen by ``adjust`` (Holm's by default, so
that a table of 2,000 agencies does not flag a hundred by chance) is below 1 − level, else
``not_distinguishable``. One-stage designs (or the ultimate-cluster approximation) without
calibration or replicate weights; R: ``svycontrast(svytotal(~I(sat*u) + u + sat + one, sub),
quote(`I(sat * u)`/u - sat/one))`` on ``sub <- subset(des, !is.na(q) & sector == s)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from analysis import intervals
from analysis.aggregates import (
    CELL_COLUMNS,
    CellTables,
    _one_per_psu,
    _require,
    _stratum_spec,
    score_cells,
    share_cells,
)
from analysis.compare import bh_adjust, holm_adjust
from analysis.design import ZERO_VARIANCE_ULPS, _average_factor, _fail_if_lonely
from analysis.errors import AnalysisError
from analysis.estimators import INSUFFICIENT_NOTE, _as_list, make_grouping
from analysis.results import _clean

VERDICTS = ("above", "below", "not_distinguishable", "insufficient_data", "variance_not_estimable")
ADJUSTMENTS = ("holm", "bh", "none")
_SUMS = ("units", "n", "sum_wa", "sum_wb", "ss_aa", "ss_ab", "ss_bb")


@dataclass(frozen=True, kw_only=True)
class ReferenceComparison:
    """One unit against the aggregate that contains it (module docstring).

    ``group``: the unit (e.g. ``{"agency": "A1"}``); ``reference``: the aggregate (e.g.
    ``{"sector": "health"}``, ``{}`` for the whole table); ``estimate`` and
    ``reference_estimate`` the two ratios, ``difference`` = estimate − reference_estimate with
    its linearised ``se`` (covariance of the unit and its aggregate included), t interval
    ``ci_low``/``ci_high`` on ``df`` and two-sided ``p_value``; ``p_holm``/``p_bh`` adjusted over
    the units of the same reference (not paired with the per-unit interval); ``verdict`` one of
    :data:`VERDICTS`, decided by ``adjust``'s p-value. ``status`` as
    :class:`analysis.results.Estimate` (``ok``, ``insufficient_data`` below ``min_n``
    respondents, ``variance_not_estimable`` when the reference has no degrees of freedom).
    """

    group: dict[str, Any]
    reference: dict[str, Any]
    measure: str
    n: int
    reference_n: int
    estimate: float | None
    reference_estimate: float | None
    difference: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: float | None
    p_value: float | None
    p_holm: float | None
    p_bh: float | None
    verdict: str
    adjust: str = "holm"
    confidence_level: float = 0.95
    status: str = "ok"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with non-finite numbers as ``None`` (JSON-ready)."""
        return {k: _clean(v) for k, v in asdict(self).items()}


@dataclass(frozen=True, eq=False)
class _Differences:
    """Per unit: its reference's code, R̂_u, R̂_r, Var(Δ̂_u), df of r, n of u and r."""

    ref: np.ndarray
    estimate: np.ndarray
    reference_estimate: np.ndarray
    var: np.ndarray
    df: np.ndarray
    n: np.ndarray
    reference_n: np.ndarray


def _codes(cells: pd.DataFrame, by: list[str], within: list[str]) -> tuple[Any, Any, np.ndarray]:
    """Unit and reference groupings of the cells, and each unit's reference code (a unit must
    lie in one reference)."""
    units = make_grouping(cells, by)
    refs = make_grouping(cells, within)
    both = (units.codes >= 0) & (refs.codes >= 0)
    ref_of = np.full(units.size, -1, dtype=np.int64)
    ref_of[units.codes[both]] = refs.codes[both]
    clash = both & (ref_of[np.maximum(units.codes, 0)] != refs.codes)
    if clash.any():
        k = int(np.flatnonzero(clash)[0])
        raise AnalysisError(
            f"unit {units.labels[units.codes[k]]!r} lies in two references "
            f"({refs.labels[ref_of[units.codes[k]]]!r} and {refs.labels[refs.codes[k]]!r}): "
            "compare each unit with an aggregate that contains it"
        )
    return units, refs, ref_of


def _differences(
    cells: pd.DataFrame, h: np.ndarray, spec: Any, by: list[str], within: list[str]
) -> tuple[Any, Any, _Differences]:
    units, refs, ref_of = _codes(cells, by, within)
    n_u, n_r = units.size, refs.size
    keep = refs.codes >= 0
    r = refs.codes[keep]
    # a row of r without a unit joins r's "other units" under a unit code of its own per r
    u = np.where(units.codes[keep] >= 0, units.codes[keep], n_u + r)
    h = h[keep]
    values = {name: cells[name].to_numpy(dtype=float)[keep] for name in _SUMS}
    values["rows"] = cells["rows"].to_numpy(dtype=float)[keep]
    psu = None
    if "psu" in cells.columns:
        codes, _ = pd.factorize(pd.MultiIndex.from_arrays([cells["stratum"], cells["psu"]]))
        psu = codes.astype(np.int64)[keep]
    n_all = n_u + n_r
    ref_all = np.concatenate([ref_of, np.arange(n_r)])  # reference of every (pseudo-)unit
    # ratios of units and references
    big_a_u = np.bincount(u, weights=values["sum_wa"], minlength=n_all)
    big_b_u = np.bincount(u, weights=values["sum_wb"], minlength=n_all)
    big_a_r = np.bincount(r, weights=values["sum_wa"], minlength=n_r)
    big_b_r = np.bincount(r, weights=values["sum_wb"], minlength=n_r)
    with np.errstate(divide="ignore", invalid="ignore"):
        est_u = np.where(big_b_u > 0, big_a_u / big_b_u, np.nan)
        est_r = np.where(big_b_r > 0, big_a_r / big_b_r, np.nan)
    n_resp_u = np.bincount(u, weights=values["n"], minlength=n_all)
    n_resp_r = np.bincount(r, weights=values["n"], minlength=n_r)
    den_r = np.where(big_b_r > 0, big_b_r, 1.0)
    den_u = np.where(big_b_u > 0, big_b_u, 1.0)
    rr = np.nan_to_num(est_r)
    ru = np.nan_to_num(est_u)
    # one record per PSU × unit (cells naming a PSU) or per cell (every row its own PSU)
    if psu is not None:
        merged, h_c, u_c = _one_per_psu(dict(values), psu, h, u, n_all)
        _, uniq = pd.factorize(psu * n_all + u)  # the records' order in _one_per_psu
        psu_c = np.asarray(uniq, dtype=np.int64) // n_all
    else:
        merged, h_c, u_c = values, h, u
        psu_c = np.zeros(0, dtype=np.int64)
    has = merged["units"] > 0
    m_c = merged["units"][has]
    a_c, b_c = merged["sum_wa"][has], merged["sum_wb"][has]
    saa, sab, sbb = merged["ss_aa"][has], merged["ss_ab"][has], merged["ss_bb"][has]
    h_c, u_c = h_c[has], u_c[has]
    r_c = ref_all[u_c]
    # the reference's influence per record, t = (A − R̂_r B)/B_r
    dr, rrc = den_r[r_c], rr[r_c]
    t_ref = (a_c - rrc * b_c) / dr
    ss_ref = np.maximum((saa - 2 * rrc * sab + rrc * rrc * sbb) / (dr * dr), 0.0)
    if psu is not None:
        # a PSU's reference side is all of its rows in r: one record per PSU × reference
        key_pr, uniq_pr = pd.factorize(psu_c[has] * n_r + r_c)
        k_pr = len(uniq_pr)
        t_psu = np.bincount(key_pr, weights=t_ref, minlength=k_pr)
        first = np.full(k_pr, -1, dtype=np.int64)
        first[key_pr[::-1]] = np.arange(len(key_pr))[::-1]
        p_h, p_r, p_m, p_t, p_ss = h_c[first], r_c[first], np.ones(k_pr), t_psu, np.zeros(k_pr)
        t_ref_own = t_psu[key_pr]  # the whole PSU's reference influence, for its unit records
    else:
        p_h, p_r, p_m, p_t, p_ss = h_c, r_c, m_c, t_ref, ss_ref
        t_ref_own = t_ref
    # (a) the references' variances per stratum: V_hr
    n_h_all = spec.n_units
    pair_r, pairs_r = pd.factorize(p_h * n_r + p_r)
    pairs_r = np.asarray(pairs_r, dtype=np.int64)
    k_r = len(pairs_r)
    hr_h, hr_r = pairs_r // n_r, pairs_r % n_r
    if spec.rule == "fail" and spec.lonely.any():
        touched = np.zeros(n_h_all.shape[0], dtype=bool)
        touched[hr_h] = True
        _fail_if_lonely(spec, touched)
    m_hr = np.bincount(pair_r, weights=p_m, minlength=k_r)
    t_hr = np.bincount(pair_r, weights=p_t, minlength=k_r)
    q_hr = np.bincount(pair_r, weights=p_ss + p_t * p_t / p_m, minlength=k_r)
    nh_r = n_h_all[hr_h]
    mean_r = np.where(spec.centre[hr_h], t_hr / nh_r, 0.0)
    gap_r = p_t / p_m - mean_r[pair_r]
    v_hr = spec.scale[hr_h] * (
        np.bincount(pair_r, weights=p_ss + p_m * gap_r * gap_r, minlength=k_r)
        + (nh_r - m_hr) * mean_r**2
    )
    size_hr = v_hr + spec.scale[hr_h] * nh_r * mean_r**2
    v_r = np.bincount(hr_r, weights=v_hr, minlength=n_r)
    strata_r = np.bincount(hr_r, minlength=n_r)
    # units per stratum × reference (records of distinct units)
    pair_hu, pairs_hu = pd.factorize(h_c * n_all + u_c)
    pairs_hu = np.asarray(pairs_hu, dtype=np.int64)
    k_hu = len(pairs_hu)
    hu_h, hu_u = pairs_hu // n_all, pairs_hu % n_all
    hu_r = ref_all[hu_u]
    hr_index = pd.Index(pairs_r).get_indexer(hu_h * n_r + hu_r)
    units_in_hr = np.bincount(hr_index, minlength=k_r)
    # (b) every unit's own strata: z = αA + βB on its records, −t_ref on the others' PSUs
    du, ruc = den_u[u_c], ru[u_c]
    alpha = 1.0 / du - 1.0 / dr
    beta = rrc / dr - ruc / du
    t_z = alpha * a_c + beta * b_c
    if psu is not None:  # the PSU's other units' part of the reference influence
        t_z = t_z - (t_ref_own - t_ref)
    ss_z = np.maximum(alpha * alpha * saa + 2 * alpha * beta * sab + beta * beta * sbb, 0.0)
    m_own = np.bincount(pair_hu, weights=m_c, minlength=k_hu)
    tz_own = np.bincount(pair_hu, weights=t_z, minlength=k_hu)
    if psu is not None:
        own_ref_t = t_ref_own
        own_q = t_ref_own * t_ref_own  # one PSU per record
    else:
        own_ref_t = t_ref
        own_q = ss_ref + t_ref * t_ref / m_c
    tr_own = np.bincount(pair_hu, weights=own_ref_t, minlength=k_hu)
    q_own = np.bincount(pair_hu, weights=own_q, minlength=k_hu)
    alone = units_in_hr[hr_index] == 1  # the stratum holds no other unit of r: exactly 0
    m_o = np.where(alone, 0.0, m_hr[hr_index] - m_own)
    t_o = np.where(alone, 0.0, t_hr[hr_index] - tr_own)
    q_o = np.where(alone, 0.0, np.maximum(q_hr[hr_index] - q_own, 0.0))
    nh = n_h_all[hu_h]
    mu = np.where(spec.centre[hu_h], (tz_own - t_o) / nh, 0.0)
    gap = t_z / m_c - mu[pair_hu]
    own_ss = np.bincount(pair_hu, weights=ss_z + m_c * gap * gap, minlength=k_hu)
    others_ss = q_o + 2 * mu * t_o + mu * mu * m_o
    scale = spec.scale[hu_h]
    contrib = scale * (own_ss + others_ss + (nh - m_own - m_o) * mu * mu)
    var_in = np.bincount(hu_u, weights=contrib, minlength=n_all)
    size_in = np.bincount(hu_u, weights=contrib + scale * nh * mu * mu, minlength=n_all)
    # (c) the reference's strata that the unit does not touch
    ref_there = np.bincount(hu_u, weights=v_hr[hr_index], minlength=n_all)
    strata_u = np.bincount(hu_u, minlength=n_all)
    outside = np.where(
        strata_u >= strata_r[ref_all], 0.0, np.maximum(v_r[ref_all] - ref_there, 0.0)
    )
    var = var_in + outside
    size = size_in + np.bincount(hr_r, weights=size_hr, minlength=n_r)[ref_all]
    if spec.rule == "average":
        factor = _average_factor(spec, hr_h, hr_r, n_r)
        with np.errstate(invalid="ignore"):  # no stratum with two PSUs: NaN, as in R
            var, size = var * factor[ref_all], size * factor[ref_all]
    tol = (ZERO_VARIANCE_ULPS * np.finfo(float).eps) ** 2 * size
    var = np.maximum(np.where(var <= tol, 0.0, var), 0.0)
    # degrees of freedom of r: its PSUs − its strata
    df_r = np.bincount(p_r, weights=p_m, minlength=n_r) - strata_r
    return (
        units,
        refs,
        _Differences(
            ref=ref_of,
            estimate=est_u[:n_u],
            reference_estimate=est_r,
            var=var[:n_u],
            df=df_r.astype(float),
            n=n_resp_u[:n_u],
            reference_n=n_resp_r,
        ),
    )


def compare_cells_to_reference(
    tables: CellTables,
    by: str | Sequence[str],
    within: str | Sequence[str] | None = None,
    *,
    measure: str,
    confidence_level: float = 0.95,
    min_n: int = 30,
    adjust: str = "holm",
    lonely_psu: str = "adjust",
    transform: tuple[float, float] | None = None,
) -> list[ReferenceComparison]:
    """Every unit of ``by`` against its reference ``within`` (None: the whole table), from
    the cells of :mod:`analysis.aggregates` (see the module docstring for the estimator, its
    variance and the tests).

    ``by`` and ``within`` are domain columns of the cells; every unit must lie in one
    reference. Units with fewer than ``min_n`` respondents are reported with status
    ``insufficient_data`` and left out of the adjusted p-values. ``adjust`` (``holm``, ``bh``
    or ``none``) chooses the p-value behind the verdict. ``transform`` (c₀, c₁) reports
    c₀ + c₁·R̂ and c₁·Δ̂ (the 0–100 index of a 1–5 mean: (−25, 25)). Results are ordered by
    reference, then unit (sorted labels).
    """
    level = intervals.check_level(confidence_level)
    if adjust not in ADJUSTMENTS:
        raise AnalysisError(f"unknown adjustment {adjust!r}; use one of {', '.join(ADJUSTMENTS)}")
    if min_n < 0:
        raise AnalysisError("the minimum sample size cannot be negative")
    cells = tables.cells
    _require(cells, CELL_COLUMNS, "cells")
    unit_cols, ref_cols = _as_list(by), _as_list(within)
    if not unit_cols:
        raise AnalysisError("name the units to compare (by)")
    _require(cells, [*unit_cols, *ref_cols], "cells")
    if len(cells) == 0:
        raise AnalysisError("the data has no rows")
    labels, spec = _stratum_spec(tables.strata, lonely_psu)
    h = labels.get_indexer(cells["stratum"].to_numpy())
    if (h < 0).any():
        raise AnalysisError(
            f"stratum {cells['stratum'].to_numpy()[h < 0][0]!r} of the cells is not in the "
            "strata table"
        )
    units, refs, diff = _differences(cells, h, spec, unit_cols, ref_cols)
    c0, c1 = transform if transform is not None else (0.0, 1.0)
    delta = (diff.estimate - diff.reference_estimate[np.maximum(diff.ref, 0)]) * c1
    se = np.sqrt(diff.var) * abs(c1)
    df = diff.df[np.maximum(diff.ref, 0)]
    q = intervals.t_quantile(1 - (1 - level) / 2, np.where(df > 0, df, np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        # the lower tail at −|t| keeps small p-values (1 − cdf would round them to 0)
        p = 2 * special.stdtr(np.where(df > 0, df, np.nan), -np.abs(delta / se))
    enough = (diff.ref >= 0) & (diff.n >= max(min_n, 1)) & np.isfinite(delta)
    estimable = enough & (df > 0) & np.isfinite(se)
    tested = estimable & (se > 0) & np.isfinite(p)
    p_holm: list[float | None] = [None] * units.size
    p_bh: list[float | None] = [None] * units.size
    for k in range(refs.size):
        members = np.flatnonzero(diff.ref == k)
        raw = [float(p[j]) if tested[j] else None for j in members]
        for i, a, b in zip(members.tolist(), holm_adjust(raw), bh_adjust(raw), strict=True):
            p_holm[i], p_bh[i] = a, b
    alpha = 1 - level
    order = sorted(range(units.size), key=lambda j: (int(diff.ref[j]), j))
    out: list[ReferenceComparison] = []
    for j in order:
        ref = int(diff.ref[j])
        if ref < 0:
            continue  # a unit with no row in any reference
        chosen = {"holm": p_holm[j], "bh": p_bh[j], "none": float(p[j]) if tested[j] else None}
        decided = chosen[adjust]
        status, note, verdict = "ok", "", "not_distinguishable"
        if not enough[j]:
            status, verdict = "insufficient_data", "insufficient_data"
            note = INSUFFICIENT_NOTE.format(min_n=max(min_n, 1))
        elif not estimable[j]:
            status, verdict = "variance_not_estimable", "variance_not_estimable"
            note = "the reference has no degrees of freedom: no variance for the difference"
        elif se[j] <= 0:
            note = (
                "the unit is its whole reference"
                if diff.n[j] == diff.reference_n[ref]
                else "the difference has no sampling variance (a census of both)"
            )
            if delta[j] != 0:
                verdict = "above" if delta[j] > 0 else "below"
        elif decided is not None and decided < alpha:
            verdict = "above" if delta[j] > 0 else "below"
        ok = status == "ok"
        s = float(se[j]) if ok else None
        out.append(
            ReferenceComparison(
                group=units.labels[j],
                reference=refs.labels[ref],
                measure=measure,
                n=int(diff.n[j]),
                reference_n=int(diff.reference_n[ref]),
                estimate=_number(c0 + c1 * diff.estimate[j]) if diff.n[j] > 0 else None,
                reference_estimate=_number(c0 + c1 * diff.reference_estimate[ref]),
                difference=float(delta[j]) if enough[j] else None,
                se=s,
                ci_low=float(delta[j] - q[j] * se[j]) if ok else None,
                ci_high=float(delta[j] + q[j] * se[j]) if ok else None,
                df=float(df[j]) if enough[j] else None,
                p_value=float(p[j]) if tested[j] else None,
                p_holm=p_holm[j],
                p_bh=p_bh[j],
                verdict=verdict,
                adjust=adjust,
                confidence_level=level,
                status=status,
                note=note,
            )
        )
    return out


def _number(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def compare_to_reference(
    counts: pd.DataFrame,
    strata: pd.DataFrame,
    by: str | Sequence[str],
    within: str | Sequence[str] | None = None,
    *,
    item: str = "q_overall",
    kind: str = "share",
    confidence_level: float = 0.95,
    min_n: int = 30,
    adjust: str = "holm",
    lonely_psu: str = "adjust",
) -> list[ReferenceComparison]:
    """Every unit (``by``, e.g. ``"agency"``) against the aggregate that contains it
    (``within``, e.g. ``"sector"``; None: the whole table) under the counter design, from the
    tables of :func:`analysis.aggregates.estimate_share_from_counts` (``kind="share"``: counts
    ``answered``/``satisfied``) or :func:`~analysis.aggregates.estimate_mean_from_counts`
    (``kind="mean"``, or ``"index"`` for the 0–100 index: ``score_sum``/``score_squares``);
    ``counts`` must carry both columns. The unit's and the reference's estimates equal those
    functions' (same sums). See :func:`compare_cells_to_reference` and the module docstring.
    """
    if kind == "share":
        tables, measure = share_cells(counts, strata), f"share_satisfied:{item}"
        transform = None
    elif kind in ("mean", "index"):
        tables = score_cells(counts, strata)
        measure = f"mean_index:{item}" if kind == "index" else f"mean:{item}"
        transform = (-25.0, 25.0) if kind == "index" else None
    else:
        raise AnalysisError(f"unknown kind {kind!r}; use share, mean or index")
    return compare_cells_to_reference(
        tables,
        by,
        within,
        measure=measure,
        confidence_level=confidence_level,
        min_n=min_n,
        adjust=adjust,
        lonely_psu=lonely_psu,
        transform=transform,
    )
