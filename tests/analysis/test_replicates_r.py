"""Replicate-weight designs against R survey 4.1-1 on random designs (1e-6).

tests/analysis/r/replicates.R (lonely PSUs "adjust"): replicates made from a design,
as.svrepdesign(svydesign(ids=~psu, weights=~w, fpc=~M1), type="JK1") and
as.svrepdesign(svydesign(ids=~psu, strata=~stratum, weights=~w, fpc=~N1, nest=TRUE),
type="JKn"); supplied columns, svrepdesign(data=rw, repweights="<type>_[0-9]+", weights=~w,
type=JK1|JKn|BRR|Fay|bootstrap, combined.weights=TRUE, rscales= for JKn, rho=0.5 for Fay).
On s <- subset(rep, !is.na(q)) and s[grp == g, ]: svymean(~q, s), svyciprop(~sat, s, "logit"),
degf(s), svychisq(~sat + grp, s, "F"); on rep[grp == g, ]: svytotal(~minutes),
svyquantile(~minutes, 0.5).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis import (
    compare_groups,
    estimate_mean,
    estimate_proportion,
    estimate_quantile,
    estimate_total,
    general_design,
)
from analysis.replicates import as_replicate_design, replicate_design
from tests.analysis.design_data import two_stage
from tests.analysis.test_designs_r import run_r

TOL = 1e-6
pytestmark = pytest.mark.needs_r


def _close(value: float | None, expected: float) -> None:
    if isinstance(expected, float) and math.isnan(expected):
        assert value is None or math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-9, abs=TOL)


def _designs(d: pd.DataFrame, rw: pd.DataFrame, rscales: list[float]) -> dict:
    pairs = rw[rw.in_pair].reset_index(drop=True)
    return {
        "from_JK1": (
            d,
            as_replicate_design(general_design(d, psu="psu", weight="w", fpc="M1"), "JK1"),
        ),
        "from_JKn": (
            d,
            as_replicate_design(
                general_design(
                    d, strata="stratum", psu="psu", weight="w", fpc="N1", lonely_psu="adjust"
                ),
                "JKn",
            ),
        ),
        "JK1": (rw, replicate_design(rw, "jk1_*", "JK1", weight="w")),
        "JKn": (rw, replicate_design(rw, "jkn_*", "JKn", weight="w", rscales=rscales)),
        "bootstrap": (rw, replicate_design(rw, "boot_*", "bootstrap", weight="w")),
        "BRR": (pairs, replicate_design(pairs, "brr_*", "BRR", weight="w")),
        "Fay": (pairs, replicate_design(pairs, "fay_*", "Fay", weight="w", rho=0.5)),
    }


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_replicate_designs_match_r(seed: int, tmp_path: Path) -> None:
    d = two_stage(seed)
    expected = run_r("replicates.R", d, tmp_path, str(tmp_path))
    rw = pd.read_csv(tmp_path / "repweights.csv")
    rscales = pd.read_csv(tmp_path / "jkn_rscales.csv").rscales.tolist()
    checked = 0
    for dn, (data, design) in _designs(d, rw, rscales).items():
        rows = expected[expected.design == dn]
        ests = {}
        for e in (
            estimate_mean(data, "q", design, "grp", min_n=0)
            + estimate_proportion(data, "q", design, "grp", ci_method="logit", min_n=0)
            + estimate_total(data, "minutes", design, "grp", min_n=0)
            + estimate_quantile(data, "minutes", design, "grp", min_n=0)
        ):
            kind = e.measure.split(":")[0]
            kind = {"mean": "mean", "share_satisfied": "prop", "total": "total"}.get(kind, "median")
            ests[(e.group.get("grp", "all"), kind)] = e
        (test,) = compare_groups(data, design, "grp", items=["q"], min_n=0, pairs=False)
        for row in rows.to_dict("records"):
            if row["measure"] == "rao-scott":
                assert test.statistic == pytest.approx(row["estimate"], rel=1e-9), dn
                assert test.ddf == pytest.approx(row["se"], rel=1e-9), dn
                assert test.ndf == pytest.approx(row["ci_low"], rel=1e-9), dn
                assert test.p_value == pytest.approx(row["ci_high"], rel=1e-6), dn
                continue
            e = ests[(row["group"], row["measure"])]
            _close(e.estimate, row["estimate"])
            _close(e.se, row["se"])
            assert e.df == row["df"], (dn, row)
            if row["measure"] in ("prop", "median"):
                _close(e.ci_low, row["ci_low"])
                _close(e.ci_high, row["ci_high"])
            checked += 1
    assert checked == 7 * 4 * 4
