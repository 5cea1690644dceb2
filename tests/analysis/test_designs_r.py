"""Multistage designs and lonely PSUs against R survey 4.1-1 on random designs (1e-6).

tests/analysis/r/designs.R runs, under each ``options(survey.lonely.psu=rule)``:
one     svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE)
one_fpc svydesign(ids=~psu, strata=~stratum, weights=~w, fpc=~N1, nest=TRUE)
two     svydesign(ids=~psu+person, strata=~stratum, fpc=~N1+N2, nest=TRUE)
two_nostrata svydesign(ids=~psu+person, fpc=~M1+N2)
and on s <- subset(des, !is.na(q)) and s[grp == g, ]: svymean(~q, s), svyciprop(~sat, s,
method="logit"), degf(s) and svychisq(~sat + grp, s, statistic="F"). The data
(tests/analysis/design_data.py) have a certainty stratum (N1 = n1) and a lonely stratum.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import (
    AnalysisError,
    compare_groups,
    estimate_mean,
    estimate_proportion,
    general_design,
)
from tests.analysis.design_data import two_stage
from tests.analysis.test_differential_r import _rscript

R_SCRIPTS = Path(__file__).with_name("r")
SEEDS = (1, 2, 3)
TOL = 1e-6
pytestmark = pytest.mark.needs_r


def run_r(script: str, d: pd.DataFrame, tmp: Path, *extra: str) -> pd.DataFrame:
    """Write ``d`` to CSV, run ``Rscript tests/analysis/r/SCRIPT data.csv out.csv [extra]``."""
    rscript = _rscript()
    data = tmp / "data.csv"
    d.to_csv(data, index=False)
    out = tmp / "r.csv"
    p = subprocess.run(
        [rscript, str(R_SCRIPTS / script), str(data), str(out), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert p.returncode == 0, p.stderr
    return pd.read_csv(out, keep_default_na=True)


DESIGNS = {
    "one": dict(strata="stratum", psu="psu", weight="w"),
    "one_fpc": dict(strata="stratum", psu="psu", weight="w", fpc="N1"),
    "two": dict(strata="stratum", psu=["psu", "person"], fpc=["N1", "N2"]),
    "two_nostrata": dict(psu=["psu", "person"], fpc=["M1", "N2"]),
}


@pytest.mark.parametrize("seed", SEEDS)
def test_multistage_and_lonely_psu_rules_match_r(seed: int, tmp_path: Path) -> None:
    d = two_stage(seed)
    expected = run_r("designs.R", d, tmp_path)
    checked = 0
    for (dn, rule), rows in expected.groupby(["design", "rule"], sort=False):
        spec = DESIGNS[dn]
        if (rows.measure == "error").any():
            msg = rows.error.iloc[-1]
            assert "has only one PSU" in msg
            with pytest.raises(AnalysisError, match="--lonely-psu") as err:
                design = general_design(d, **spec, lonely_psu=rule)
                estimate_mean(d, "q", design, "grp", min_n=0)
            assert "'S1'" in str(err.value)
            continue
        design = general_design(d, **spec, lonely_psu=rule)
        means = {
            e.group.get("grp", "all"): e for e in estimate_mean(d, "q", design, "grp", min_n=0)
        }
        props = {
            e.group.get("grp", "all"): e
            for e in estimate_proportion(d, "q", design, "grp", ci_method="logit", min_n=0)
        }
        (test,) = compare_groups(d, design, "grp", items=["q"], min_n=0, pairs=False)
        for row in rows.to_dict("records"):
            if row["measure"] == "rao-scott":
                assert test.statistic == pytest.approx(row["estimate"], rel=1e-9)
                assert test.ddf == pytest.approx(row["se"], rel=1e-9)
                assert test.ndf == pytest.approx(row["ci_low"], rel=1e-9)
                assert test.p_value == pytest.approx(row["ci_high"], rel=1e-6)
                continue
            e = (means if row["measure"] == "mean" else props)[row["group"]]
            assert e.estimate == pytest.approx(row["estimate"], abs=TOL), (dn, rule, row)
            assert e.se == pytest.approx(row["se"], abs=TOL), (dn, rule, row)
            assert e.df == row["df"]
            if row["measure"] == "prop":
                assert e.ci_low == pytest.approx(row["ci_low"], abs=TOL)
                assert e.ci_high == pytest.approx(row["ci_high"], abs=TOL)
            checked += 1
    assert checked >= 100


def test_certainty_stratum_gets_its_within_psu_variance() -> None:
    """A stratum where every PSU was taken (N1 = n1): one stage says variance 0, two stages
    (fpc at both) add the persons' sampling variance (R: ids=~psu+person, fpc=~N1+N2)."""
    d = two_stage(4)
    d = d[d.stratum == "S0"].reset_index(drop=True)
    one = general_design(d, strata="stratum", psu="psu", weight="w", fpc="N1")
    two = general_design(d, strata="stratum", psu=["psu", "person"], fpc=["N1", "N2"])
    e1 = estimate_mean(d, "q", one, min_n=0)[0]
    e2 = estimate_mean(d, "q", two, min_n=0)[0]
    assert e1.se == 0.0 and "every unit" in e1.note
    assert e2.se > 0 and e2.note == ""
    assert np.isclose(e1.estimate, e2.estimate)
