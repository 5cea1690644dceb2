"""Sampling designs and Taylor-linearisation variance.

A design is held as numpy arrays (one entry per response): sampling weights, stratum codes,
primary-sampling-unit codes and per-stratum finite population corrections, plus optional later
stages (units sampled within PSUs). Estimators turn their estimate into *influence values* z_i
(already multiplied by the sampling weight) and ask this module for the variance of the total
Σ z_i, R's ``svyrecvar`` (Lumley 2010, *Complex Surveys*, §2.2, §3.2 and appendix C):

    V = Σ_s Σ_h m_h (1 − f_h) · n_h/(n_h − 1) · Σ_{i ∈ h} (t_hi − t̄_h)²

summed over the stages s of the design: at stage 1 the strata h, their PSUs i and PSU totals
t_hi; at stage s ≥ 2 each "stratum" is one unit of stage s − 1 (R: ``interaction(strata, ids)``)
and i runs over its sampled stage-s units. n_h is the number of units of the stratum in the
**full** design, f_h = n_h/N_h its sampling fraction and m_h the product of the sampling
fractions of the units above it (1 at stage 1; Särndal, Swensson & Wretman 1992, §4.3). Later
stages are added only when every stage has a population size (R: ``fpc=~N1+N2``); without one
the first stage is the "ultimate cluster" approximation.

Strata with a single sampled unit ("lonely PSUs", n_h = 1, not a census) are treated by the
design's ``lonely_psu`` rule, R's ``options(survey.lonely.psu=)``: ``"fail"`` (an error naming the
strata), ``"adjust"`` (the unit is centred at 0, i.e. the population mean, contributing
(1 − f_h)·t_h²), ``"average"`` (the variance is scaled by H/H_ok, the number of strata over the
number with at least two units), ``"certainty"`` and ``"remove"`` (no contribution; in R 4.1
both give the same variance, and a lonely PSU's own subsampling variance is still added).

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

#: Lonely-PSU rules, as R's ``options(survey.lonely.psu=...)``.
LONELY_PSU_RULES = ("fail", "adjust", "average", "certainty", "remove")
#: A stratum whose sampling fraction is this close to 1 is a census (R's ``onestrat``: f < 1e-7).
CENSUS_FPC = 1e-7
#: Variances below (ZERO_VARIANCE_ULPS · ε)² · Σ_h c_h Σ_i t_hi², with ε the double-precision
#: machine epsilon, are rounding residue of a true 0 and are returned as exactly 0.
ZERO_VARIANCE_ULPS = 64.0


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
class Stage:
    """A later sampling stage: units sampled within each unit of the stage above.

    ``unit`` holds, for every row, the code of its unit at this stage (unique across the design);
    ``parent[u]`` is the code of unit u's parent (its "stratum" at this stage), ``n_units[p]``
    the number of sampled units in parent p and ``fpc_factor[p]`` = 1 − n_p/N_p. ``multiplier[p]``
    is the product of the sampling fractions n/N of p and its ancestors (R's ``multistage``
    factor ``nPSUs/fpcs``). ``labels[p]`` names parent p in messages; ``column`` the id column.
    """

    unit: np.ndarray
    parent: np.ndarray
    n_units: np.ndarray
    fpc_factor: np.ndarray
    multiplier: np.ndarray
    labels: tuple[Any, ...]
    column: str
    sampling_fraction: np.ndarray


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A stratified (optionally clustered, optionally multistage) sample with sampling weights.

    ``weights`` are **sampling weights** (inverse inclusion probabilities, "pweights"), not
    frequency weights. ``strata`` holds codes 0..H−1; ``psu`` holds codes of primary sampling
    units, unique across strata (R's ``nest=TRUE``), or is ``None`` when every response is its own
    PSU. ``n_psu[h]`` is the number of PSUs of stratum h and ``fpc_factor[h]`` = 1 − n_h/N_h
    (1 without a finite population correction). ``stages`` are the sampling stages below the
    PSUs (empty: one stage, or the ultimate-cluster approximation), ``lonely_psu`` the rule for
    strata with a single unit (see the module docstring), ``stratum_labels`` the strata's names.
    """

    weights: np.ndarray
    strata: np.ndarray
    psu: np.ndarray | None
    n_psu: np.ndarray
    fpc_factor: np.ndarray
    psu_stratum: np.ndarray | None = None
    calibrations: tuple[Calibration, ...] = field(default_factory=tuple)
    description: str = ""
    lonely_psu: str = "adjust"
    stages: tuple[Stage, ...] = field(default_factory=tuple)
    stratum_labels: tuple[Any, ...] = field(default_factory=tuple)
    has_strata: bool = True

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

    def with_lonely_psu(self, rule: str) -> SurveyDesign:
        """The same design with another lonely-PSU rule (R ``options(survey.lonely.psu=)``)."""
        check_lonely_psu(rule)
        desc = self.description.split("; lonely PSUs:")[0]
        return replace(self, lonely_psu=rule, description=f"{desc}; lonely PSUs: {rule}")

    def lonely_strata(self) -> list[Any]:
        """Names of the strata with a single sampled PSU that are not a census."""
        mask = (self.n_psu == 1) & (self.fpc_factor >= CENSUS_FPC)
        return [_label(self.stratum_labels, h) for h in np.flatnonzero(mask)]


