"""Seeded synthetic counter survey of one province, in the layout ``python -m analysis`` reads.

    python make_data.py SEED OUT.csv

Writes one row per response with the columns ``response_id, sector, agency_level, agency,
service_point, stratum, volume, weight, period, sex, age_group, q1..q6, q_overall`` (the first
ones in the order of the web app's export). The same seed always
gives the same file (numpy's PCG64 generator, no other source of randomness).

How the data arise:

* Offices: each sector has a fixed list of government levels and a fixed number of offices
  (agencies) per level; every office runs one to three service desks (service points). The last
  office of each sector has a single desk, so that under the clustered design (PSU = desk) some
  agencies have no estimable variance. The first commune office of the administrative sector is
  an "exemplary" one-stop desk: every respondent there rated the overall item 4 or 5, a degenerate
  group (share 1, standard error 0) on which the engine's special handling is checked.
* ``volume`` is the number of citizens a desk served in the period (at least its number of
  responses), ``weight`` = volume / responses at the desk, and ``stratum`` = level/sector (the
  strata of the clustered design; the counter design uses the desk as stratum).
* Answers: a latent satisfaction = office effect + desk effect + person effect (+ an age effect,
  so that raking to population margins moves the estimates), plus item-specific shifts and noise,
  cut into the 1–5 scale. Each item is blank ("not applicable") with its own small probability.
  ``q_overall`` follows the mean of the answered items and is never blank.
* The sample over-represents women and the young relative to the margins in ``reference.R``.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

PERIOD = "2025Q2"
# sector → (code, {level: number of offices})
OFFICES = {
    "administrative": ("ADM", {"province": 3, "district": 4, "commune": 4}),
    "health": ("HLT", {"province": 3, "district": 4}),
    "education": ("EDU", {"district": 4, "commune": 5}),
}
ITEM_SHIFT = np.array([0.20, -0.10, 0.35, 0.00, -0.45, 0.10])  # q1..q6 on the latent scale
ITEM_BLANK = np.array([0.04, 0.05, 0.09, 0.05, 0.07, 0.03])  # P(not applicable) per item
CUTS = np.array([1.5, 2.5, 3.5, 4.5])  # latent → 1..5
SEXES, SEX_P = np.array(["F", "M"]), [0.57, 0.43]
AGES, AGE_P = np.array(["18-34", "35-54", "55+"]), [0.45, 0.38, 0.17]
AGE_EFFECT = np.array([-0.15, 0.0, 0.35])


def offices() -> list[tuple[str, str, str, bool, bool]]:
    """(sector, level, agency, single desk?, exemplary?) for every office, in a fixed order."""
    out = []
    for sector, (code, levels) in OFFICES.items():
        rows = []
        for level, count in levels.items():
            for j in range(1, count + 1):
                rows.append([sector, level, f"{code}-{level[0].upper()}{j:02d}", False, False])
        rows[-1][3] = True
        if sector == "administrative":
            next(r for r in rows if r[1] == "commune")[4] = True
        out += [tuple(r) for r in rows]
    return out


def make(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for sector, level, agency, single, exemplary in offices():
        office = 2.0 if exemplary else rng.normal(0.9, 0.8)
        n_desks = 1 if single else int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
        for k in range(1, n_desks + 1):
            n = int(rng.integers(10, 56))
            volume = int(np.ceil(n * rng.uniform(4.0, 35.0)))
            age = rng.choice(len(AGES), size=n, p=AGE_P)
            person = office + rng.normal(0, 0.35) + rng.normal(0, 0.9, n) + AGE_EFFECT[age]
            latent = 3.0 + person[:, None] + ITEM_SHIFT + rng.normal(0, 0.75, (n, 6))
            items = 1.0 + np.searchsorted(CUTS, latent).astype(float)
            items[rng.random((n, 6)) < ITEM_BLANK] = np.nan
            answered = np.where(np.isnan(items).all(axis=1), 3.0 + person, np.nanmean(items, 1))
            overall = np.clip(np.rint(answered + rng.normal(0, 0.55, n)), 1, 5)
            if exemplary:
                overall = np.maximum(overall, 4)
            frame = pd.DataFrame(
                {
                    "sector": sector,
                    "agency_level": level,
                    "agency": agency,
                    "service_point": f"{agency}/{k}",
                    "stratum": f"{level}/{sector}",
                    "volume": volume,
                    "weight": volume / n,
                    "period": PERIOD,
                    "sex": rng.choice(SEXES, size=n, p=SEX_P),
                    "age_group": AGES[age],
                }
            )
            for j in range(6):
                frame[f"q{j + 1}"] = pd.array(items[:, j], dtype="Int64")
            frame["q_overall"] = overall.astype(int)
            parts.append(frame)
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "response_id", np.arange(1, len(df) + 1))
    return df


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python make_data.py SEED OUT.csv", file=sys.stderr)
        return 2
    df = make(int(argv[1]))
    df.to_csv(argv[2], index=False)
    print(
        f"{argv[2]}: {len(df)} responses, {df.agency.nunique()} agencies, "
        f"{df.service_point.nunique()} service points"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
