"""Ratio estimators from sufficient statistics: the indices computed from aggregates, not rows.

Every index of the reports is a ratio of weighted totals within a domain g,
R̂_g = Σ_{i∈g} w_i a_i / Σ_{i∈g} w_i b_i (share satisfied: a = 1[x ≥ 4], b = 1 over valid
answers; mean score: a = x, b = 1), with **sampling weights** w_i. Its Taylor-linearised variance
(Binder 1983; Wolter 2007, *Introduction to Variance Estimation*, ch. 6; Lumley 2010, *Complex
Surveys*, §2.2 and appendix C, R's ``svyrecvar``) needs, per stratum h and PSU j, only the PSU
total of the influence values

    t_hj = Σ_{i ∈ j ∩ g} w_i (a_i − R̂_g b_i) / Σ_g w b = (A_hj − R̂_g B_hj) / D_g,

which is linear in the PSU's weighted totals A_hj = Σ w a and B_hj = Σ w b (D_g = Σ_h Σ_j B_hj).
The variance is

    V(R̂_g) = Σ_h c_h [ Σ_j (t_hj − μ_h)² + (n_h − m_hg) μ_h² ],   μ_h = Σ_j t_hj / n_h,

with c_h = (1 − f_h)·n_h/(n_h − 1), n_h the PSUs of the stratum in the **full** design (R's domain
convention: PSUs without a row of the domain count as t = 0), m_hg those with a row of the domain,
f_h = n_h/N_h, and the lonely-PSU rule of :mod:`analysis.design` (``"adjust"`` centres a lonely
PSU at 0, i.e. μ_h = 0). So a table of *cells* — a set of PSUs of one stratum and one domain —
holding m (PSUs), ΣA, ΣB and the centred sums of products of the PSU totals
S_AA = Σ_j (A_j − Ā)², S_AB, S_BB is exactly sufficient: within a cell
Σ_j (t_j − t̄)² = (S_AA − 2R̂ S_AB + R̂² S_BB)/D², and cells of the same stratum and domain combine
as Σ_c [SS_c + m_c (t̄_c − μ_h)²]. A cell holding one PSU has S = 0; in the counter design (every
response its own PSU, w_h = N_h/n_h the same for the stratum) a cell of m valid answers, s of them
satisfied, has ΣA = w_h s, ΣB = w_h m, S_AA = w_h² s(m − s)/m, S_AB = S_BB = 0 (see
:func:`share_cells`). Kish's effective size needs Σw and Σw² over respondents and the design
effect (:data:`analysis.estimators.DEFF_DEFINITION`) Σw, Σw·a², Σw·a·b and Σw·b² over rows.

Intervals, statuses and notes come from the same code as the row-level estimators
(:func:`analysis.estimators.estimate_proportion`, :func:`~analysis.estimators.estimate_mean`), so
the results are :class:`analysis.results.Estimate` objects with the same fields and, on the same
data, the same values (tested to 1e-12, and against R to 1e-6). One-stage designs (or the
ultimate-cluster approximation) without calibration or replicate weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import intervals
from analysis.design import (
    SurveyDesign,
    _average_factor,
    _fail_if_lonely,
    _stage_specs,
    _zero_rounding,
    check_lonely_psu,
)
from analysis.errors import AnalysisError
from analysis.estimators import (
    Grouping,
    _as_list,
    _build,
    _Core,
    groupings_for,
    is_replicate,
)
from analysis.results import Estimate

#: Columns of a cell table (one row per stratum × set of PSUs × domain; see the module docstring):
#: ``stratum`` names the stratum; ``units`` = PSUs with a row of the domain, ``rows`` = those rows,
#: ``n`` = rows with b > 0 (respondents); ``sum_w`` = Σw over the rows, ``sum_w_n``/``sum_w2_n``
#: = Σw/Σw² over respondents; ``sum_wa``/``sum_wb`` = Σw·a/Σw·b; ``sum_waa``, ``sum_wab``,
#: ``sum_wbb`` = Σw·a², Σw·a·b, Σw·b² over rows; ``ss_aa``, ``ss_ab``, ``ss_bb`` = centred sums of
#: products of the cell's PSU totals (0 for a cell of one PSU). Domain columns (``by``) and an
#: optional ``psu`` (a cell of that single PSU) may be added.
CELL_COLUMNS = (
    "stratum",
    "units",
    "rows",
    "n",
    "sum_w",
    "sum_w_n",
    "sum_w2_n",
    "sum_wa",
    "sum_wb",
    "sum_waa",
    "sum_wab",
    "sum_wbb",
    "ss_aa",
    "ss_ab",
    "ss_bb",
)
_SUMMED = CELL_COLUMNS[1:]
#: Columns of a strata table: ``stratum``, ``psus`` (n_h, its PSUs in the full design) and
#: optionally ``population`` (N_h, blank: no finite population correction) or ``fpc`` (1 − n_h/N_h).
STRATUM_COLUMNS = ("stratum", "psus")


@dataclass(frozen=True, kw_only=True)
class CellTables:
    """Sufficient statistics of a ratio: ``cells`` (:data:`CELL_COLUMNS` plus domain columns)
    and ``strata`` (:data:`STRATUM_COLUMNS` plus ``population`` or ``fpc``)."""

    cells: pd.DataFrame
    strata: pd.DataFrame


@dataclass(frozen=True, kw_only=True)
class CounterVolumes:
    """Population sizes of the counter design's strata after :func:`impute_volumes`.

    ``volume``: N_h per stratum (≥ its responses); ``imputed``: strata whose volume was missing;
    ``response_rate``: the median response rate n_h/N_h of the strata with a volume, used for the
    missing ones (None when none was missing).
    """

    volume: np.ndarray
    imputed: np.ndarray
    response_rate: float | None


# --------------------------------------------------------------------------------------------
# building cells


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnalysisError(
            f"the {what} table lacks the column(s) {', '.join(repr(c) for c in missing)} "
            f"(columns are: {', '.join(map(str, frame.columns[:30]))})"
        )


def impute_volumes(responses: Sequence[float] | np.ndarray, volumes: Any) -> CounterVolumes:
    """Population sizes N_h for the counter design from the strata's recorded service volumes.

    A stratum without a recorded volume (NaN) gets N_h = round(n_h / r), r the median response
    rate n_h/N_h of the strata that have one (0.2 if none has), r kept within [0.001, 1], so that
    its respondents weigh like their neighbours' instead of being dropped (a ratio imputation,
    Särndal & Lundström 2005, §7); every N_h is then at least n_h (a stratum cannot have more
    respondents than clients). ``responses`` and ``volumes`` hold one value per stratum. The same
    rule as the row-level reports apply to the responses table (``analysable``).
    """
    n = np.asarray(responses, dtype=float)
    vol = pd.to_numeric(pd.Series(np.asarray(volumes, dtype=object)), errors="coerce")
    v = vol.to_numpy(dtype=float, na_value=np.nan)
    if n.shape != v.shape:
        raise AnalysisError("give one volume per stratum")
    missing = np.isnan(v)
    rate: float | None = None
    if missing.any():
        known = ~missing
        rate = float(np.median(n[known] / v[known])) if known.any() else 0.2
        rate = min(max(rate, 1e-3), 1.0)
        v = v.copy()
        v[missing] = np.round(n[missing] / rate)
    return CounterVolumes(volume=np.maximum(v, n), imputed=missing, response_rate=rate)


def _counter_weights(counts: pd.DataFrame, strata: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """w_h = N_h/n_h of every count row, and the design's strata table."""
    _require(strata, ("stratum", "responses", "volume"), "strata")
    if strata["stratum"].duplicated().any():
        raise AnalysisError("the strata table names a stratum twice")
    n_h = strata["responses"].to_numpy(dtype=float)
    big_n = strata["volume"].to_numpy(dtype=float)
    if (~np.isfinite(big_n)).any() or (big_n < n_h).any() or (n_h < 1).any():
        raise AnalysisError(
            "every stratum needs at least one response and a volume (clients served) of at least "
            "its responses: impute missing volumes first (impute_volumes)"
        )
    w_h = pd.Series(big_n / n_h, index=strata["stratum"].to_numpy())
    w = w_h.reindex(counts["stratum"].to_numpy()).to_numpy(dtype=float)
    if np.isnan(w).any():
        raise AnalysisError("the counts name a stratum that is not in the strata table")
    design = pd.DataFrame(
        {"stratum": strata["stratum"].to_numpy(), "psus": n_h, "population": big_n}
    )
    return w, design


