"""Command-line options for items, designs and their errors (python -m analysis, subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.analysis.test_cli import DATA, run


def test_items_with_prop_or_mean_analyse_every_item() -> None:
    for measure in ("prop", "mean"):
        p = run("indices", DATA, "--measure", measure, "--items", "q1,q2", "--format", "json")
        assert p.returncode == 0, p.stderr
        out = json.loads(p.stdout)
        measures = {g["measure"].split(":")[1] for g in out["groups"]}
        assert measures == {"q1", "q2"}
        assert out["deff_definition"].startswith("deff = design variance")


def test_compare_refuses_several_items_for_one_item_measures() -> None:
    p = run("compare", DATA, "--by", "agency", "--items", "q1,q2")
    assert p.returncode == 2
    assert "--items" in p.stderr and "q1, q2" in p.stderr and "--measure ratio" in p.stderr


def test_table_output_states_the_design_and_the_deff_definition() -> None:
    p = run("indices", DATA, "--by", "sector")
    assert p.returncode == 0, p.stderr
    assert "lonely PSUs: fail" in p.stdout and "deff = design variance" in p.stdout


def _lonely_file(tmp_path: Path) -> str:
    rng = np.random.default_rng(3)
    d = pd.DataFrame(
        {
            "service_point": ["a"] * 5 + ["b"] * 4 + ["c"],
            "volume": [50] * 5 + [40] * 4 + [30],
            "q_overall": rng.integers(1, 6, 10),
        }
    )
    path = tmp_path / "lonely.csv"
    d.to_csv(path, index=False)
    return str(path)


def test_lonely_psu_fails_by_default_naming_the_stratum_and_the_option(tmp_path: Path) -> None:
    path = _lonely_file(tmp_path)
    p = run("indices", path, "--min-n", "0")
    assert p.returncode == 2
    assert "'c'" in p.stderr and "--lonely-psu" in p.stderr and "survey.lonely.psu" in p.stderr
    for rule in ("adjust", "average", "certainty", "remove"):
        p = run("indices", path, "--min-n", "0", "--lonely-psu", rule, "--format", "json")
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["lonely_psu"] == rule


def test_multistage_options_must_match(tmp_path: Path) -> None:
    d = pd.DataFrame(
        {
            "psu": [1, 1, 2, 2, 3, 3],
            "person": [1, 2, 1, 2, 1, 2],
            "N1": 10,
            "N2": 5,
            "q_overall": [1, 2, 3, 4, 5, 5],
        }
    )
    path = tmp_path / "two.csv"
    d.to_csv(path, index=False)
    p = run("indices", str(path), "--psu", "psu,person", "--fpc", "N1", "--min-n", "0")
    assert p.returncode == 2
    assert "--fpc" in p.stderr and "N1" in p.stderr
    assert "one population column per stage" in p.stderr
    p = run("indices", str(path), "--fpc", "N1,N2", "--min-n", "0")
    assert p.returncode == 2 and "--psu" in p.stderr
    d.loc[1, "N2"] = 6
    d.to_csv(path, index=False)
    p = run("indices", str(path), "--psu", "psu,person", "--fpc", "N1,N2", "--min-n", "0")
    assert p.returncode == 2 and "'N2'" in p.stderr


def test_numeric_columns_totals_and_quantiles_on_a_two_stage_design(tmp_path: Path) -> None:
    from analysis import estimate_quantile, general_design
    from tests.analysis.design_data import two_stage

    d = two_stage(1)
    path = tmp_path / "two.csv"
    d.to_csv(path, index=False)
    design = ["--strata", "stratum", "--psu", "psu,person", "--fpc", "N1,N2"]
    common = ["--lonely-psu", "adjust", "--min-n", "0", "--format", "json"]
    p = run(
        "indices",
        str(path),
        "--measure",
        "quantile",
        "--items",
        "minutes",
        "--quantiles",
        "0.25,0.5",
        "--by",
        "grp",
        *design,
        *common,
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["ci_method"] == "woodruff"
    lib = estimate_quantile(
        d,
        "minutes",
        general_design(
            d, strata="stratum", psu=["psu", "person"], fpc=["N1", "N2"], lonely_psu="adjust"
        ),
        "grp",
        quantiles=(0.25, 0.5),
        min_n=0,
    )
    assert [g["estimate"] for g in out["groups"]] == [e.estimate for e in lib]
    for measure in ("mean", "total"):
        p = run(
            "indices", str(path), "--measure", measure, "--items", "minutes,score", *design, *common
        )
        assert p.returncode == 0, p.stderr
        assert len(json.loads(p.stdout)["groups"]) == 2
    p = run(
        "indices",
        str(path),
        "--measure",
        "mean",
        "--items",
        "minutes",
        "--scale",
        "1-5",
        *design,
        *common,
    )
    assert p.returncode == 2 and "'minutes'" in p.stderr and "1–5" in p.stderr
    p = run("indices", str(path), "--measure", "total", *design, *common)
    assert p.returncode == 2 and "--items" in p.stderr
    p = run(
        "compare",
        str(path),
        "--measure",
        "total",
        "--items",
        "minutes",
        "--by",
        "grp",
        *design,
        *common,
    )
    assert p.returncode == 2 and "indices" in p.stderr


def test_replicate_options_equal_the_library(tmp_path: Path) -> None:
    from analysis import estimate_proportion, general_design
    from analysis.replicates import as_replicate_design
    from tests.analysis.design_data import two_stage

    d = two_stage(2)
    taylor = general_design(
        d, strata="stratum", psu="psu", weight="w", fpc="N1", lonely_psu="adjust"
    )
    rep = as_replicate_design(taylor, "JKn")
    lib = estimate_proportion(d, "q", rep, "grp", min_n=0)
    rw = rep.replicate_weights()
    cols = {f"rw_{k + 1}": rw[:, k] for k in range(rw.shape[1])}
    path = tmp_path / "rw.csv"
    pd.concat([d, pd.DataFrame(cols)], axis=1).to_csv(path, index=False)
    common = ["--items", "q", "--by", "grp", "--min-n", "0", "--format", "json"]
    made = run(
        "indices",
        str(path),
        "--strata",
        "stratum",
        "--psu",
        "psu",
        "--weight",
        "w",
        "--fpc",
        "N1",
        "--lonely-psu",
        "adjust",
        "--replicates",
        "JKn",
        *common,
    )
    assert made.returncode == 0, made.stderr
    rscales = ",".join(repr(float(v)) for v in rep.rscales)
    given = run(
        "indices",
        str(path),
        "--repweights",
        "rw_*",
        "--rep-type",
        "JKn",
        "--rep-rscales",
        rscales,
        "--weight",
        "w",
        *common,
    )
    assert given.returncode == 0, given.stderr
    for out in (json.loads(made.stdout), json.loads(given.stdout)):
        assert out["replicates"] == "JKn"
        for g, e in zip(out["groups"], lib, strict=True):
            assert g["estimate"] == pytest.approx(e.estimate, rel=1e-12)
            assert g["se"] == pytest.approx(e.se, rel=1e-9)
            assert g["ci_low"] == pytest.approx(e.ci_low, rel=1e-9)
    bad = [
        (["--repweights", "rw_*", "--rep-type", "JKn", "--weight", "w"], "--rep-rscales"),
        (["--repweights", "zz_*", "--rep-type", "JK1", "--weight", "w"], "'zz_*'"),
        (["--repweights", "rw_*", "--rep-type", "JK1"], "--weight"),
        (["--repweights", "rw_*", "--rep-type", "Fay", "--weight", "w"], "--rep-rho"),
        (["--repweights", "rw_*", "--rep-type", "JK1", "--weight", "w", "--psu", "psu"], "--psu"),
        (
            [
                "--psu",
                "psu",
                "--weight",
                "w",
                "--strata",
                "stratum",
                "--replicates",
                "JK1",
                "--lonely-psu",
                "adjust",
            ],
            "JKn",
        ),
        (
            [
                "--strata",
                "stratum",
                "--psu",
                "psu,person",
                "--fpc",
                "N1,N2",
                "--replicates",
                "JKn",
                "--lonely-psu",
                "adjust",
            ],
            "first stage",
        ),
    ]
    for args, needle in bad:
        p = run("indices", str(path), *args, *common)
        assert p.returncode == 2, (args, p.stderr)
        assert needle in p.stderr, (args, p.stderr)