def check_lonely_psu(rule: str) -> str:
    if rule not in LONELY_PSU_RULES:
        raise AnalysisError(
            f"unknown lonely-PSU rule {rule!r} (option --lonely-psu / lonely_psu=); use one of "
            f"{', '.join(LONELY_PSU_RULES)}"
        )
    return rule


def _label(labels: Sequence[Any], k: int | np.integer[Any]) -> Any:
    return labels[int(k)] if k < len(labels) else k


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
    values: np.ndarray = s.to_numpy(dtype=float, na_value=np.nan)
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
    *,
    lonely_psu: str = "adjust",
) -> SurveyDesign:
    """Design A, the counter design for QR and kiosk data.

    Every service point (or the ``strata`` column, e.g. service point × period) is a stratum, its
    respondents a simple random sample of its clients, and ``volume`` (clients served in the
    period) the stratum's population size N_h. Sampling weights are N_h/n_h. A service point with
    a single response (and more than one client) is a lonely PSU, treated by ``lonely_psu``.
    R: ``svydesign(ids=~1, strata=~service_point, fpc=~volume, data=d)``.
    """
    check_lonely_psu(lonely_psu)
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
        description=f"counter design: strata={stratum_col}, fpc={volume}; lonely PSUs: "
        f"{lonely_psu}",
        lonely_psu=lonely_psu,
        stratum_labels=tuple(_py_value(v) for v in labels),
    )