def share_cells(counts: pd.DataFrame, strata: pd.DataFrame) -> CellTables:
    """Cells of a share under the counter design (every response its own PSU, stratum h's
    weight w_h = N_h/n_h) from unweighted counts.

    ``counts``: ``stratum``, domain columns, ``answered`` (m: valid answers) and ``satisfied``
    (s: answers counted as satisfied) per stratum × domain; ``strata``: ``stratum``,
    ``responses`` (n_h, every response of the stratum, answered or not) and ``volume`` (N_h).
    With a = 1[satisfied], b = 1: ΣA = w s, ΣB = w m, S_AA = w² s(m − s)/m, S_AB = S_BB = 0.
    """
    _require(counts, ("stratum", "answered", "satisfied"), "counts")
    w, design = _counter_weights(counts, strata)
    m = counts["answered"].to_numpy(dtype=float)
    s = counts["satisfied"].to_numpy(dtype=float)
    if (s > m).any() or (s < 0).any():
        raise AnalysisError("a stratum has more satisfied answers than answers")
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(m > 0, s * (m - s) / m, 0.0)
    cells = counts.drop(columns=["answered", "satisfied"]).assign(
        units=m,
        rows=m,
        n=m,
        sum_w=w * m,
        sum_w_n=w * m,
        sum_w2_n=w * w * m,
        sum_wa=w * s,
        sum_wb=w * m,
        sum_waa=w * s,
        sum_wab=w * s,
        sum_wbb=w * m,
        ss_aa=w * w * spread,
        ss_ab=0.0,
        ss_bb=0.0,
    )
    return CellTables(cells=cells, strata=design)


