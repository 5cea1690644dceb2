"""Differential test against R's survey package on freshly generated random designs.

For each seed: ``python tests/analysis/reference/make_data.py SEED out.csv`` then
``Rscript tests/analysis/reference/reference.R out.csv OUTDIR`` (the R calls are listed there and
in test_reference.py), and the engine must reproduce every number to 1e-6. Skipped only when
Rscript is missing and REQUIRE_R is not set; with REQUIRE_R=1 a missing Rscript fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import compare_groups, counter_design, general_design
from tests.analysis.conftest import REFERENCE, reference_dir
from tests.analysis.test_reference import check_estimate_row, engine_estimates, raked_estimates

SEEDS = (101, 202, 303)
GENERATOR = REFERENCE / "make_data.py"
R_REFERENCE = REFERENCE / "reference.R"
pytestmark = pytest.mark.needs_r


def _rscript() -> str:
    path = shutil.which("Rscript")
    if path is None:
        if os.environ.get("REQUIRE_R"):
            pytest.fail(
                "REQUIRE_R is set but Rscript is not installed (apt-get install r-cran-survey)"
            )
        pytest.skip("Rscript not installed")
    return path


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    rscript = _rscript()
    out = tmp_path_factory.mktemp(f"r{request.param}")
    data = _make_data(request.param, out)
    subprocess.run(
        [rscript, str(R_REFERENCE), str(data), str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def _make_data(seed: int, out: Path) -> Path:
    """``make_data.py SEED`` — random responses in the reference layout."""
    data = out / "responses.csv"
    subprocess.run(
        [sys.executable, str(GENERATOR), str(seed), str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return data


def test_estimates_match_r_on_random_data(generated: Path) -> None:
    d = pd.read_csv(generated / "responses.csv")
    engine = engine_estimates(d)
    ref = pd.read_csv(generated / "estimates.csv")
    assert len(ref) > 50
    for row in ref.to_dict("records"):
        e = engine[(row["design"], row["by"], str(row["group"]), row["measure"])]
        check_estimate_row(row, e)


def test_rao_scott_matches_r_on_random_data(generated: Path) -> None:
    d = pd.read_csv(generated / "responses.csv")
    designs = {
        "A": counter_design(d),
        "B": general_design(d, strata="stratum", psu="service_point", weight="weight"),
    }
    for row in pd.read_csv(generated / "agency_tests.csv").to_dict("records"):
        tests = compare_groups(d, designs[row["design"]], "agency", "sector", min_n=0, pairs=False)
        t = next(t for t in tests if t.within["sector"] == row["sector"])
        assert t.statistic == pytest.approx(row["value"], abs=1e-6)
        assert t.ndf == pytest.approx(row["ndf"], abs=1e-6)
        assert t.ddf == pytest.approx(row["ddf"], abs=1e-6)
        assert t.p_value == pytest.approx(row["p_value"], abs=1e-6)


def test_raking_matches_r_on_random_data(generated: Path) -> None:
    d = pd.read_csv(generated / "responses.csv")
    engine = raked_estimates(d, generated)
    for row in pd.read_csv(generated / "raked.csv").to_dict("records"):
        e = engine[str(row["group"])]
        assert e.estimate == pytest.approx(row["estimate"], abs=1e-6)
        assert e.se == pytest.approx(row["se"], abs=1e-6)


R_SCRIPTS = Path(__file__).with_name("r")
SOURCES = ["reference", *(f"seed{s}" for s in SEEDS)]


def _run_script(
    script: str, source: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[pd.DataFrame, list[dict], Path]:
    """Run ``tests/analysis/r/SCRIPT`` on the reference responses or on a generated seed's, with
    the reference folder (its raking margins) as third argument; returns the responses
    (DataFrame), R's output rows and the reference folder."""
    rscript = _rscript()
    ref = reference_dir()
    out = tmp_path_factory.mktemp(f"{Path(script).stem}-{source}")
    data = ref / "responses.csv" if source == "reference" else _make_data(int(source[4:]), out)
    subprocess.run(
        [rscript, str(R_SCRIPTS / script), str(data), str(out / "r.csv"), str(ref)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return pd.read_csv(data), pd.read_csv(out / "r.csv").to_dict("records"), ref


@pytest.mark.parametrize("source", SOURCES)
def test_wald_tests_of_means_and_ratios_match_r(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``compare --measure mean|ratio``: R's regTermTest(svyglm(q1 ~ agency)) and the Wald
    statistic on svyby(..., svyratio, covmat=TRUE), design A, each sector."""
    d, expected, _ = _run_script("wald_tests.R", source, tmp_path_factory)
    design = counter_design(d)
    assert len(expected) == 6
    for row in expected:
        items = ["q1"] if row["measure"] == "mean" else ["q1", "q2", "q3", "q4", "q5", "q6"]
        tests = compare_groups(
            d, design, "agency", "sector", measure=row["measure"], items=items, min_n=0
        )
        t = next(t for t in tests if t.within["sector"] == row["sector"])
        assert t.method == "wald"
        assert t.statistic == pytest.approx(row["statistic"], rel=1e-9)
        assert t.ndf == row["ndf"]
        assert t.ddf == row["ddf"]
        assert t.p_value == pytest.approx(row["p_value"], rel=1e-6, abs=1e-300)


@pytest.mark.parametrize("source", SOURCES)
def test_raked_logit_intervals_and_df_match_r(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """svyciprop(~sat, raked[d$sector == g, ], method="logit") and degf of that domain."""
    d, expected, ref = _run_script("raked_intervals.R", source, tmp_path_factory)
    engine = raked_estimates(d, ref)
    assert len(expected) == 4
    for row in expected:
        e = engine[str(row["group"])]
        assert e.df == row["df"]
        assert e.estimate == pytest.approx(row["estimate"], abs=1e-6)
        assert e.ci_low == pytest.approx(row["ci_low"], abs=1e-6)
        assert e.ci_high == pytest.approx(row["ci_high"], abs=1e-6)
