"""Differential test against R's survey package on freshly generated random designs.

For each seed: ``python make_reference_data.py SEED out.csv`` then
``Rscript reference.R out.csv OUTDIR`` (the R calls are listed in test_reference.py), and the
engine must reproduce every number to 1e-6. Skipped only when Rscript is missing and REQUIRE_R
is not set; with REQUIRE_R=1 a missing Rscript fails.
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
from tests.analysis.conftest import reference_dir
from tests.analysis.test_reference import check_estimate_row, engine_estimates, raked_estimates

SEEDS = (101, 202, 303)
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
    ref = reference_dir()
    out = tmp_path_factory.mktemp(f"r{request.param}")
    data = out / "responses.csv"
    subprocess.run(
        [sys.executable, str(ref / "make_reference_data.py"), str(request.param), str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [rscript, str(ref / "reference.R"), str(data), str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


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


WALD_SCRIPT = Path(__file__).with_name("r") / "wald_tests.R"


@pytest.mark.parametrize("source", ["reference", *(f"seed{s}" for s in SEEDS)])
def test_wald_tests_of_means_and_ratios_match_r(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``compare --measure mean|ratio``: R's regTermTest(svyglm(q1 ~ agency)) and the Wald
    statistic on svyby(..., svyratio, covmat=TRUE), design A, each sector."""
    rscript = _rscript()
    ref = reference_dir()
    out = tmp_path_factory.mktemp(f"wald-{source}")
    data = ref / "responses.csv"
    if source != "reference":
        data = out / "responses.csv"
        subprocess.run(
            [sys.executable, str(ref / "make_reference_data.py"), source[4:], str(data)],
            check=True,
            capture_output=True,
            timeout=120,
        )
    subprocess.run(
        [rscript, str(WALD_SCRIPT), str(data), str(out / "wald.csv")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    d = pd.read_csv(data)
    design = counter_design(d)
    expected = pd.read_csv(out / "wald.csv").to_dict("records")
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
