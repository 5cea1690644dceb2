"""Seeded random designs for the differential tests of multistage designs, lonely PSUs,
replicate weights and numeric variables (the R scripts in tests/analysis/r/ read the same CSV).

``two_stage(seed)``: strata of PSUs (``stratum``, ``psu`` unique across strata), persons sampled
within each PSU (``person``), the population sizes ``N1`` (PSUs in the stratum) and ``N2``
(persons in the PSU), ``M1`` (PSUs in the whole population, for a design without strata), the
weight ``w`` = N1/n1 · N2/n2, a 1–5 item ``q`` with blanks, a waiting time ``minutes`` (any
positive number), a score ``score`` (0–100) and a domain ``grp``. Stratum S0 takes every PSU
(certainty PSUs: N1 = n1) and stratum S1 has a single PSU (a lonely stratum).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def two_stage(seed: int, n_strata: int = 7, lonely: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    n_psu_total = 0
    for h in range(n_strata):
        if h == 0:
            n1, big1 = 3, 3  # certainty PSUs
        elif h == 1 and lonely:
            n1, big1 = 1, int(rng.integers(3, 9))
        else:
            n1 = int(rng.integers(2, 5))
            big1 = n1 + int(rng.integers(1, 12))
        effect = rng.normal(0, 0.6)
        for k in range(n1):
            big2 = int(rng.integers(6, 60))
            n2 = big2 if rng.random() < 0.1 else int(rng.integers(2, min(big2, 9) + 1))
            psu_effect = effect + rng.normal(0, 0.5)
            latent = 3.2 + psu_effect + rng.normal(0, 1.0, n2)
            q = np.clip(np.rint(latent), 1, 5)
            q[rng.random(n2) < 0.08] = np.nan
            parts.append(
                pd.DataFrame(
                    {
                        "stratum": f"S{h}",
                        "psu": f"S{h}P{k}",
                        "person": np.arange(1, n2 + 1),
                        "N1": big1,
                        "N2": big2,
                        "w": big1 / n1 * big2 / n2,
                        "q": pd.array(q, dtype="Int64"),
                        "minutes": np.round(rng.lognormal(2.5 + 0.3 * psu_effect, 0.6, n2), 1),
                        "score": np.round(np.clip(60 + 12 * latent - 36, 0, 100), 0),
                        "grp": rng.choice(["g1", "g2", "g3"], size=n2, p=[0.5, 0.3, 0.2]),
                    }
                )
            )
        n_psu_total += big1
    d = pd.concat(parts, ignore_index=True)
    d["M1"] = n_psu_total
    return d
