"""Sampling designs and Taylor-linearisation variance.

A design is held as numpy arrays (one entry per response): sampling weights, stratum codes,
primary-sampling-unit codes and per-stratum finite population corrections. Estimators turn their
estimate into *influence values* z_i (already multiplied by the sampling weight) and ask this
module for the variance of the total Σ z_i:

    V = Σ_h (1 − f_h) · n_h/(n_h − 1) · Σ_{i ∈ h} (t_hi − t̄_h)²

where t_hi is the total of z over PSU i of stratum h, n_h the number of PSUs of the stratum in the
**full** design and f_h = n_h/N_h the sampling fraction (Lumley 2010, *Complex Surveys*, §2.2 and
appendix C; R's ``svyrecvar`` one-stage formula, "ultimate cluster" approximation).

Domains (agencies, sectors...) follow R's convention for ``design[subset, ]``: rows outside the
domain score zero, the full design's n_h and fpc are kept, and the domain's degrees of freedom are
the PSUs minus the strata that contain at least one of its rows (R's ``degf``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError


@dataclass(frozen=True, eq=False)
class Calibration:
    """How weights were calibrated, kept to linearise the variance as R does.

    ``kind == "raking"``: ``codes[k]``/``weights[k]`` are the category codes of margin k and the
    weights right after that margin was adjusted in the last raking sweep; influence values are
    projected by ten sweeps of x ← x − w_k · ave_k(x / w_k) (R ``svyrecvar`` for ``rake``).
    ``kind == "poststratify"``: one margin; x ← x − w · Σ_c(x·w₀/w) / Σ_c w₀ (R ``postStratify``).
    """

    kind: str
    codes: tuple[np.ndarray, ...]
    weights: tuple[np.ndarray, ...]
    oldweights: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A stratified (optionally clustered) sample with sampling weights.

    ``weights`` are **sampling weights** (inverse inclusion probabilities, "pweights"), not
    frequency weights. ``strata`` holds codes 0..H−1; ``psu`` holds codes of primary sampling
    units, unique across strata (R's ``nest=TRUE``), or is ``None`` when every response is its own
    PSU. ``n_psu[h]`` is the number of PSUs of stratum h and ``fpc_factor[h]`` = 1 − n_h/N_h
    (1 without a finite population correction).
    """

    weights: np.ndarray
    strata: np.ndarray
    psu: np.ndarray | None
    n_psu: np.ndarray
    fpc_factor: np.ndarray
    psu_stratum: np.ndarray | None = None
    calibrations: tuple[Calibration, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def n_rows(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_strata(self) -> int:
        return int(self.n_psu.shape[0])

    @property
    def stratum_scale(self) -> np.ndarray:
        """(1 − f_h)·n_h/(n_h − 1); strata with a single PSU get (1 − f_h) (they add nothing)."""
        n = self.n_psu.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(n > 1, n / np.maximum(n - 1, 1), 1.0)
        return self.fpc_factor * ratio

    def psu_codes(self) -> np.ndarray:
        """PSU code of every row (the row number when every response is its own PSU)."""
        if self.psu is None:
            return np.arange(self.n_rows, dtype=np.int64)
        return self.psu

    def with_weights(
        self, weights: np.ndarray, calibration: Calibration | None = None
    ) -> SurveyDesign:
        """The same design with new (calibrated or trimmed) weights."""
        cal = self.calibrations if calibration is None else (*self.calibrations, calibration)
        return replace(self, weights=np.asarray(weights, dtype=float), calibrations=cal)


# --------------------------------------------------------------------------------------------
# construction


def _require_columns(df: pd.DataFrame, columns: Sequence[str | None]) -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise AnalysisError(
            f"column {', '.join(repr(c) for c in missing)} not found in the data "
            f"(columns are: {', '.join(map(str, df.columns[:30]))})"
        )


def _codes(values: pd.Series | np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    if (codes < 0).any():
        raise AnalysisError(f"{what} is blank in {int((codes < 0).sum())} row(s)")
    return codes.astype(np.int64), np.asarray(uniques)


def _numeric(df: pd.DataFrame, column: str, what: str) -> np.ndarray:
    s = df[column]
    if not pd.api.types.is_numeric_dtype(s):
        converted = pd.to_numeric(s, errors="coerce")
        bad = converted.isna() & s.notna()
        if bad.any():
            example = s[bad].iloc[0]
            raise AnalysisError(f"{what} column {column!r} is not numeric (e.g. {example!r})")
        s = converted
    values = s.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values).any():
        raise AnalysisError(
            f"{what} column {column!r} is blank in {int(np.isnan(values).sum())} row(s)"
        )
    return values


def _positive_finite(values: np.ndarray, column: str, what: str) -> None:
    """Weights and population sizes must be finite numbers above zero."""
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise AnalysisError(
            f"{what} column {column!r} must hold finite positive numbers "
            f"(data row {k + 1}: {values[k]:g})"
        )


def _computable_weights(weights: np.ndarray, column: str, what: str) -> None:
    """Refuse weights whose total, the total squared (Kish's n_eff, variances) or the total times
    the number of rows (design effects) is not a finite number, or whose squares vanish."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        total = float(np.sum(weights))
        smallest = float(np.min(weights))
        ok = (
            np.isfinite(total * total)
            and np.isfinite(total * weights.shape[0])
            and smallest * smallest > 0.0
        )
    if not ok:
        raise AnalysisError(
            f"{what} column {column!r} gives sampling weights adding up to {total:g} (the "
            f"smallest {smallest:g}): too large or too small to compute with; check its values"
        )


def _per_stratum_constant(
    values: np.ndarray, strata: np.ndarray, n_strata: int, what: str
) -> np.ndarray:
    first = np.full(n_strata, np.nan)
    first[strata[::-1]] = values[::-1]  # first occurrence wins
    if not np.allclose(first[strata], values, rtol=1e-9, atol=1e-9):
        raise AnalysisError(
            f"{what} differs between rows of the same stratum; use one stratum per service point "
            "and period (e.g. --strata on a service_point×period column)"
        )
    return first


def counter_design(
    df: pd.DataFrame,
    service_point: str = "service_point",
    volume: str = "volume",
    strata: str | None = None,
) -> SurveyDesign:
    """Design A, the counter design for QR and kiosk data.

    Every service point (or the ``strata`` column, e.g. service point × period) is a stratum, its
    respondents a simple random sample of its clients, and ``volume`` (clients served in the
    period) the stratum's population size N_h. Sampling weights are N_h/n_h.
    R: ``svydesign(ids=~1, strata=~service_point, fpc=~volume, data=d)``.
    """
    stratum_col = strata or service_point
    _require_columns(df, [stratum_col, volume])
    if len(df) == 0:
        raise AnalysisError("the data has no rows")
    h, labels = _codes(df[stratum_col], f"stratum column {stratum_col!r}")
    n_strata = len(labels)
    vol = _numeric(df, volume, "volume")
    _positive_finite(vol, volume, "volume")
    big_n = _per_stratum_constant(vol, h, n_strata, f"volume ({volume!r})")
    n_h = np.bincount(h, minlength=n_strata).astype(float)
    too_small = big_n < n_h
    if too_small.any():
        k = int(np.flatnonzero(too_small)[0])
        raise AnalysisError(
            f"service point {labels[k]!r} has volume {big_n[k]:g} but {int(n_h[k])} responses: "
            "the volume must be the number of clients served, at least the number of responses"
        )
    weights = (big_n / n_h)[h]
    _computable_weights(weights, volume, "volume")
    return SurveyDesign(
        weights=weights,
        strata=h,
        psu=None,
        n_psu=n_h.astype(np.int64),
        fpc_factor=(big_n - n_h) / big_n,
        description=f"counter design: strata={stratum_col}, fpc={volume}",
    )


def general_design(
    df: pd.DataFrame,
    strata: str | None = None,
    psu: str | None = None,
    weight: str | None = None,
    fpc: str | None = None,
) -> SurveyDesign:
    """Design B, a general stratified cluster design for imported surveys.

    PSUs are nested in strata (R's ``nest=TRUE``). ``weight`` gives sampling weights; without it
    they are N_h/n_h from ``fpc``, or 1. ``fpc`` is the stratum's population size in PSUs (values
    above 1) or its sampling fraction (values ≤ 1), constant within a stratum.
    R: ``svydesign(ids=~psu, strata=~strata, weights=~weight, fpc=~fpc, data=d, nest=TRUE)``.
    """
    _require_columns(df, [strata, psu, weight, fpc])
    n = len(df)
    if n == 0:
        raise AnalysisError("the data has no rows")
    if strata is None:
        h = np.zeros(n, dtype=np.int64)
        n_strata = 1
    else:
        h, labels = _codes(df[strata], f"stratum column {strata!r}")
        n_strata = len(labels)
    if psu is None:
        psu_codes = None
        n_psu = np.bincount(h, minlength=n_strata).astype(np.int64)
        psu_stratum = None
    else:
        p_raw, _ = _codes(df[psu], f"PSU column {psu!r}")
        psu_codes, uniq = pd.factorize(h * (int(p_raw.max()) + 1) + p_raw, sort=True)
        psu_codes = psu_codes.astype(np.int64)
        psu_stratum = (np.asarray(uniq) // (int(p_raw.max()) + 1)).astype(np.int64)
        n_psu = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)
    if fpc is not None:
        f_values = _numeric(df, fpc, "fpc")
        _positive_finite(f_values, fpc, "fpc")
        f_raw = _per_stratum_constant(f_values, h, n_strata, f"fpc ({fpc!r})")
        big_n = f_raw if (f_raw > 1).any() else n_psu / f_raw
        if (big_n < n_psu - 1e-9).any():
            raise AnalysisError(f"fpc column {fpc!r} is smaller than the number of sampled units")
        fpc_factor = (big_n - n_psu) / big_n
    else:
        big_n = None
        fpc_factor = np.ones(n_strata)
    if weight is not None:
        w = _numeric(df, weight, "weight")
        _positive_finite(w, weight, "weight")
        _computable_weights(w, weight, "weight")
    elif big_n is not None:
        w = (big_n / n_psu)[h]
        _computable_weights(w, str(fpc), "fpc")
    else:
        w = np.ones(n)
    return SurveyDesign(
        weights=np.asarray(w, dtype=float),
        strata=h,
        psu=psu_codes,
        n_psu=n_psu,
        fpc_factor=np.asarray(fpc_factor, dtype=float),
        psu_stratum=psu_stratum,
        description=f"general design: strata={strata}, psu={psu}, weight={weight}, fpc={fpc}",
    )


# --------------------------------------------------------------------------------------------
# variance


def _bincount_cols(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=size)
    out = np.empty((size, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=size)
    return out


def _psu_strata(design: SurveyDesign) -> np.ndarray:
    """Stratum of every PSU (of every row when each response is its own PSU)."""
    if design.psu is None or design.psu_stratum is None:
        return design.strata
    return design.psu_stratum


def _psu_group_totals(
    design: SurveyDesign, z: np.ndarray, g: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Totals of z per (PSU, group) pair present: values, stratum and group of each pair."""
    if design.psu is None:
        return z, design.strata, g
    key = design.psu * n_groups + g
    inv, uniq = pd.factorize(key)
    t = _bincount_cols(inv, z, len(uniq))
    pairs = np.asarray(uniq)
    return t, _psu_strata(design)[pairs // n_groups], pairs % n_groups


def variance_by_group(
    design: SurveyDesign, z: np.ndarray, g: np.ndarray, n_groups: int
) -> np.ndarray:
    """Variance of the total of ``z`` within each group (domain), vectorised over groups.

    ``z`` (n,) or (n, m): influence values times sampling weights, zero outside the domains;
    ``g``: group code per row (−1 for rows in no group). Groups must partition the rows they
    cover. Uses Σ_h c_h [Σ_i t_hi² − (Σ_i t_hi)²/n_h] with the full design's n_h (R's domain
    convention), which lets every group be computed from one pass of group sums.
    """
    if design.calibrations:
        return _calibrated_variance_by_group(design, z, g, n_groups)
    sel = g >= 0
    if not sel.all():
        sub = replace(
            design,
            weights=design.weights[sel],
            strata=design.strata[sel],
            psu=None if design.psu is None else design.psu[sel],
        )
        return variance_by_group(sub, z[sel], g[sel], n_groups)
    t, th, tg = _psu_group_totals(design, z, g, n_groups)
    key = th * n_groups + tg
    inv, uniq = pd.factorize(key)
    uniq = np.asarray(uniq)
    s1 = _bincount_cols(inv, t, len(uniq))
    s2 = _bincount_cols(inv, t * t, len(uniq))
    hh = uniq // n_groups
    gg = uniq % n_groups
    scale = design.stratum_scale[hh]
    nh = design.n_psu[hh].astype(float)
    if s1.ndim == 1:
        contrib = scale * (s2 - s1 * s1 / nh)
    else:
        contrib = scale[:, None] * (s2 - s1 * s1 / nh[:, None])
    var = _bincount_cols(gg, contrib, n_groups)
    return np.maximum(var, 0.0)


def df_by_group(design: SurveyDesign, g: np.ndarray, n_groups: int) -> np.ndarray:
    """Design degrees of freedom per domain: PSUs minus strata containing its rows (R ``degf``)."""
    sel = g >= 0
    gs = g[sel]
    hs = design.strata[sel]
    if design.psu is None:
        n_psu = np.bincount(gs, minlength=n_groups)
    else:
        _, uniq = pd.factorize(design.psu[sel] * n_groups + gs)
        n_psu = np.bincount(np.asarray(uniq) % n_groups, minlength=n_groups)
    _, uniq_h = pd.factorize(hs * n_groups + gs)
    n_str = np.bincount(np.asarray(uniq_h) % n_groups, minlength=n_groups)
    return (n_psu - n_str).astype(float)


# ---- calibrated designs: dense influence columns, projected as R does


def _incidence(codes: np.ndarray, size: int) -> Any:
    from scipy import sparse

    n = codes.shape[0]
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(size, n))


def calibration_residuals(design: SurveyDesign, x: np.ndarray) -> np.ndarray:
    """Project influence values on the calibration (raking / post-stratification) as R does."""
    x = np.array(x, dtype=float, copy=True)
    if x.ndim == 1:
        x = x[:, None]
    for cal in design.calibrations:
        if cal.kind == "raking":
            mats = []
            for codes in cal.codes:
                size = int(codes.max()) + 1
                inc = _incidence(codes, size)
                counts = np.bincount(codes, minlength=size).astype(float)
                mats.append((inc, counts))
            for _ in range(10):  # R: ``for (iterations in 1:10)`` in svyrecvar
                for (inc, counts), codes, psw in zip(mats, cal.codes, cal.weights, strict=True):
                    means = (inc @ (x / psw[:, None])) / counts[:, None]
                    x -= psw[:, None] * means[codes]
        else:
            codes = cal.codes[0]
            psw = cal.weights[0]
            oldw = cal.oldweights if cal.oldweights is not None else np.ones_like(psw)
            size = int(codes.max()) + 1
            inc = _incidence(codes, size)
            means = (inc @ (x * (oldw / psw)[:, None])) / np.bincount(
                codes, weights=oldw, minlength=size
            )[:, None]
            x -= means[codes] * psw[:, None]
    return x


def dense_vcov(design: SurveyDesign, x: np.ndarray) -> np.ndarray:
    """Covariance matrix of the totals of the columns of x (n × k), over the whole design."""
    x = calibration_residuals(design, x) if design.calibrations else np.asarray(x, float)
    if x.ndim == 1:
        x = x[:, None]
    if design.psu is not None:
        inc = _incidence(design.psu, int(design.psu.max()) + 1)
        t = np.asarray(inc @ x)
    else:
        t = x
    th = _psu_strata(design)
    hinc = _incidence(th, design.n_strata)
    means = np.asarray(hinc @ t) / np.maximum(design.n_psu, 1)[:, None]
    tc = t - means[th]
    scale = design.stratum_scale[th]
    return tc.T @ (tc * scale[:, None])


def _calibrated_variance_by_group(
    design: SurveyDesign, z: np.ndarray, g: np.ndarray, n_groups: int
) -> np.ndarray:
    zz = z if z.ndim == 2 else z[:, None]
    m = zz.shape[1]
    out = np.empty((n_groups, m))
    rows = np.flatnonzero(g >= 0)
    chunk = max(1, min(n_groups, 20_000_000 // max(design.n_rows, 1)))
    for j in range(m):
        for start in range(0, n_groups, chunk):
            stop = min(n_groups, start + chunk)
            r = rows[(g[rows] >= start) & (g[rows] < stop)]
            dense = np.zeros((design.n_rows, stop - start))
            dense[r, g[r] - start] = zz[r, j]
            out[start:stop, j] = np.diag(dense_vcov(design, dense))
    out = np.maximum(out, 0.0)
    return out if z.ndim == 2 else out[:, 0]


def vcov_groups(
    design: SurveyDesign,
    z: np.ndarray,
    g: np.ndarray,
    n_groups: int,
    u: np.ndarray | None = None,
    q: np.ndarray | None = None,
) -> np.ndarray:
    """Full covariance matrix of the totals of columns Z[i, k] = 1[g_i = k]·z_i + u_i·q_k.

    The sparse part handles group-wise influence values (one non-zero per row), the rank-one part
    u·qᵀ the common term of cell proportions (used by the Rao–Scott test). Computed with sparse
    products so that hundreds of groups stay cheap.
    """
    if design.calibrations or design.n_rows * n_groups <= 2_000_000:
        dense = np.zeros((design.n_rows, n_groups))
        rows = np.flatnonzero(g >= 0)
        dense[rows, g[rows]] = z[rows]
        if u is not None and q is not None:
            dense += np.outer(u, q)
        return dense_vcov(design, dense)
    from scipy import sparse

    sel = g >= 0
    psu = design.psu_codes()
    n_p = int(psu.max()) + 1
    p_stratum = _psu_strata(design)
    a = sparse.csr_matrix((z[sel], (psu[sel], g[sel])), shape=(n_p, n_groups))
    c = design.stratum_scale[p_stratum]
    d = design.stratum_scale / np.maximum(design.n_psu, 1)
    hinc = _incidence(p_stratum, design.n_strata)
    b = (hinc @ a).tocsr()
    cov = np.asarray((a.T @ a.multiply(c[:, None])).todense()) - np.asarray(
        (b.T @ b.multiply(d[:, None])).todense()
    )
    if u is not None and q is not None:
        s = np.bincount(psu, weights=u, minlength=n_p)
        sig = np.bincount(p_stratum, weights=s, minlength=design.n_strata)
        acs = np.asarray(a.T @ (c * s)).ravel() - np.asarray(b.T @ (d * sig)).ravel()
        cov += np.outer(acs, q) + np.outer(q, acs)
        cov += (float(s @ (c * s)) - float(sig @ (d * sig))) * np.outer(q, q)
    return cov
