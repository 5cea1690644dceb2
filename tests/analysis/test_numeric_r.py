"""Means, totals and quantiles of any numeric column against R survey 4.1-1 (1e-6).

tests/analysis/r/numeric.R, lonely PSUs "adjust", on s <- des[!is.na(v), ] and s[grp == g, ]:
svymean(~v, s), svytotal(~v, s, deff=TRUE), svyquantile(~v, s, p) (qrule="math",
interval.type="mean") for p in 0.25, 0.5, 0.9, and degf(s); designs
two = svydesign(ids=~psu+person, strata=~stratum, fpc=~N1+N2, nest=TRUE),
one = svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import (
    AnalysisError,
    estimate_mean,
    estimate_proportion,
    estimate_quantile,
    estimate_total,
    general_design,
)
from tests.analysis.design_data import two_stage
from tests.analysis.test_designs_r import run_r

TOL = 1e-6
DESIGNS = {
    "two": dict(strata="stratum", psu=["psu", "person"], fpc=["N1", "N2"]),
    "one": dict(strata="stratum", psu="psu", weight="w"),
}


def _close(value: float | None, expected: float) -> None:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        assert value is None or math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-9, abs=TOL)


@pytest.mark.needs_r
@pytest.mark.parametrize("seed", (1, 2, 3))
def test_means_totals_and_quantiles_match_r(seed: int, tmp_path: Path) -> None:
    d = two_stage(seed)
    expected = run_r("numeric.R", d, tmp_path)
    engine = {}
    for dn, spec in DESIGNS.items():
        design = general_design(d, **spec, lonely_psu="adjust")
        for v in ("minutes", "score"):
            ests = (
                estimate_mean(d, v, design, "grp", min_n=0)
                + estimate_total(d, v, design, "grp", min_n=0)
                + estimate_quantile(d, v, design, "grp", quantiles=(0.25, 0.5, 0.9), min_n=0)
            )
            for e in ests:
                engine[(dn, v, e.group.get("grp", "all"), e.measure.split(":")[0])] = e
    assert len(expected) == 2 * 2 * 4 * 5
    for row in expected.to_dict("records"):
        e = engine[(row["design"], row["var"], row["group"], row["measure"])]
        assert e.status == "ok"
        _close(e.estimate, row["estimate"])
        _close(e.se, row["se"])
        assert e.df == row["df"]
        if row["measure"] == "total":
            _close(e.deff, row["deff"])
        if row["measure"].startswith("quantile"):
            _close(e.ci_low, row["ci_low"])
            _close(e.ci_high, row["ci_high"])


def test_scale_check_applies_to_items_and_declared_scales_only() -> None:
    d = pd.DataFrame(
        {
            "stratum": ["a"] * 3 + ["b"] * 3,
            "minutes": [3.5, 40, 12, 7, 90, 1],
            "q_wait": [1, 2, 7, 3, 4, 5],
        }
    )
    design = general_design(d, strata="stratum")
    assert estimate_mean(d, "minutes", design, min_n=0)[0].estimate == pytest.approx(25.583333333)
    with pytest.raises(AnalysisError, match=r"q_wait.*1–5"):
        estimate_mean(d, "q_wait", design, min_n=0)
    with pytest.raises(AnalysisError, match=r"minutes.*1–5"):
        estimate_mean(d, "minutes", design, min_n=0, scale=(1, 5))
    with pytest.raises(AnalysisError, match=r"minutes.*1–5"):
        estimate_proportion(d, "minutes", design, min_n=0)
    d.loc[0, "minutes"] = np.inf
    with pytest.raises(AnalysisError, match=r"minutes.*infinite"):
        estimate_total(d, "minutes", design, min_n=0)
    with pytest.raises(AnalysisError, match="quantiles"):
        estimate_quantile(d, "q_wait", design, quantiles=(1.5,), min_n=0)
