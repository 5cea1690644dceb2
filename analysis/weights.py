"""Calibration of sampling weights: post-stratification, raking and trimming; service volumes
prorated to a reporting period.

Calibrated designs keep what is needed to linearise variances as R's ``survey`` does: after
post-stratification the influence values are replaced by their residuals from the post-strata
means, after raking by residuals of ten sweeps of iterative proportional fitting
(Lumley 2010, *Complex Surveys*, ch. 7; Deville & Särndal 1992; Deming & Stephan 1940).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from analysis.design import Calibration, SurveyDesign
from analysis.errors import AnalysisError

MarginSpec: TypeAlias = Mapping[Any, float] | pd.DataFrame | pd.Series


def _margin_table(column: str, margin: MarginSpec) -> dict[Any, float]:
    if isinstance(margin, pd.DataFrame):
        if column not in margin.columns:
            raise AnalysisError(f"the margins for {column!r} need a {column!r} column")
        value_col = next((c for c in ("share", "Freq", "total") if c in margin.columns), None)
        if value_col is None:
            raise AnalysisError(f"the margins for {column!r} need a 'share' column")
        keys = margin[column].tolist()
        if len(set(keys)) != len(keys):
            raise AnalysisError(f"the margins for {column!r} list a category twice")
        vals = pd.to_numeric(margin[value_col], errors="coerce")
        if vals.isna().any():
            raise AnalysisError(f"the margins for {column!r} have a non-numeric share")
        return dict(zip(keys, vals.astype(float), strict=True))
    if isinstance(margin, pd.Series):
        return {k: float(v) for k, v in margin.items()}
    return {k: float(v) for k, v in margin.items()}


def _codes_against_margin(
    data: pd.DataFrame, column: str, table: dict[Any, float], as_shares: bool
) -> tuple[np.ndarray, np.ndarray]:
    if column not in data.columns:
        raise AnalysisError(f"raking column {column!r} not found in the data")
    values = data[column]
    if values.isna().any():
        raise AnalysisError(
            f"raking column {column!r} is blank in {int(values.isna().sum())} row(s)"
        )
    totals = np.array(list(table.values()), dtype=float)
    if (totals < 0).any() or not np.isfinite(totals).all():
        raise AnalysisError(f"the margins for {column!r} must be non-negative numbers")
    if as_shares and abs(totals.sum() - 1.0) > 1e-6:
        raise AnalysisError(f"the shares for {column!r} add up to {totals.sum():g}, not 1")
    # match data categories to margin categories (compare as strings when types differ)
    keys = list(table)
    lookup = {k: i for i, k in enumerate(keys)}
    str_lookup = {str(k): i for i, k in enumerate(keys)}
    uniq = pd.unique(values)
    idx = {}
    for u in uniq:
        if u in lookup:
            idx[u] = lookup[u]
        elif str(u) in str_lookup:
            idx[u] = str_lookup[str(u)]
        else:
            raise AnalysisError(
                f"category {u!r} of {column!r} appears in the data but not in the margins"
            )
    codes = values.map(idx).to_numpy(dtype=np.int64)
    present = np.bincount(codes, minlength=len(keys))
    empty = [keys[i] for i in range(len(keys)) if present[i] == 0 and totals[i] > 0]
    if empty:
        raise AnalysisError(
            f"category {empty[0]!r} of {column!r} has a population share but no respondents"
        )
    zero_pop = [keys[i] for i in range(len(keys)) if present[i] > 0 and totals[i] == 0]
    if zero_pop:
        raise AnalysisError(
            f"category {zero_pop[0]!r} of {column!r} has respondents but a population share of 0"
        )
    return codes, totals


def post_stratify(
    design: SurveyDesign,
    data: pd.DataFrame,
    column: str,
    population: MarginSpec,
    *,
    shares: bool = True,
    population_total: float | None = None,
) -> SurveyDesign:
    """Post-stratify sampling weights so that weighted counts match ``population`` for ``column``.

    w_i ← w_i · N_c / N̂_c for the post-stratum c of row i. With ``shares=True`` the margins are
    shares scaled to ``population_total`` (default: the design's total weight).
    Variance: R ``postStratify`` linearisation (Lumley 2010 §7.2).
    """
    table = _margin_table(column, population)
    codes, totals = _codes_against_margin(data, column, table, shares)
    w = design.weights
    if shares:
        totals = totals * (population_total if population_total is not None else float(w.sum()))
    current = np.bincount(codes, weights=w, minlength=len(totals))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(current > 0, totals / current, 0.0)
    new_w = w * factor[codes]
    cal = Calibration("poststratify", (codes,), (new_w,), oldweights=w.copy())
    return design.with_weights(new_w, cal)


def rake(
    design: SurveyDesign,
    data: pd.DataFrame,
    margins: Mapping[str, MarginSpec],
    *,
    shares: bool = True,
    population_total: float | None = None,
    max_iterations: int = 100,
    tolerance: float = 1e-10,
) -> SurveyDesign:
    """Rake sampling weights to several population margins (iterative proportional fitting).

    Each sweep post-stratifies on every margin in turn; it stops when the weighted
    cross-classification of all margin variables changes by less than
    ``tolerance`` × (total weight) between sweeps — R's ``rake(control=list(epsilon=tolerance))``
    with a relative epsilon (Deming & Stephan 1940; Lumley 2010 §7.3). ``margins`` maps a column to
    {category: share} or a DataFrame with the category column and ``share``.
    Raises :class:`AnalysisError` when a category of the data is missing from a margin, a margin
    category has no respondents, shares do not add up to 1, or the weights do not converge.
    """
    if not margins:
        raise AnalysisError("give at least one margin to rake to")
    if max_iterations < 1 or tolerance <= 0:
        raise AnalysisError("max_iterations must be ≥ 1 and tolerance > 0")
    w0 = design.weights
    total = population_total if population_total is not None else float(w0.sum())
    coded = []
    for column, margin in margins.items():
        codes, totals = _codes_against_margin(data, column, _margin_table(column, margin), shares)
        coded.append((codes, totals * total if shares else totals))
    sums = [t.sum() for _, t in coded]
    if max(sums) - min(sums) > 1e-6 * max(sums):
        raise AnalysisError(
            "the margins imply different population totals "
            f"({', '.join(f'{s:g}' for s in sums)}): they are inconsistent"
        )
    # joint cell of all margin variables, for the convergence check (R compares svytable(ff))
    joint = np.zeros(len(w0), dtype=np.int64)
    for codes, totals in coded:
        joint = joint * len(totals) + codes
    joint_codes, joint_uniq = pd.factorize(joint)
    n_joint = len(joint_uniq)
    epsilon = tolerance * float(w0.sum()) if tolerance < 1 else tolerance
    w = w0.copy()
    old_table = np.bincount(joint_codes, weights=w, minlength=n_joint)
    step_weights: list[np.ndarray] = []
    converged = False
    for _ in range(max_iterations):
        step_weights = []
        for codes, totals in coded:
            current = np.bincount(codes, weights=w, minlength=len(totals))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, totals / current, 0.0)
            w = w * factor[codes]
            step_weights.append(w.copy())
        new_table = np.bincount(joint_codes, weights=w, minlength=n_joint)
        delta = float(np.abs(old_table - new_table).max())
        if delta < epsilon:
            converged = True
            break
        old_table = new_table
    if not converged:
        raise AnalysisError(
            f"raking did not converge in {max_iterations} iterations (last change {delta:.3g}); "
            "the margins may be inconsistent with the data, or raise max_iterations"
        )
    cal = Calibration("raking", tuple(c for c, _ in coded), tuple(step_weights), oldweights=None)
    return design.with_weights(w, cal)


def trim_weights(
    design: SurveyDesign,
    *,
    lower: float | None = None,
    upper: float | None = None,
    max_iterations: int = 10,
) -> SurveyDesign:
    """Trim sampling weights to [lower, upper], spreading the trimmed amount over the others.

    Weights outside the bounds are set to the bound and the difference in total weight is
    redistributed proportionally to the untrimmed weights, repeating until all weights are within
    bounds (R ``trimWeights(strict=TRUE)``; Potter 1990). The total weight is preserved. The
    variance treats the trimmed weights as fixed.
    """
    w = design.weights.copy()
    if lower is not None and upper is not None and lower > upper:
        raise AnalysisError("the lower trimming bound is above the upper one")
    lo = -np.inf if lower is None else lower
    hi = np.inf if upper is None else upper
    total = w.sum()
    for _ in range(max_iterations):
        clipped = np.clip(w, lo, hi)
        trimmed = clipped != w
        if not trimmed.any():
            break
        free = ~trimmed & (clipped > lo) & (clipped < hi)
        excess = total - clipped.sum()
        if not free.any():
            raise AnalysisError("cannot trim: every weight would sit on a bound")
        clipped[free] *= 1 + excess / clipped[free].sum()
        w = clipped
    return design.with_weights(w)


# --------------------------------------------------------------------------------------------
# service volumes of a reporting period

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_days(label: str) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter written ``2025Q3``."""
    match = _QUARTER.match(str(label))
    if match is None:
        raise AnalysisError(f"period {label!r} is not a quarter written like 2025Q3")
    period = pd.Period(year=int(match.group(1)), quarter=int(match.group(2)), freq="Q")
    # Through daily periods: any year a date can have (Timestamps stop in 2262).
    first, last = period.asfreq("D", "start"), period.asfreq("D", "end")
    return dt.date(first.year, first.month, first.day), dt.date(last.year, last.month, last.day)


def prorate_volumes(
    volumes: pd.Series | np.ndarray | Sequence[float],
    quarters: pd.Series | np.ndarray | Sequence[str],
    first: dt.date,
    last: dt.date,
) -> pd.Series:
    """Quarterly service volumes prorated to the days ``first``..``last`` of a reporting period.

    A service point records the clients it served per quarter; a stratum of the counter design is
    a service point × quarter with that volume as its population size N_h (Cochran 1977, ch. 5).
    When a reporting period covers only part of a quarter, the stratum's population is the
    clients served on the days inside the period; with clients assumed to come evenly over the
    quarter,

        N_h' = N_h · (days of the quarter inside [first, last]) / (days of the quarter),

    days counted inclusively (29 February counts in leap years). A quarter entirely inside the
    range keeps its volume, one outside gets 0, a blank volume stays blank. The same rule serves
    the current period and the previous one, so that both are on the same footing. The result is
    not rounded: a population size from proration need not be a whole number (the finite
    population correction 1 − n_h/N_h' takes any N_h' ≥ n_h). Returns a Series aligned with
    ``volumes``.
    """
    if last < first:
        raise AnalysisError("the period ends before it starts")
    index = volumes.index if isinstance(volumes, pd.Series) else None
    values = pd.to_numeric(pd.Series(np.asarray(volumes, dtype=object)), errors="coerce")
    labels = pd.Series(np.asarray(quarters, dtype=object)).astype(str)
    if len(labels) != len(values):
        raise AnalysisError("give one quarter per volume")
    shares = {}
    for label in labels.unique():
        q_first, q_last = quarter_days(label)
        inside = (min(q_last, last) - max(q_first, first)).days + 1
        shares[label] = max(inside, 0) / ((q_last - q_first).days + 1)
    out = values.to_numpy(dtype=float) * labels.map(shares).to_numpy(dtype=float)
    return pd.Series(out, index=index if index is not None else values.index, name="volume")
