"""The rest of a report from sufficient statistics: element indices and the composite, answer
distributions, changes between independent samples, and rows equivalent to counts.

Counter design throughout (every response its own PSU; stratum h = service point × quarter with
n_h responses and N_h clients served; sampling weight w_h = N_h/n_h the same for the stratum).

**Element indices and the composite** (SIPAS-style; :func:`analysis.element_indices` on rows).
Respondent i has, for element k, a_ik satisfied answers (≥ 4) among b_ik valid answers of the
element's items; E_k = Σ w a_k / Σ w b_k and the composite C = Σ_k c_k E_k. Stack
x_i = (a_i1 … a_iK, b_i1 … b_iK). A stratum's Σ_i x_i and Σ_i x_i x_iᵀ (one GROUP BY per
respondent, then per stratum) are sufficient: E_k's cell holds ΣA = w Σa_k, ΣB = w Σb_k and the
centred products S = w²(Σxxᵀ − ΣxΣxᵀ/n_h) of its two coordinates; the composite's influence value
is linear in x, z_i = uᵀx_i with u = (c_k/D_k, −c_k E_k/D_k) (D_k = Σ w b_k), so its cell holds
ΣA = w uᵀΣx and S_AA = uᵀSu, and the variance follows from the same stratum sums
(:func:`analysis.aggregates.estimate_ratio_from_cells`; Binder 1983; Lumley 2010 §2.3,
``svycontrast``). Equal to the row-level estimator to rounding (tests/analysis).

**Answer distributions**: the share of answer v among valid answers, Σ_h w_h n_hv / Σ_h w_h m_h
(R ``svymean(~factor(q), subset(design, !is.na(q)))``'s point estimate).

**Changes** (:func:`change_between`): two estimates from separate strata (two periods, each part
of a quarter its own stratum) are independent, so Var(θ̂₁ − θ̂₂) = V₁ + V₂, with t on the pooled
design's degrees of freedom df₁ + df₂ (PSUs − strata of both) — what
:func:`analysis.compare_periods` gives on the stacked rows (Lumley 2010 §3.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.aggregates import (
    CELL_COLUMNS,
    CellTables,
    _cell_core,
    _counter_weights,
    _require,
    _stratum_spec,
    estimate_ratio_from_cells,
)
from analysis.compare import pairwise_differences
from analysis.errors import AnalysisError
from analysis.estimators import _build, make_grouping
from analysis.results import Estimate, PairwiseDifference

SCALE = (1, 2, 3, 4, 5)


def sum_columns(elements: int) -> tuple[list[str], list[str]]:
    """Column names of a respondent-sums table for ``elements`` elements: the coordinates
    ``x0 … x(2K−1)`` (a_1 … a_K, b_1 … b_K) and their products ``xx<j>_<l>`` (j ≤ l)."""
    size = 2 * elements
    singles = [f"x{j}" for j in range(size)]
    products = [f"xx{j}_{k}" for j in range(size) for k in range(j, size)]
    return singles, products


def _product_matrix(sums: pd.DataFrame, size: int) -> np.ndarray:
    """Σxxᵀ per stratum as an (strata × size × size) array from the ``xx<j>_<l>`` columns."""
    out = np.empty((len(sums), size, size))
    for j in range(size):
        for k in range(j, size):
            column = sums[f"xx{j}_{k}"].to_numpy(dtype=float)
            out[:, j, k] = column
            out[:, k, j] = column
    return out


def element_indices_from_sums(
    sums: pd.DataFrame,
    strata: pd.DataFrame,
    elements: Sequence[str],
    *,
    element_weights: Mapping[str, float] | None = None,
    ci_method: str = "logit",
    confidence_level: float = 0.95,
    min_n: int = 30,
    lonely_psu: str = "adjust",
) -> list[Estimate]:
    """Element indices ``element:<code>`` and the ``composite`` of a whole population (see the
    module docstring) from one row per stratum of ``sums``: ``stratum``, ``responses`` (n_h: every
    response, answered or not), ``answered<k>`` (respondents with a valid answer in element k),
    ``answered_any`` (in any element) and the columns of :func:`sum_columns`. ``strata``:
    ``stratum``, ``responses``, ``volume`` (N_h). What :func:`analysis.element_indices` returns
    on the rows with ``by=None, include_total=True``.
    """
    codes = list(elements)
    if not codes:
        raise AnalysisError("give at least one element")
    k_el = len(codes)
    singles, products = sum_columns(k_el)
    _require(
        sums,
        ["stratum", "responses", "answered_any", *[f"answered{k}" for k in range(k_el)], *singles],
        "sums",
    )
    _require(sums, products, "sums")
    if element_weights is None:
        c = np.full(k_el, 1.0 / k_el)
    else:
        unknown = set(element_weights) - set(codes)
        if unknown:
            raise AnalysisError(f"element weight given for unknown element {sorted(unknown)[0]!r}")
        c = np.array([float(element_weights.get(code, 0.0)) for code in codes])
        if (c < 0).any() or c.sum() <= 0:
            raise AnalysisError("element weights must be non-negative and not all zero")
        c = c / c.sum()
    w, design = _counter_weights(sums, strata)
    n_h = sums["responses"].to_numpy(dtype=float)
    x = sums[singles].to_numpy(dtype=float)  # strata × 2K
    xx = _product_matrix(sums, 2 * k_el)  # strata × 2K × 2K
    centred = xx - x[:, :, None] * x[:, None, :] / n_h[:, None, None]
    base = {"stratum": sums["stratum"].to_numpy()}

    def cell(
        sum_a: np.ndarray,
        sum_b: np.ndarray,
        aa: np.ndarray,
        ab: np.ndarray,
        bb: np.ndarray,
        ss: tuple[np.ndarray, np.ndarray, np.ndarray],
        answered: np.ndarray,
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                **base,
                "units": n_h,
                "rows": n_h,
                "n": answered,
                "sum_w": w * n_h,
                "sum_w_n": w * answered,
                "sum_w2_n": w * w * answered,
                "sum_wa": w * sum_a,
                "sum_wb": w * sum_b,
                "sum_waa": w * aa,
                "sum_wab": w * ab,
                "sum_wbb": w * bb,
                "ss_aa": w * w * ss[0],
                "ss_ab": w * w * ss[1],
                "ss_bb": w * w * ss[2],
            }
        )[list(CELL_COLUMNS)]

    out: list[Estimate] = []
    ratios = np.empty(k_el)
    dens = np.empty(k_el)
    for k, code in enumerate(codes):
        ia, ib = k, k_el + k
        answered = sums[f"answered{k}"].to_numpy(dtype=float)
        cells = cell(
            x[:, ia],
            x[:, ib],
            xx[:, ia, ia],
            xx[:, ia, ib],
            xx[:, ib, ib],
            (centred[:, ia, ia], centred[:, ia, ib], centred[:, ib, ib]),
            answered,
        )
        (estimate,) = estimate_ratio_from_cells(
            CellTables(cells=cells, strata=design),
            None,
            measure=f"element:{code}",
            ci_method=ci_method,
            confidence_level=confidence_level,
            min_n=min_n,
            lonely_psu=lonely_psu,
        )
        out.append(estimate)
        num, den = float((w * x[:, ia]).sum()), float((w * x[:, ib]).sum())
        dens[k] = den if den > 0 else 1.0
        ratios[k] = num / den if den > 0 else np.nan
    # the composite: influence u·x per respondent, a "ratio" with ΣB = 1 and ΣA = 0
    r0 = np.where(np.isnan(ratios), 0.0, ratios)
    u = np.concatenate([c / dens, -c * r0 / dens])
    total_w = float((w * n_h).sum())
    ux = x @ u
    uxxu = np.einsum("j,hjk,k->h", u, xx, u)
    uSu = np.maximum(np.einsum("j,hjk,k->h", u, centred, u), 0.0)
    zero = np.zeros(len(sums))
    share = n_h / total_w  # the strata's ΣB: Σ_h w_h n_h / W = 1, so R̂ = ΣA = 0
    cells = cell(
        ux, share, uxxu, zero, zero, (uSu, zero, zero), sums["answered_any"].to_numpy(dtype=float)
    )
    labels, spec = _stratum_spec(design, lonely_psu)
    h = labels.get_indexer(cells["stratum"].to_numpy())
    grouping = make_grouping(cells, None)
    core = _cell_core(cells, h, None, spec, grouping)
    composite = float(np.dot(c, ratios))
    core = replace(core, estimate=np.array([[composite]]))
    out.extend(
        _build(
            core,
            grouping,
            ["composite"],
            proportion_like=[True],
            ci_method=ci_method,
            confidence_level=confidence_level,
            min_n=min_n,
        )
    )
    return out


def answer_distribution_from_counts(counts: pd.DataFrame, strata: pd.DataFrame) -> dict[int, float]:
    """Weighted share of each answer 1–5 among valid answers from per-stratum counts
    (``stratum``, ``value_1`` … ``value_5``): Σ_h w_h n_hv / Σ_h w_h m_h; empty when nobody
    answered (as :func:`analysis.answer_distribution` on the rows)."""
    columns = [f"value_{v}" for v in SCALE]
    _require(counts, ["stratum", *columns], "counts")
    if counts.empty:
        return {}
    w, _ = _counter_weights(counts, strata)
    by_value = counts[columns].to_numpy(dtype=float) * w[:, None]
    total = float(by_value.sum())
    if total <= 0:
        return {}
    shares = by_value.sum(axis=0) / total
    return {value: float(share) for value, share in zip(SCALE, shares, strict=True)}


def change_between(
    first: Estimate | None,
    second: Estimate | None,
    *,
    labels: tuple[dict[str, Any], dict[str, Any]],
    min_n: int = 0,
    confidence_level: float = 0.95,
    measure: str = "prop",
) -> PairwiseDifference | None:
    """``first − second`` of two estimates from separate strata (independent samples; module
    docstring), with a t interval and two-sided p on df₁ + df₂; None when either is missing, has
    fewer than ``min_n`` respondents, or has no estimate. The estimates must have been made with
    a minimum of 0 so that their variances are there."""
    if first is None or second is None or first.estimate is None or second.estimate is None:
        return None
    if first.n < max(min_n, 1) or second.n < max(min_n, 1):
        return None
    variance = np.array([float(e.se) ** 2 if e.se is not None else 0.0 for e in (first, second)])
    df = sum(float(e.df) if e.df is not None else 0.0 for e in (first, second))
    (difference,) = pairwise_differences(
        list(labels),
        np.array([first.estimate, second.estimate], dtype=float),
        np.diag(variance),
        df,
        confidence_level=confidence_level,
        measure=measure,
    )
    return difference


def rows_from_counts(
    counts: pd.DataFrame, strata: pd.DataFrame, columns: Sequence[str], *, item: str = "q_overall"
) -> pd.DataFrame:
    """A row table equivalent to per-stratum counts of one item, for the estimators that need
    rows (the Rao–Scott test, rank intervals): per count row, ``satisfied`` rows with answer 5,
    ``answered − satisfied`` with 1 and the stratum's remaining responses blank, carrying the
    ``columns`` (domains) and the stratum's ``stratum``/``volume``. Any estimator of the share
    satisfied with ``item`` (≥ 4) under the counter design gives on it exactly what it gives on
    the original rows. Its size is the number of responses: use it for bounded groups only.
    """
    _require(counts, ["stratum", "responses", "answered", "satisfied", *columns], "counts")
    volume = strata.set_index("stratum")["volume"].astype(float)
    satisfied = counts["satisfied"].to_numpy(dtype=np.int64)
    unsatisfied = counts["answered"].to_numpy(dtype=np.int64) - satisfied
    blank = counts["responses"].to_numpy(dtype=np.int64) - counts["answered"].to_numpy(np.int64)
    if (unsatisfied < 0).any() or (blank < 0).any():
        raise AnalysisError("a stratum has more answers than responses")
    repeat = np.column_stack([satisfied, unsatisfied, blank]).ravel()
    values = np.tile(np.array([5.0, 1.0, np.nan]), len(counts))
    source = np.repeat(np.arange(len(counts)), 3)
    index = np.repeat(source, repeat)
    rows = counts.iloc[index][["stratum", *columns]].reset_index(drop=True)
    rows[item] = np.repeat(values, repeat)
    rows["volume"] = volume.reindex(rows["stratum"].to_numpy()).to_numpy()
    return rows