def _py_value(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _columns(spec: str | Sequence[str] | None) -> list[str]:
    if spec is None:
        return []
    if isinstance(spec, str):
        return [c.strip() for c in spec.split(",") if c.strip()]
    return [str(c) for c in spec]


def _population_sizes(
    df: pd.DataFrame, fpc_cols: list[str], parents: list[np.ndarray], counts: list[np.ndarray]
) -> list[np.ndarray]:
    """Population size N of every stratum (stage 1) or parent unit (later stages), per stage.

    As R's ``as.fpc``: the columns hold population sizes when any value is above 1 (then all
    must be ≥ 1), sampling fractions otherwise (N = n/f)."""
    raw: list[tuple[str, np.ndarray, np.ndarray]] = []
    for col, parent, n in zip(fpc_cols, parents, counts, strict=True):
        values = _numeric(df, col, "fpc")
        _positive_finite(values, col, "fpc")
        what = f"fpc ({col!r})" if not raw else f"fpc ({col!r}) within a unit of the stage above"
        raw.append((col, _per_stratum_constant(values, parent, len(n), what), n))
    is_size = any((r > 1).any() for _, r, _ in raw)
    out = []
    for col, r, n in raw:
        if is_size and (r < 1).any():
            raise AnalysisError(
                f"fpc column {col!r} mixes population sizes (above 1) and sampling fractions "
                "(below 1) across the --fpc columns: give all stages as sizes or all as fractions"
            )
        big_n = r if is_size else n / r
        if (big_n < n - 1e-9).any():
            raise AnalysisError(f"fpc column {col!r} is smaller than the number of sampled units")
        out.append(big_n)
    return out


def general_design(
    df: pd.DataFrame,
    strata: str | None = None,
    psu: str | Sequence[str] | None = None,
    weight: str | None = None,
    fpc: str | Sequence[str] | None = None,
    *,
    lonely_psu: str = "adjust",
) -> SurveyDesign:
    """Design B, a general stratified (multistage) cluster design for imported surveys.

    PSUs are nested in strata (R's ``nest=TRUE``). ``psu`` is one id column per stage
    (``["psu", "person"]`` or ``"psu,person"``), each unit nested in the unit above; ``fpc`` one
    population column per stage: the stratum's population size in PSUs at stage 1, the number
    of units in the parent unit at later stages (values above 1), or the sampling fractions
    (values ≤ 1), constant within a stratum / parent unit. With an fpc for every stage, the
    within-PSU variance of later stages is added (R's ``multistage``); without fpc only the
    first stage counts. ``weight`` gives sampling weights; without it they are Π_s N_s/n_s from
    ``fpc``, or 1. ``lonely_psu``: rule for strata with a single unit (see module docstring).
    R: ``svydesign(ids=~psu+person, strata=~strata, weights=~weight, fpc=~N1+N2, nest=TRUE)``.
    """
    check_lonely_psu(lonely_psu)
    psu_cols = _columns(psu)
    fpc_cols = _columns(fpc)
    _require_columns(df, [strata, *psu_cols, weight, *fpc_cols])
    n = len(df)
    if n == 0:
        raise AnalysisError("the data has no rows")
    if len(psu_cols) > 1 and fpc_cols and len(fpc_cols) != len(psu_cols):
        raise AnalysisError(
            f"--psu gives {len(psu_cols)} stages ({', '.join(psu_cols)}) but --fpc "
            f"{len(fpc_cols)} column(s) ({', '.join(fpc_cols)}): give one population column per "
            "stage (R: ids=~psu+person, fpc=~N1+N2), or none for the first stage only"
        )
    if len(fpc_cols) > max(len(psu_cols), 1):
        raise AnalysisError(
            f"--fpc gives {len(fpc_cols)} columns ({', '.join(fpc_cols)}) for "
            f"{max(len(psu_cols), 1)} stage(s): give one --psu column per stage"
        )
    if strata is None:
        h = np.zeros(n, dtype=np.int64)
        labels: tuple[Any, ...] = ("(all)",)
    else:
        h, uniq_h = _codes(df[strata], f"stratum column {strata!r}")
        labels = tuple(_py_value(v) for v in uniq_h)
    n_strata = len(labels)
    psu_labels: tuple[Any, ...] = ()
    if not psu_cols:
        psu_codes = None
        n_psu = np.bincount(h, minlength=n_strata).astype(np.int64)
        psu_stratum = None
    else:
        p_raw, p_uniq = _codes(df[psu_cols[0]], f"PSU column {psu_cols[0]!r}")
        base = int(p_raw.max()) + 1
        psu_codes, uniq = pd.factorize(h * base + p_raw, sort=True)
        psu_codes = psu_codes.astype(np.int64)
        uniq = np.asarray(uniq)
        psu_stratum = (uniq // base).astype(np.int64)
        psu_labels = tuple(_py_value(p_uniq[k]) for k in uniq % base)
        n_psu = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)
    # later stages: units nested in the units of the stage above
    parents = [h]
    counts = [n_psu.astype(float)]
    stage_units: list[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[Any, ...], str]] = []
    above = psu_codes
    above_labels = psu_labels
    for col in psu_cols[1:]:
        if above is None:
            raise RuntimeError("a later stage's units need the PSU codes of the stage above")
        raw, raw_uniq = _codes(df[col], f"id column {col!r}")
        base = int(raw.max()) + 1
        unit, uniq = pd.factorize(above * base + raw, sort=True)
        uniq = np.asarray(uniq)
        parent = (uniq // base).astype(np.int64)
        n_units = np.bincount(parent, minlength=len(above_labels)).astype(float)
        parents.append(above)
        counts.append(n_units)
        stage_units.append((unit.astype(np.int64), parent, n_units, above_labels, col))
        above = unit.astype(np.int64)
        above_labels = tuple(_py_value(raw_uniq[k]) for k in uniq % base)
    stages: list[Stage] = []
    if fpc_cols:
        sizes = _population_sizes(df, fpc_cols, parents[: len(fpc_cols)], counts[: len(fpc_cols)])
        big_n = sizes[0]
        fpc_factor = (big_n - n_psu) / big_n
        if len(sizes) > 1:
            frac_above = n_psu / big_n  # per stratum
            mult_above = np.ones(n_strata)
            parent_of_above = psu_stratum
            for (unit, parent, n_units, plabels, col), big in zip(
                stage_units, sizes[1:], strict=True
            ):
                if parent_of_above is None:
                    raise RuntimeError("a later stage needs the strata of the stage above")
                mult = (mult_above * frac_above)[parent_of_above]
                frac = n_units / big
                stages.append(
                    Stage(unit, parent, n_units, (big - n_units) / big, mult, plabels, col, frac)
                )
                mult_above, frac_above, parent_of_above = mult, frac, parent
    else:
        sizes = []
        big_n = None
        fpc_factor = np.ones(n_strata)
    if weight is not None:
        w = _numeric(df, weight, "weight")
        _positive_finite(w, weight, "weight")
        _computable_weights(w, weight, "weight")
    elif sizes:
        w = (sizes[0] / n_psu)[h]
        for (_, _, n_units, _, _), big, par in zip(
            stage_units, sizes[1:], parents[1:], strict=False
        ):
            w = w * (big / n_units)[par]
        _computable_weights(w, ",".join(fpc_cols), "fpc")
    else:
        w = np.ones(n)
    desc = (
        f"general design: strata={strata}, psu={'+'.join(psu_cols) or None}, weight={weight}, "
        f"fpc={'+'.join(fpc_cols) or None}; lonely PSUs: {lonely_psu}"
    )
    return SurveyDesign(
        weights=np.asarray(w, dtype=float),
        strata=h,
        psu=psu_codes,
        n_psu=n_psu,
        fpc_factor=np.asarray(fpc_factor, dtype=float),
        psu_stratum=psu_stratum,
        description=desc,
        lonely_psu=lonely_psu,
        stages=tuple(stages),
        stratum_labels=labels,
        has_strata=strata is not None,
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


@dataclass(frozen=True, eq=False)
class _StageSpec:
    """One stage of the variance sum, with the lonely-PSU rule applied to its scale factors."""

    unit: np.ndarray | None  # unit code per row (None: every row is its own unit)
    unit_stratum: np.ndarray  # stratum of every unit (of every row when unit is None)
    n_units: np.ndarray  # units per stratum in the full design
    scale: np.ndarray  # m_h (1 − f_h) n_h/(n_h − 1), 0 where the rule drops the stratum
    centre: np.ndarray  # False where a lonely unit is centred at 0 ("adjust")
    lonely: np.ndarray  # single unit and not a census
    labels: tuple[Any, ...]
    stage: int
    rule: str


def _stage_specs(design: SurveyDesign) -> list[_StageSpec]:
    rule = design.lonely_psu
    raw = [
        (
            design.psu,
            _psu_strata(design),
            design.n_psu.astype(float),
            design.fpc_factor,
            np.ones(design.n_strata),
            design.stratum_labels,
        )
    ]
    for st in design.stages:
        raw.append((st.unit, st.parent, st.n_units, st.fpc_factor, st.multiplier, st.labels))
    out = []
    for k, (unit, unit_stratum, n, fpc, mult, labels) in enumerate(raw, start=1):
        census = fpc < CENSUS_FPC
        lonely = (n == 1) & ~census
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(census, 0.0, fpc * np.where(n > 1, n / np.maximum(n - 1, 1), 1.0))
        centre = np.ones(n.shape[0], dtype=bool)
        if rule == "adjust":
            centre = ~lonely
        elif rule in ("certainty", "remove", "average", "fail"):
            scale = np.where(lonely, 0.0, scale)
        if rule == "average" and k > 1 and lonely.any():
            j = int(np.flatnonzero(lonely)[0])
            raise AnalysisError(
                f"unit {_label(labels, j)!r} has a single sampled unit at stage {k}: the "
                "lonely-PSU rule 'average' has no other stratum to borrow from there (R gives "
                "NaN); use --lonely-psu adjust, certainty or remove"
            )
        out.append(_StageSpec(unit, unit_stratum, n, scale * mult, centre, lonely, labels, k, rule))
    return out


def _fail_if_lonely(spec: _StageSpec, touched: np.ndarray) -> None:
    """R's default ``survey.lonely.psu="fail"``: stop, naming the lonely strata touched."""
    if spec.rule != "fail":
        return
    bad = np.flatnonzero(spec.lonely & touched)
    if bad.size == 0:
        return
    names = ", ".join(repr(_label(spec.labels, int(j))) for j in bad[:10])
    more = f" and {bad.size - 10} more" if bad.size > 10 else ""
    where = "stratum" if spec.stage == 1 else f"unit (stage {spec.stage})"
    raise AnalysisError(
        f"{bad.size} {where}{'s' if bad.size > 1 and spec.stage == 1 else ''} with a single "
        f"sampled {'PSU' if spec.stage == 1 else 'unit'}: {names}{more}; its variance cannot be "
        "estimated. Choose a rule with --lonely-psu adjust|average|certainty|remove (R: "
        "options(survey.lonely.psu=...); lonely_psu= in Python), or merge strata"
    )


def _stage_variance_by_group(
    spec: _StageSpec,
    z: np.ndarray,
    g: np.ndarray,
    rows: np.ndarray | None,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One stage's contribution to each group's variance, and its size Σ c_h Σ_i t_hi² (the
    scale of the rounding error). Two-pass: the unit totals are centred at their stratum mean
    over the full design's n_h units (units without a row of the group count as 0)."""
    if spec.unit is None:
        t = z
        th = spec.unit_stratum if rows is None else spec.unit_stratum[rows]
        tg = g
    else:
        unit = spec.unit if rows is None else spec.unit[rows]
        inv, uniq = pd.factorize(unit * n_groups + g)
        t = _bincount_cols(inv, z, len(uniq))
        pairs = np.asarray(uniq)
        th = spec.unit_stratum[pairs // n_groups]
        tg = pairs % n_groups
    inv2, uniq2 = pd.factorize(th * n_groups + tg)
    uniq2 = np.asarray(uniq2)
    k = len(uniq2)
    hh = uniq2 // n_groups
    gg = uniq2 % n_groups
    if spec.rule == "fail" and spec.lonely.any():
        touched = np.zeros(spec.n_units.shape[0], dtype=bool)
        touched[hh] = True
        _fail_if_lonely(spec, touched)
    nh = spec.n_units[hh]
    m = np.bincount(inv2, minlength=k).astype(float)
    s1 = _bincount_cols(inv2, t, k)
    cen = spec.centre[hh]
    scale = spec.scale[hh]
    if t.ndim == 1:
        mean = np.where(cen, s1 / nh, 0.0)
        dev = t - mean[inv2]
        ss = np.bincount(inv2, weights=dev * dev, minlength=k) + (nh - m) * mean * mean
        contrib = scale * ss
        size = contrib + scale * nh * mean * mean
    else:
        mean = np.where(cen[:, None], s1 / nh[:, None], 0.0)
        ss = np.empty_like(s1)
        for j in range(t.shape[1]):  # column by column: t is Fortran-ordered (contiguous columns)
            dev = t[:, j] - mean[inv2, j]
            ss[:, j] = np.bincount(inv2, weights=dev * dev, minlength=k)
        ss += (nh - m)[:, None] * mean * mean
        contrib = scale[:, None] * ss
        size = contrib + (scale * nh)[:, None] * mean * mean
    var = _bincount_cols(gg, contrib, n_groups)
    sizes = _bincount_cols(gg, size, n_groups)
    if spec.rule == "average" and spec.stage == 1:
        factor = _average_factor(spec, hh, gg, n_groups)
        var = var * (factor if var.ndim == 1 else factor[:, None])
        sizes = sizes * (factor if var.ndim == 1 else factor[:, None])
    return var, sizes


def _average_factor(spec: _StageSpec, hh: np.ndarray, gg: np.ndarray, n_groups: int) -> np.ndarray:
    """R's ``onestage`` for ``lonely.psu="average"``: H/H_ok over the strata a group touches."""
    n_str = np.bincount(gg, minlength=n_groups).astype(float)
    n_ok = np.bincount(gg, weights=(~spec.lonely[hh]).astype(float), minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_str > 0, n_str / n_ok, 1.0)


def _zero_rounding(var: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Variances at rounding level of their own terms are a true 0 (see ZERO_VARIANCE_ULPS)."""
    tol = (ZERO_VARIANCE_ULPS * np.finfo(float).eps) ** 2 * size
    return np.where(var <= tol, 0.0, var)


def variance_by_group(
    design: SurveyDesign, z: np.ndarray, g: np.ndarray, n_groups: int
) -> np.ndarray:
    """Variance of the total of ``z`` within each group (domain), vectorised over groups.

    ``z`` (n,) or (n, m): influence values times sampling weights, zero outside the domains;
    ``g``: group code per row (−1 for rows in no group). Groups must partition the rows they
    cover. Uses Σ_s Σ_h c_h Σ_i (t_hi − t̄_h)² with the full design's n_h (R's domain
    convention; two-pass, centred within strata), summed over the design's stages. A result
    within rounding of 0 (below (64ε)²·Σ c_h t_hi²) is returned as exactly 0, so that a group
    with no sampling variance (a census, or identical answers) is recognised as such.
    """
    if design.calibrations:
        return _calibrated_variance_by_group(design, z, g, n_groups)
    sel = g >= 0
    rows = None if sel.all() else np.flatnonzero(sel)
    zz = z if rows is None else z[rows]
    gg = g if rows is None else g[rows]
    var: Any = 0.0
    size: Any = 0.0
    for spec in _stage_specs(design):
        v, sz = _stage_variance_by_group(spec, zz, gg, rows, n_groups)
        var = var + v
        size = size + sz
    variance: np.ndarray = np.maximum(_zero_rounding(np.asarray(var), np.asarray(size)), 0.0)
    return variance


def df_by_group(design: SurveyDesign, g: np.ndarray, n_groups: int) -> np.ndarray:
    """Design degrees of freedom per domain: PSUs minus strata containing its rows (R ``degf``);
    for a replicate-weight design the rank of the domain's replicate weights minus 1."""
    if getattr(design, "rep_matrix", None) is not None:
        from analysis import replicates

        return replicates.df_by_group(design, g, n_groups)  # type: ignore[arg-type]
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


def _unit_totals(spec: _StageSpec, x: np.ndarray) -> np.ndarray:
    if spec.unit is None:
        return x
    inc = _incidence(spec.unit, int(spec.unit.max()) + 1)
    return np.asarray(inc @ x)


def dense_vcov(design: SurveyDesign, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Covariance matrix of the totals of the columns of x (n × k), over the whole design.

    ``rows`` (boolean mask) marks the domain's rows of an uncalibrated design: the strata it
    touches are the ones R keeps in ``design[rows, ]`` (they matter to the lonely-PSU rules);
    a calibrated design keeps every row, as R does.
    """
    x = calibration_residuals(design, x) if design.calibrations else np.asarray(x, float)
    if x.ndim == 1:
        x = x[:, None]
    use_rows = None if (rows is None or design.calibrations) else np.asarray(rows, bool)
    cov = np.zeros((x.shape[1], x.shape[1]))
    for spec in _stage_specs(design):
        t = _unit_totals(spec, x)
        th = spec.unit_stratum
        n_str = spec.n_units.shape[0]
        touched = np.zeros(n_str, dtype=bool)
        if use_rows is None:
            touched[th] = True
        else:
            row_stratum = th if spec.unit is None else th[spec.unit]
            touched[row_stratum[use_rows]] = True
        _fail_if_lonely(spec, touched)
        hinc = _incidence(th, n_str)
        means = np.asarray(hinc @ t) / np.maximum(spec.n_units, 1)[:, None]
        means[~spec.centre] = 0.0
        tc = t - means[th]
        part = tc.T @ (tc * spec.scale[th][:, None])
        if spec.rule == "average" and spec.stage == 1:
            n_ok = int((touched & ~spec.lonely).sum())
            part = part * (touched.sum() / n_ok if n_ok else np.nan)
        cov += part
    return cov


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
        return dense_vcov(design, dense, rows=g >= 0)
    from scipy import sparse

    sel = g >= 0
    cov = np.zeros((n_groups, n_groups))
    for spec in _stage_specs(design):
        unit = np.arange(design.n_rows, dtype=np.int64) if spec.unit is None else spec.unit
        n_p = int(unit.max()) + 1
        p_stratum = spec.unit_stratum
        n_str = spec.n_units.shape[0]
        touched = np.zeros(n_str, dtype=bool)
        touched[p_stratum[unit[sel]]] = True
        _fail_if_lonely(spec, touched)
        a = sparse.csr_matrix((z[sel], (unit[sel], g[sel])), shape=(n_p, n_groups))
        c = spec.scale[p_stratum]
        d = np.where(spec.centre, spec.scale / np.maximum(spec.n_units, 1), 0.0)
        hinc = _incidence(p_stratum, n_str)
        b = (hinc @ a).tocsr()
        part = np.asarray((a.T @ a.multiply(c[:, None])).todense()) - np.asarray(
            (b.T @ b.multiply(d[:, None])).todense()
        )
        if u is not None and q is not None:
            s_ = np.bincount(unit, weights=u, minlength=n_p)
            sig = np.bincount(p_stratum, weights=s_, minlength=n_str)
            acs = np.asarray(a.T @ (c * s_)).ravel() - np.asarray(b.T @ (d * sig)).ravel()
            part += np.outer(acs, q) + np.outer(q, acs)
            part += (float(s_ @ (c * s_)) - float(sig @ (d * sig))) * np.outer(q, q)
        if spec.rule == "average" and spec.stage == 1:
            n_ok = int((touched & ~spec.lonely).sum())
            part = part * (touched.sum() / n_ok if n_ok else np.nan)
        cov += part
    return cov
