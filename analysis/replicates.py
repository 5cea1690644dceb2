"""Replicate-weight designs: supplied replicate columns (R ``svrepdesign``) and jackknife
replicates made from a design (R ``as.svrepdesign``).

A replicate design holds the full-sample **sampling weights** w_i and R sets of replicate
weights w_ir (already multiplied by the sampling weights, "combined weights"). Every estimate
θ̂ is recomputed with each set, θ̂_r, and its variance is

    V = scale · Σ_r rscales_r (θ̂_r − θ̄)²,    θ̄ = mean of the θ̂_r (``mse=False``) or θ̂

(Wolter 2007, *Introduction to Variance Estimation*, ch. 3–5; Lumley 2010 §2.5; R ``svrVar``).
Replicates whose estimate is undefined (a domain that loses every row in that replicate) are
dropped, as R's ``na.omit`` does. Scale rules for supplied columns, as R's ``svrepdesign``:
JK1 scale = (R − 1)/R; JKn scale = 1 with per-replicate ``rscales`` (n_h − 1)/n_h, required;
BRR scale = 1/R; Fay scale = 1/(R (1 − ρ)²); bootstrap scale = 1/(R − 1).

Replicates from a design (R ``as.svrepdesign(design, type, mse=FALSE)``, ``compress`` layout):
JK1 (unstratified): dropping PSU j, the others get n/(n − 1); scale = (1 − f)(n − 1)/n.
JKn: one replicate per PSU of every stratum with at least two PSUs, dropping that PSU and
scaling its stratum's other PSUs by n_h/(n_h − 1); rscales = (1 − f_h)(n_h − 1)/n_h, strata
taken whole (f_h = 1) give no replicate, and lonely strata follow the design's lonely-PSU rule
as R's ``jknweights``. Domains keep these replicates (and so the full design's PSU counts); the
domain's degrees of freedom are the rank of its rows' replicate weights minus 1 (R ``degf``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.design import SurveyDesign, _numeric, _positive_finite, _require_columns
from analysis.errors import AnalysisError

REP_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap")
#: Largest replicate matrix (units × replicates) built from a design.
MAX_REPLICATE_CELLS = 40_000_000


@dataclass(frozen=True, eq=False)
class ReplicateDesign:
    """A design with replicate weights: the weight of row i in replicate r is
    ``rep_factor[i] · rep_matrix[rep_index[i], r]`` (supplied columns: the columns themselves;
    made from a design: the sampling weight times its PSU's replicate factor)."""

    weights: np.ndarray
    rep_index: np.ndarray
    rep_matrix: np.ndarray
    rep_factor: np.ndarray
    scale: float
    rscales: np.ndarray
    rep_type: str
    mse: bool = False
    description: str = ""
    calibrations: tuple[Any, ...] = field(default_factory=tuple)
    selfrep: np.ndarray | None = None  # rows of strata taken whole (R as.svrepdesign)

    @property
    def n_rows(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_replicates(self) -> int:
        return int(self.rep_matrix.shape[1])

    @property
    def lonely_psu(self) -> str:
        return "n/a (replicate weights)"

    def replicate_weights(self) -> np.ndarray:
        """The n × R matrix of replicate weights (R ``weights(design, "analysis")``)."""
        weights: np.ndarray = self.rep_factor[:, None] * self.rep_matrix[self.rep_index]
        return weights


def _rep_columns(df: pd.DataFrame, spec: str | Sequence[str]) -> list[str]:
    if isinstance(spec, str):
        cols: list[str] = []
        for part in [p.strip() for p in spec.split(",") if p.strip()]:
            hits = [c for c in map(str, df.columns) if fnmatch.fnmatchcase(c, part)]
            if not hits:
                raise AnalysisError(
                    f"--repweights {part!r} matches no column (columns are: "
                    f"{', '.join(map(str, df.columns[:30]))})"
                )
            cols += [c for c in hits if c not in cols]
        return cols
    _require_columns(df, list(spec))
    return list(spec)


def replicate_design(
    df: pd.DataFrame,
    repweights: str | Sequence[str],
    rep_type: str,
    *,
    weight: str,
    rho: float | None = None,
    scale: float | None = None,
    rscales: Sequence[float] | float | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """A design from supplied replicate-weight columns (combined with the sampling weights).

    ``repweights``: a glob such as ``"rw_*"`` (or several, comma-separated) or a list of columns,
    in the data's column order; ``weight``: the full-sample sampling weights. ``rep_type`` and
    the scale rules are R's (module docstring); ``scale``/``rscales`` override them (JKn needs
    ``rscales``). R: ``svrepdesign(data=d, repweights="rw_", weights=~w, type=...,
    combined.weights=TRUE, rho=, scale=, rscales=, mse=)``.
    """
    if rep_type not in REP_TYPES:
        raise AnalysisError(
            f"unknown replicate type {rep_type!r} (option --rep-type); use one of "
            f"{', '.join(REP_TYPES)}"
        )
    cols = _rep_columns(df, repweights)
    if len(cols) < 2:
        raise AnalysisError(
            f"--repweights {repweights!r} gives {len(cols)} column(s): replicate weights need at "
            "least two replicates"
        )
    _require_columns(df, [weight])
    w = _numeric(df, weight, "weight")
    _positive_finite(w, weight, "weight")
    mat = np.empty((len(df), len(cols)))
    for j, c in enumerate(cols):
        v = _numeric(df, c, "replicate weight")
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise AnalysisError(
                f"replicate weight column {c!r} must hold finite numbers ≥ 0 (data row "
                f"{k + 1}: {v[k]:g})"
            )
        mat[:, j] = v
    n_rep = len(cols)
    rs = np.ones(n_rep)
    if rscales is not None:
        rs = np.broadcast_to(np.asarray(rscales, dtype=float), (n_rep,)).copy()
        if np.asarray(rscales).size not in (1, n_rep):
            raise AnalysisError(
                f"--rep-rscales has {np.asarray(rscales).size} values for {n_rep} replicate "
                "columns: give one per column (or one for all)"
            )
    if rep_type == "Fay":
        if rho is None or not 0 <= rho < 1:
            raise AnalysisError("--rep-type Fay needs --rep-rho, Fay's ρ in [0, 1) (e.g. 0.5)")
        sc = 1.0 / (n_rep * (1 - rho) ** 2)
    elif rep_type == "BRR":
        sc = 1.0 / n_rep
    elif rep_type == "bootstrap":
        sc = 1.0 / (n_rep - 1) if scale is None else scale
    elif rep_type == "JK1":
        sc = (n_rep - 1) / n_rep if scale is None else scale
    else:  # JKn
        if rscales is None:
            raise AnalysisError(
                "--rep-type JKn needs --rep-rscales, the (n_h − 1)/n_h of each replicate's "
                "stratum (R: svrepdesign(type='JKn', rscales=...))"
            )
        sc = 1.0 if scale is None else scale
    index, patterns = _distinct_rows(mat)
    return ReplicateDesign(
        weights=w,
        rep_index=index,
        rep_matrix=patterns,
        rep_factor=np.ones(len(df)),
        scale=float(sc),
        rscales=rs,
        rep_type=rep_type,
        mse=mse,
        description=f"replicate weights: {rep_type}, {n_rep} columns ({cols[0]}…{cols[-1]}), "
        f"weight={weight}, scale={sc:.6g}, mse={mse}",
    )


def _distinct_rows(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, patterns) with mat == patterns[index]: rows of one PSU (with one weight) repeat
    the same replicate weights, and are stored once."""
    keys = pd.util.hash_pandas_object(pd.DataFrame(mat), index=False).to_numpy()
    index, first = pd.factorize(keys)
    starts = np.full(len(first), -1, dtype=np.int64)
    starts[index[::-1]] = np.arange(len(index))[::-1]
    patterns = mat[starts]
    if not np.array_equal(patterns[index], mat):  # a hash collision: keep every row
        return np.arange(mat.shape[0], dtype=np.int64), mat
    return index.astype(np.int64), patterns


def as_replicate_design(
    design: SurveyDesign, rep_type: str, *, mse: bool = False
) -> ReplicateDesign:
    """Jackknife replicates made from a Taylor design (R ``as.svrepdesign(design, type,
    mse=FALSE)``): ``"JK1"`` for an unstratified design, ``"JKn"`` for a stratified one, with the
    stage-1 fpc scaling each stratum (module docstring)."""
    if rep_type not in ("JK1", "JKn"):
        raise AnalysisError(f"--replicates {rep_type!r}: use JK1 or JKn")
    if design.calibrations:
        raise AnalysisError(
            "--replicates cannot be combined with --rake: the replicates would not be "
            "recalibrated (rake the replicate design instead, or use Taylor linearisation)"
        )
    if design.stages:
        raise AnalysisError(
            "--replicates uses the first stage only (R drops the later stages' fpc); give one "
            "--psu and one --fpc column, or leave out --replicates for the multistage variance"
        )
    psu = design.psu_codes()
    p_stratum = design.psu_stratum if design.psu is not None else design.strata
    if p_stratum is None:
        raise RuntimeError("a design with PSUs has the stratum of each PSU")
    n_psu_total = int(psu.max()) + 1
    n_h = design.n_psu.astype(float)
    fpc = design.fpc_factor
    if rep_type == "JK1":
        if design.has_strata:
            raise AnalysisError(
                "--replicates JK1 is for an unstratified design (R: \"Can't use JK1 for a "
                'stratified design"): use --replicates JKn'
            )
        n = n_psu_total
        if n_psu_total * n > MAX_REPLICATE_CELLS:
            raise _too_many(n_psu_total, n)
        mat = np.full((n, n), n / (n - 1))
        np.fill_diagonal(mat, 0.0)
        if fpc[0] == 0:
            raise AnalysisError("every PSU was taken (fpc = n): there is no sampling variance")
        sc = float(fpc[0] * (n - 1) / n)
        rs = np.ones(n)
    else:
        if not design.has_strata:
            raise AnalysisError(
                "--replicates JKn needs strata (R: 'Must use JK1 or bootstrap for an unstratified "
                "design'): use --replicates JK1"
            )
        rule = design.lonely_psu
        lonely = (n_h == 1) & (fpc != 0)
        if rule == "fail" and lonely.any():
            names = ", ".join(repr(design.stratum_labels[h]) for h in np.flatnonzero(lonely)[:10])
            raise AnalysisError(
                f"stratum {names} has a single PSU: choose a rule with --lonely-psu "
                "adjust|average|certainty|remove (R: options(survey.lonely.psu=...))"
            )
        make = (n_h >= 2) & (fpc != 0)
        n_rep = int(n_h[make].sum()) + (int(lonely.sum()) if rule == "adjust" else 0)
        if n_rep == 0:
            raise AnalysisError(
                "all strata were taken whole (fpc = n): there is no sampling variance"
            )
        if n_psu_total * n_rep > MAX_REPLICATE_CELLS:
            raise _too_many(n_psu_total, n_rep)
        mat = np.ones((n_psu_total, n_rep))
        rs = np.empty(n_rep)
        order = np.argsort(p_stratum, kind="stable")
        starts = np.searchsorted(p_stratum[order], np.arange(design.n_strata + 1))
        col = 0
        n_str = design.n_strata
        for h in range(n_str):
            members = order[starts[h] : starts[h + 1]]
            if make[h]:
                k = len(members)
                block = np.full((k, k), k / (k - 1))
                np.fill_diagonal(block, 0.0)
                mat[np.ix_(members, np.arange(col, col + k))] = block
                rs[col : col + k] = fpc[h] * (k - 1) / k
                col += k
            elif lonely[h] and rule == "adjust":
                mat[:, col] = n_str / (n_str - 1)
                mat[members, col] = 0.0
                rs[col] = (n_str - 1) / n_str
                col += 1
        sc = 1.0
        if rule == "average" and n_rep < n_psu_total:
            sc = n_psu_total / n_rep
    return ReplicateDesign(
        weights=design.weights,
        rep_index=psu.astype(np.int64),
        rep_matrix=mat,
        rep_factor=design.weights,
        scale=sc,
        rscales=rs,
        rep_type=rep_type,
        mse=mse,
        description=f"{design.description}; replicates: {rep_type} "
        f"({mat.shape[1]} replicates, mse={mse})",
        selfrep=(design.fpc_factor == 0)[design.strata],
    )


def _too_many(units: int, reps: int) -> AnalysisError:
    return AnalysisError(
        f"--replicates would need {units} PSUs × {reps} replicates: too many to hold; use "
        "Taylor linearisation (leave out --replicates)"
    )


# --------------------------------------------------------------------------------------------
# replicate estimates and variances


def replicate_sums(
    design: ReplicateDesign, v: np.ndarray, g: np.ndarray, n_groups: int
) -> np.ndarray:
    """Σ_{i∈g} v_i w_ir for every group g and replicate r (G × R)."""
    sel = g >= 0
    s = sparse.csr_matrix(
        ((v * design.rep_factor)[sel], (g[sel], design.rep_index[sel])),
        shape=(n_groups, design.rep_matrix.shape[0]),
    )
    return np.asarray(s @ design.rep_matrix)


def svr_variance(design: ReplicateDesign, thetas: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """R ``svrVar`` per row of ``thetas`` (G × R), dropping undefined replicates of that row."""
    ok = np.isfinite(thetas)
    rs = np.broadcast_to(design.rscales, thetas.shape)
    if design.mse:
        centre = estimate
    else:
        use = ok & (rs > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = np.where(use, thetas, 0.0).sum(axis=1) / use.sum(axis=1)
    dev = np.where(ok, thetas - centre[:, None], 0.0)
    variance: np.ndarray = design.scale * (dev * dev * rs).sum(axis=1)
    return variance


def ratio_replicates(
    design: ReplicateDesign, a: np.ndarray, b: np.ndarray, g: np.ndarray, n_groups: int
) -> np.ndarray:
    """Replicate ratios Σw_r a/Σw_r b per group (G × R), NaN where Σw_r b = 0."""
    num = replicate_sums(design, a, g, n_groups)
    den = replicate_sums(design, b, g, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


def total_variance(
    design: ReplicateDesign, x: np.ndarray, g: np.ndarray, n_groups: int
) -> np.ndarray:
    """Replicate variance of the group totals Σ_{i∈g} w_i x_i. As R's ``svytotal`` on a design
    from ``as.svrepdesign``, rows of strata taken whole ("selfrep") are left out of the
    replicate totals (they are in the estimate), which matters to a lonely stratum's
    "adjust" replicate."""
    sel = g >= 0
    est = np.bincount(g[sel], weights=(design.weights * x)[sel], minlength=n_groups)
    if design.selfrep is not None:
        if design.selfrep[sel].all():
            return np.zeros(n_groups)
        x = np.where(design.selfrep, 0.0, x)
    return svr_variance(design, replicate_sums(design, x, g, n_groups), est)


def covariance(design: ReplicateDesign, thetas: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """R ``svrVar`` for a vector of estimates (columns of thetas.T): replicates with any
    undefined estimate are dropped (``na.omit`` on the replicate × estimate matrix)."""
    ok = np.isfinite(thetas).all(axis=0)
    t = thetas[:, ok]
    rs = design.rscales[ok]
    centre = estimate if design.mse else t[:, rs > 0].mean(axis=1)
    dev = t - centre[:, None]
    covariance: np.ndarray = design.scale * (dev * rs) @ dev.T
    return covariance


def df_by_group(design: ReplicateDesign, g: np.ndarray, n_groups: int) -> np.ndarray:
    """Rank of each domain's replicate weights minus 1 (R ``degf`` of ``design[rows, ]``:
    ``qr(weights(design, "analysis"), tol=1e-5)$rank - 1``), from the singular values of the
    domain's n × R weight matrix A: those of S^½·M_u with M_u its distinct replicate patterns
    and S their summed squared row factors (AᵀA = M_uᵀ S M_u), or of AᵀA when that is smaller;
    a singular value counts when above 10⁻⁵ of the largest."""
    out = np.full(n_groups, -1.0)
    sel = np.flatnonzero((g >= 0) & (design.rep_factor != 0))
    if sel.size == 0:
        return out
    codes, units = pd.factorize(
        g[sel].astype(np.int64) * design.rep_matrix.shape[0] + design.rep_index[sel]
    )
    units = np.asarray(units)
    s = np.bincount(codes, weights=design.rep_factor[sel] ** 2)
    unit_group = units // design.rep_matrix.shape[0]
    unit_row = units % design.rep_matrix.shape[0]
    order = np.argsort(unit_group, kind="stable")
    bounds = np.searchsorted(unit_group[order], np.arange(n_groups + 1))
    n_rep = design.rep_matrix.shape[1]
    for k in range(n_groups):
        part = order[bounds[k] : bounds[k + 1]]
        if part.size == 0:
            continue
        m = design.rep_matrix[unit_row[part]] * np.sqrt(s[part])[:, None]
        if part.size <= n_rep:
            sv = np.linalg.svd(m, compute_uv=False)
        else:
            sv = np.sqrt(np.clip(np.linalg.eigvalsh(m.T @ m), 0.0, None))
        top = sv.max() if sv.size else 0.0
        out[k] = float((sv > 1e-5 * top).sum() - 1) if top > 0 else -1.0
    return out
