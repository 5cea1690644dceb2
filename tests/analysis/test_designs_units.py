"""Internal agreement of the variance paths for multistage designs and lonely-PSU rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import general_design
from analysis.design import dense_vcov, variance_by_group, vcov_groups
from tests.analysis.design_data import two_stage


def _big(seed: int) -> pd.DataFrame:
    parts = [
        two_stage(seed + k, n_strata=40).assign(stratum=lambda x, k=k: x.stratum + f"-{k}")
        for k in range(12)
    ]
    d = pd.concat(parts, ignore_index=True)
    d["psu"] = d.stratum + "/" + d.psu
    return d


@pytest.mark.parametrize("rule", ["adjust", "average", "certainty", "remove"])
def test_sparse_covariance_equals_dense_and_grouped_variances(rule: str) -> None:
    d = _big(10)
    design = general_design(
        d, strata="stratum", psu=["psu", "person"], fpc=["N1", "N2"], lonely_psu=rule
    )
    rng = np.random.default_rng(1)
    n_groups = int(2_000_000 / len(d)) + 5
    g = rng.integers(-1, n_groups, len(d))
    z = rng.normal(size=len(d)) * design.weights
    sparse = vcov_groups(design, z, g, n_groups)  # n × groups above the dense threshold
    dense = np.zeros((len(d), n_groups))
    rows = np.flatnonzero(g >= 0)
    dense[rows, g[rows]] = z[rows]
    full = dense_vcov(design, dense, rows=g >= 0)
    np.testing.assert_allclose(sparse, full, rtol=1e-9, atol=1e-9 * np.abs(full).max())
    if rule != "average":  # "average" scales by the strata each group touches, not the union
        np.testing.assert_allclose(
            np.diag(full), variance_by_group(design, z, g, n_groups), rtol=1e-9
        )
