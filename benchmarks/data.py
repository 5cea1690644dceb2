"""Synthetic counter-survey data for the benchmarks (vectorised, seeded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SECTORS = ("administrative", "health", "education")


def make_counter_data(
    n_responses: int,
    n_agencies: int,
    n_items: int = 0,
    points_per_agency: int = 2,
    seed: int = 1,
) -> pd.DataFrame:
    """Design-A style data: agencies spread evenly over three sectors, service points as strata.

    Columns follow the web app's export: ``response_id, period, sector, agency, service_point,
    volume, weight, q_overall`` and ``q_<element><k>`` items on 1–5 with ~6% blanks.
    """
    rng = np.random.default_rng(seed)
    n_points = n_agencies * points_per_agency
    point = rng.integers(0, n_points, n_responses)
    # make sure every point has at least 2 responses
    point[: 2 * n_points] = np.repeat(np.arange(n_points), 2)
    agency = point // points_per_agency
    sector = agency % 3
    counts = np.bincount(point, minlength=n_points)
    volume = (counts * rng.uniform(3, 40, n_points)).astype(np.int64) + 1
    quality = rng.normal(0.6, 0.9, n_agencies)[agency] + rng.normal(0, 0.4, n_points)[point]
    person = quality + rng.normal(0, 1.0, n_responses)
    df = pd.DataFrame(
        {
            "response_id": np.arange(1, n_responses + 1),
            "period": "2025Q3",
            "sector": np.asarray(SECTORS)[sector],
            "agency": np.char.add("AG-", agency.astype(str)),
            "service_point": np.char.add("SP-", point.astype(str)),
            "volume": volume[point],
            "weight": (volume / np.maximum(counts, 1))[point],
        }
    )
    elements = "apsrf"
    for k in range(n_items):
        code = f"q_{elements[k % 5]}{k // 5 + 1}"
        x = np.clip(np.round(3.2 + person + rng.normal(0, 0.8, n_responses)), 1, 5)
        x[rng.random(n_responses) < 0.06] = np.nan
        df[code] = x
    df["q_overall"] = np.clip(np.round(3.2 + person + rng.normal(0, 0.6, n_responses)), 1, 5)
    return df


def item_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("q_") and c != "q_overall"]


def elements_spec(df: pd.DataFrame) -> str:
    groups: dict[str, list[str]] = {}
    for c in item_columns(df):
        groups.setdefault(c[2], []).append(c)
    names = {"a": "access", "p": "procedures", "s": "staff", "r": "results", "f": "feedback"}
    return ";".join(f"{names[k]}={','.join(v)}" for k, v in groups.items())


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False, float_format="%g")
    return path


def make_two_stage_data(
    n_responses: int, n_agencies: int, psus_per_agency: int = 10, seed: int = 1
) -> pd.DataFrame:
    """Two-stage data: an agency's strata (two per agency) hold villages (PSUs) sampled from
    ``N1`` villages, persons sampled within each village from its ``N2`` residents; columns
    ``stratum, psu, person, N1, N2, agency, q_overall`` (R: ids=~psu+person, fpc=~N1+N2)."""
    rng = np.random.default_rng(seed)
    n_psu = n_agencies * psus_per_agency
    psu = rng.integers(0, n_psu, n_responses)
    psu[: 2 * n_psu] = np.repeat(np.arange(n_psu), 2)
    psu = np.sort(psu)
    agency = psu // psus_per_agency
    stratum = agency * 2 + (psu % psus_per_agency) % 2
    counts = np.bincount(psu, minlength=n_psu)
    person = np.arange(n_responses) - np.searchsorted(psu, psu)
    units = np.arange(n_psu)
    psu_stratum = units // psus_per_agency * 2 + (units % psus_per_agency) % 2
    psus_in_stratum = np.bincount(psu_stratum, minlength=2 * n_agencies)
    big1 = psus_in_stratum + rng.integers(0, 20, 2 * n_agencies)
    big2 = counts + rng.integers(5, 200, n_psu)
    quality = rng.normal(0.6, 0.9, n_agencies)[agency] + rng.normal(0, 0.5, n_psu)[psu]
    return pd.DataFrame(
        {
            "stratum": np.char.add("S-", stratum.astype(str)),
            "psu": np.char.add("V-", psu.astype(str)),
            "person": person + 1,
            "N1": big1[stratum],
            "N2": big2[psu],
            "agency": np.char.add("AG-", agency.astype(str)),
            "weight": (big1[stratum] / psus_in_stratum[stratum]) * (big2[psu] / counts[psu]),
            "q_overall": np.clip(np.round(3.2 + quality + rng.normal(0, 1.0, n_responses)), 1, 5),
        }
    )


def add_bootstrap_weights(df: pd.DataFrame, n_replicates: int, seed: int = 1) -> pd.DataFrame:
    """Replicate columns ``rw_1..rw_R``: the weight times a random factor 0.5 or 1.5 per PSU
    (a Fay-like perturbation that never empties an agency, so that R's replicate ``svyglm``
    converges), as survey data sets ship replicate columns."""
    rng = np.random.default_rng(seed)
    codes, _ = pd.factorize(df["psu"])
    mult = rng.choice([0.5, 1.5], size=(codes.max() + 1, n_replicates))
    reps = df["weight"].to_numpy()[:, None] * mult[codes]
    cols = pd.DataFrame(reps, columns=[f"rw_{k + 1}" for k in range(n_replicates)])
    return pd.concat([df.reset_index(drop=True), cols], axis=1)