def score_cells(counts: pd.DataFrame, strata: pd.DataFrame) -> CellTables:
    """Cells of a mean score under the counter design from unweighted sums.

    ``counts``: ``stratum``, domain columns, ``answered`` (m), ``score_sum`` (Σx) and
    ``score_squares`` (Σx²) of the valid answers per stratum × domain; ``strata`` as for
    :func:`share_cells`. With a = x, b = 1: ΣA = w Σx, S_AA = w² (mΣx² − (Σx)²)/m (exact for
    whole-number answers: both products are integers below 2⁵³).
    """
    _require(counts, ("stratum", "answered", "score_sum", "score_squares"), "counts")
    w, design = _counter_weights(counts, strata)
    m = counts["answered"].to_numpy(dtype=float)
    x1 = counts["score_sum"].to_numpy(dtype=float)
    x2 = counts["score_squares"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(m > 0, np.maximum(m * x2 - x1 * x1, 0.0) / m, 0.0)
    cells = counts.drop(columns=["answered", "score_sum", "score_squares"]).assign(
        units=m,
        rows=m,
        n=m,
        sum_w=w * m,
        sum_w_n=w * m,
        sum_w2_n=w * w * m,
        sum_wa=w * x1,
        sum_wb=w * m,
        sum_waa=w * x2,
        sum_wab=w * x1,
        sum_wbb=w * m,
        ss_aa=w * w * spread,
        ss_ab=0.0,
        ss_bb=0.0,
    )
    return CellTables(cells=cells, strata=design)


def cells_from_rows(
    data: pd.DataFrame,
    design: SurveyDesign,
    a: np.ndarray,
    b: np.ndarray,
    by: str | Sequence[str] | None = None,
    *,
    valid: np.ndarray | None = None,
) -> CellTables:
    """Aggregate rows into the cells of the ratio Σw·a/Σw·b (the inverse of nothing: what a
    database would return), one per stratum × PSU × domain (× stratum × domain when every row is
    its own PSU). Rows where ``valid`` is False stay out of every sum but keep their domain in
    the table (an agency with no valid answer is still reported, with n = 0).
    """
    if is_replicate(design) or design.calibrations or design.stages:
        raise AnalysisError(
            "aggregates describe one-stage designs without calibration or replicate weights"
        )
    if design.n_rows != len(data):
        raise AnalysisError("build the design from the same data")
    cols = _as_list(by)
    ok = np.ones(len(data), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    a = np.where(ok, np.asarray(a, dtype=float), 0.0)
    b = np.where(ok, np.asarray(b, dtype=float), 0.0)
    w = np.where(ok, design.weights, 0.0)
    frame = pd.DataFrame({c: data[c].to_numpy() for c in cols})
    labels = np.asarray(design.stratum_labels, dtype=object)
    frame["stratum"] = labels[design.strata]
    keys = ["stratum", *cols]
    if design.psu is not None:
        frame["psu"] = design.psu
        keys = ["stratum", "psu", *cols]
    one = ok.astype(float)
    resp = (ok & (b > 0)).astype(float)
    frame = frame.assign(
        rows=one,
        n=resp,
        sum_w=w,
        sum_w_n=w * resp,
        sum_w2_n=w * w * resp,
        sum_wa=w * a,
        sum_wb=w * b,
        sum_waa=w * a * a,
        sum_wab=w * a * b,
        sum_wbb=w * b * b,
    )
    grouped = frame.groupby(keys, sort=False, dropna=False)
    cells = grouped[list(_SUMMED[1:11])].sum().reset_index()
    if design.psu is not None:
        cells["units"] = (cells["rows"] > 0).astype(float)
        cells["ss_aa"] = cells["ss_ab"] = cells["ss_bb"] = 0.0
    else:
        # every row its own PSU: the spread of the rows' w·a and w·b around the cell's means
        wa = grouped["sum_wa"].transform("sum") / grouped["rows"].transform("sum")
        wb = grouped["sum_wb"].transform("sum") / grouped["rows"].transform("sum")
        da = np.where(ok, frame["sum_wa"] - wa, 0.0)
        db = np.where(ok, frame["sum_wb"] - wb, 0.0)
        spread = frame[keys].assign(ss_aa=da * da, ss_ab=da * db, ss_bb=db * db)
        sums = spread.groupby(keys, sort=False, dropna=False).sum().reset_index(drop=True)
        cells["units"] = cells["rows"]
        cells[["ss_aa", "ss_ab", "ss_bb"]] = sums[["ss_aa", "ss_ab", "ss_bb"]].to_numpy()
    strata = pd.DataFrame(
        {"stratum": labels, "psus": design.n_psu.astype(float), "fpc": design.fpc_factor}
    )
    return CellTables(cells=cells, strata=strata)


# --------------------------------------------------------------------------------------------
# estimating


def _stratum_spec(strata: pd.DataFrame, lonely_psu: str) -> tuple[pd.Index, Any]:
    """The strata's codes and the variance's scale factors under the lonely-PSU rule, computed by
    the same code as the row-level designs (:func:`analysis.design._stage_specs`)."""
    _require(strata, STRATUM_COLUMNS, "strata")
    if strata["stratum"].duplicated().any():
        raise AnalysisError("the strata table names a stratum twice")
    n_h = strata["psus"].to_numpy(dtype=float)
    if (n_h < 1).any() or np.isnan(n_h).any():
        raise AnalysisError("every stratum needs at least one PSU")
    if "population" in strata.columns and "fpc" in strata.columns:
        raise AnalysisError("give the strata's population or their fpc, not both")
    if "population" in strata.columns:
        big_n = strata["population"].to_numpy(dtype=float)
        if (big_n < n_h).any():
            raise AnalysisError("a stratum's population is smaller than its PSUs")
        with np.errstate(divide="ignore", invalid="ignore"):
            fpc = np.where(np.isnan(big_n), 1.0, (big_n - n_h) / big_n)
    elif "fpc" in strata.columns:
        fpc = strata["fpc"].to_numpy(dtype=float)
    else:
        fpc = np.ones(len(strata))
    labels = pd.Index(strata["stratum"].to_numpy())
    stub = SurveyDesign(
        weights=np.ones(len(strata)),
        strata=np.arange(len(strata), dtype=np.int64),
        psu=None,
        n_psu=n_h.astype(np.int64),
        fpc_factor=np.asarray(fpc, dtype=float),
        lonely_psu=check_lonely_psu(lonely_psu),
        stratum_labels=tuple(labels),
    )
    (spec,) = _stage_specs(stub)
    return labels, spec


def _one_per_psu(
    values: dict[str, np.ndarray], psu: np.ndarray, h: np.ndarray, g: np.ndarray, n_groups: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Cells naming a ``psu`` hold one PSU each: the cells of one PSU and group are summed (their
    PSU totals add up), so that a PSU counts once however finely the cells were cut."""
    key, uniq = pd.factorize(psu * n_groups + g)
    k = len(uniq)
    first = np.full(k, -1, dtype=np.int64)
    first[key[::-1]] = np.arange(len(key))[::-1]
    merged: dict[str, np.ndarray] = {
        name: np.bincount(key, weights=v, minlength=k)
        for name, v in values.items()
        if not name.startswith("ss_")
    }
    merged["units"] = (merged["rows"] > 0).astype(float)
    for name in ("ss_aa", "ss_ab", "ss_bb"):
        merged[name] = np.zeros(k)
    return merged, h[first], g[first]


def _cell_core(
    cells: pd.DataFrame, h: np.ndarray, psu: np.ndarray | None, spec: Any, grouping: Grouping
) -> _Core:
    """The estimator's arrays for one grouping of the cells (as ``_ratio_core`` for rows)."""
    n_groups = grouping.size
    sel = grouping.codes >= 0
    g = grouping.codes[sel]
    h = h[sel]
    values: dict[str, np.ndarray] = {
        name: cells[name].to_numpy(dtype=float)[sel] for name in _SUMMED
    }
    if psu is not None:
        values, h, g = _one_per_psu(values, psu[sel], h, g, n_groups)

    def col(name: str) -> np.ndarray:
        return values[name]

    def total(name: str) -> np.ndarray:
        summed: np.ndarray = np.bincount(g, weights=col(name), minlength=n_groups)
        return summed

    units = col("units")
    num, den = total("sum_wa"), total("sum_wb")
    pos = den > 0
    den_safe = np.where(pos, den, 1.0)
    r = np.where(pos, num / den_safe, np.nan)
    r0 = np.where(pos, r, 0.0)
    rc, dc = r0[g], den_safe[g]
    t_cell = (col("sum_wa") - rc * col("sum_wb")) / dc
    ss_cell = (col("ss_aa") - 2 * rc * col("ss_ab") + rc * rc * col("ss_bb")) / (dc * dc)
    ss_cell = np.maximum(ss_cell, 0.0)
    # strata × domains: two-pass around μ_h = Σt/n_h (0 for a lonely PSU under "adjust")
    has = units > 0
    pair, pairs = pd.factorize(h[has] * n_groups + g[has])
    pairs = np.asarray(pairs, dtype=np.int64)
    k = len(pairs)
    hh, gg = pairs // n_groups, pairs % n_groups
    if spec.rule == "fail" and spec.lonely.any():
        touched = np.zeros(spec.n_units.shape[0], dtype=bool)
        touched[hh] = True
        _fail_if_lonely(spec, touched)
    m_c, t_c, s_c = units[has], t_cell[has], ss_cell[has]
    m_pair = np.bincount(pair, weights=m_c, minlength=k)
    s1 = np.bincount(pair, weights=t_c, minlength=k)
    nh = spec.n_units[hh]
    mean = np.where(spec.centre[hh], s1 / nh, 0.0)
    gap = t_c / m_c - mean[pair]
    ss = np.bincount(pair, weights=s_c + m_c * gap * gap, minlength=k) + (nh - m_pair) * mean**2
    contrib = spec.scale[hh] * ss
    size = contrib + spec.scale[hh] * nh * mean * mean
    var = np.bincount(gg, weights=contrib, minlength=n_groups)
    sizes = np.bincount(gg, weights=size, minlength=n_groups)
    if spec.rule == "average":
        factor = _average_factor(spec, hh, gg, n_groups)
        with np.errstate(invalid="ignore"):  # no stratum with two PSUs: NaN, as in R
            var, sizes = var * factor, sizes * factor
    var = np.maximum(_zero_rounding(var, sizes), 0.0)
    df = total("units") - np.bincount(gg, minlength=n_groups)
    n_resp = total("n")
    nobs = total("rows")
    wsum = total("sum_w")
    sw, sw2 = total("sum_w_n"), total("sum_w2_n")
    swe2 = (total("sum_waa") - 2 * r0 * total("sum_wab") + r0 * r0 * total("sum_wbb")) / (
        den_safe * den_safe
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = sw * sw / sw2
        s2 = wsum * nobs / (nobs - 1) * swe2
        fpc = np.where(wsum > nobs, (wsum - nobs) / (wsum * nobs), np.nan)
        deff = var / (s2 * fpc)
    return _Core(
        estimate=r[:, None],
        var=var[:, None],
        df=df,
        n=n_resp[:, None],
        n_eff=n_eff[:, None],
        nobs=nobs,
        deff=deff[:, None],
        nrow=nobs,
    )


def estimate_ratio_from_cells(
    tables: CellTables,
    by: str | Sequence[str] | None = None,
    *,
    measure: str,
    proportion: bool = True,
    ci_method: str = "logit",
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
    lonely_psu: str = "adjust",
    transform: tuple[float, float] | None = None,
) -> list[Estimate]:
    """R̂_g = ΣA/ΣB of every domain from cells (see the module docstring for the variance).

    ``by``: domain columns of the cells (None: the whole population); groups, their order, the
    whole-population group after them (``include_total``) and every field of the results are those
    of the row-level estimator on the rows the cells summarise. ``proportion``: a share (interval
    ``ci_method``: logit, beta, wilson or wald, t on the domain's degrees of freedom = PSUs −
    strata it touches) or else a mean (Wald interval). ``transform`` (c₀, c₁) reports c₀ + c₁·R̂
    (the 0–100 index of a 1–5 mean: (−25, 25)). ``lonely_psu``: the rule for strata with one PSU,
    as R's ``options(survey.lonely.psu=)`` (the counter design's default is ``"adjust"``).
    R: ``svyby(~sat, ~g, subset(design, !is.na(q)), svyciprop, method="logit")``.
    """
    if ci_method not in intervals.CI_METHODS:
        raise AnalysisError(
            f"unknown interval method {ci_method!r}; use one of {', '.join(intervals.CI_METHODS)}"
        )
    if min_n < 0:
        raise AnalysisError("the minimum sample size cannot be negative")
    cells = tables.cells
    _require(cells, CELL_COLUMNS, "cells")
    cols = _as_list(by)
    _require(cells, cols, "cells")
    labels, spec = _stratum_spec(tables.strata, lonely_psu)
    h = labels.get_indexer(cells["stratum"].to_numpy())
    if (h < 0).any():
        raise AnalysisError(
            f"stratum {cells['stratum'].to_numpy()[h < 0][0]!r} of the cells is not in the "
            "strata table"
        )
    if len(cells) == 0:
        raise AnalysisError("the data has no rows")
    psu = None
    if "psu" in cells.columns:
        codes, _ = pd.factorize(pd.MultiIndex.from_arrays([cells["stratum"], cells["psu"]]))
        psu = codes.astype(np.int64)
    out: list[Estimate] = []
    for grouping in groupings_for(cells, by, include_total):
        core = _cell_core(cells, h, psu, spec, grouping)
        out.extend(
            _build(
                core,
                grouping,
                [measure],
                proportion_like=[proportion],
                ci_method=ci_method if proportion else "wald",
                confidence_level=confidence_level,
                min_n=min_n,
                transform=[transform] if transform is not None else None,
            )
        )
    return out


def estimate_share_from_counts(
    counts: pd.DataFrame,
    strata: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    item: str = "q_overall",
    ci_method: str = "logit",
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
    lonely_psu: str = "adjust",
) -> list[Estimate]:
    """The share satisfied with ``item`` by domain under the counter design, from counts per
    stratum × domain (:func:`share_cells`): what :func:`analysis.estimate_proportion` gives on
    the rows with ``counter_design(strata=..., volume=...)``, measure ``share_satisfied:<item>``.
    """
    return estimate_ratio_from_cells(
        share_cells(counts, strata),
        by,
        measure=f"share_satisfied:{item}",
        ci_method=ci_method,
        confidence_level=confidence_level,
        min_n=min_n,
        include_total=include_total,
        lonely_psu=lonely_psu,
    )


def estimate_mean_from_counts(
    counts: pd.DataFrame,
    strata: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    item: str = "q_overall",
    index: bool = False,
    confidence_level: float = 0.95,
    min_n: int = 30,
    include_total: bool = True,
    lonely_psu: str = "adjust",
) -> list[Estimate]:
    """The mean score of ``item`` (or its 0–100 index, 100·(mean − 1)/4) by domain under the
    counter design, from sums per stratum × domain (:func:`score_cells`): what
    :func:`analysis.estimate_mean` gives on the rows; Wald interval on the design's df."""
    return estimate_ratio_from_cells(
        score_cells(counts, strata),
        by,
        measure=f"mean_index:{item}" if index else f"mean:{item}",
        proportion=False,
        confidence_level=confidence_level,
        min_n=min_n,
        include_total=include_total,
        lonely_psu=lonely_psu,
        transform=(-25.0, 25.0) if index else None,
    )
