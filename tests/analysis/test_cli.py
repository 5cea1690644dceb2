"""The command line, run as a separate process: ``python -m analysis ...``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.analysis.conftest import REPO, reference_dir

REF = reference_dir()
DATA = str(REF / "responses.csv")
GROUP_KEYS = {"group", "n", "n_eff", "estimate", "se", "ci_low", "ci_high", "df", "deff"}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_indices_json_matches_r_and_has_the_documented_keys() -> None:
    p = run(
        "indices", DATA, "--by", "sector", "--target", "0.70", "--min-n", "0", "--format", "json"
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    groups = out["groups"]
    assert len(groups) == 4
    for g in groups:
        assert GROUP_KEYS | {"target", "p_value", "verdict"} <= set(g)
    ref = pd.read_csv(REF / "estimates.csv")
    ref = ref[(ref.design == "A") & (ref.measure == "prop_logit")]
    for g in groups:
        name = g["group"].get("sector", "all")
        r = ref[ref.group == name].iloc[0]  # svyciprop(~sat, sub, method="logit")
        assert g["estimate"] == pytest.approx(r.estimate, abs=1e-6)
        assert g["ci_low"] == pytest.approx(r.ci_low, abs=1e-6)
        assert g["ci_high"] == pytest.approx(r.ci_high, abs=1e-6)
        assert g["df"] == pytest.approx(r.df, abs=1e-6)
        expected = "met" if r.ci_low > 0.70 else "not_met" if r.ci_high < 0.70 else "undetermined"
        assert g["verdict"] == expected
    assert groups[-1]["group"] == {}


def test_band_target_and_min_n() -> None:
    p = run(
        "indices",
        DATA,
        "--by",
        "agency",
        "--target",
        "0.70:0.75",
        "--min-n",
        "60",
        "--format",
        "json",
    )
    assert p.returncode == 0, p.stderr
    groups = json.loads(p.stdout)["groups"]
    small = [g for g in groups if g["n"] < 60]
    assert small and all(
        g["estimate"] is None and g["verdict"] == "insufficient_data" for g in small
    )
    verdicts = {g["verdict"] for g in groups if g["n"] >= 60}
    assert verdicts <= {"above_band", "within_band", "below_band", "undetermined"}


def test_general_design_and_csv_output() -> None:
    p = run(
        "indices",
        DATA,
        "--by",
        "sector",
        "--strata",
        "stratum",
        "--psu",
        "service_point",
        "--weight",
        "weight",
        "--ci",
        "beta",
        "--min-n",
        "0",
        "--format",
        "csv",
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0].startswith("sector,measure,n,n_eff,estimate,se,ci_low,ci_high,df,deff")
    ref = pd.read_csv(REF / "estimates.csv")
    # design B: svyciprop(~sat, sub, method="beta")
    r = ref[(ref.design == "B") & (ref.measure == "prop_beta") & (ref.group == "health")].iloc[0]
    row = next(line.split(",") for line in lines if line.startswith("health,"))
    assert float(row[6]) == pytest.approx(r.ci_low, abs=1e-6)
    assert float(row[7]) == pytest.approx(r.ci_high, abs=1e-6)


def test_raking_option_matches_r() -> None:
    p = run(
        "indices",
        DATA,
        "--by",
        "sector",
        "--ci",
        "wald",
        "--min-n",
        "0",
        "--format",
        "json",
        "--rake",
        f"sex={REF / 'margins_sex.csv'}",
        "--rake",
        f"age_group={REF / 'margins_age_group.csv'}",
    )
    assert p.returncode == 0, p.stderr
    ref = pd.read_csv(REF / "raked.csv")  # svymean(~sat, raked[d$sector == g, ])
    for g in json.loads(p.stdout)["groups"]:
        r = ref[ref.group == g["group"].get("sector", "all")].iloc[0]
        assert g["estimate"] == pytest.approx(r.estimate, abs=1e-6)
        assert g["se"] == pytest.approx(r.se, abs=1e-6)


def test_compare_json_matches_r() -> None:
    p = run(
        "compare", DATA, "--by", "agency", "--within", "sector", "--min-n", "0", "--format", "json"
    )
    assert p.returncode == 0, p.stderr
    tests = json.loads(p.stdout)["tests"]
    ref = pd.read_csv(REF / "agency_tests.csv")
    ref = ref[ref.design == "A"]  # svychisq(~sat + agency, des[d$sector == s, ], statistic="F")
    assert len(tests) == 3
    for t in tests:
        assert {"within", "statistic", "ndf", "ddf", "p_value", "pairs"} <= set(t)
        r = ref[ref.sector == t["within"]["sector"]].iloc[0]
        assert t["statistic"] == pytest.approx(r.value, abs=1e-6)
        assert t["ddf"] == pytest.approx(r.ddf, abs=1e-6)
        k = t["groups"]
        assert len(t["pairs"]) == k * (k - 1) // 2
        for pair in t["pairs"]:
            assert {"difference", "ci_low", "ci_high", "p_value", "p_holm", "p_bh"} <= set(pair)
            assert pair["p_value"] <= pair["p_bh"] <= pair["p_holm"] + 1e-15


@pytest.mark.parametrize(("measure", "items"), [("mean", "q1"), ("ratio", "q1,q2,q3,q4,q5,q6")])
def test_compare_ratio_and_mean_give_a_wald_test_per_sector(measure: str, items: str) -> None:
    p = run(
        "compare", DATA, "--by", "agency", "--within", "sector", "--measure", measure,
        "--items", items, "--min-n", "0", "--format", "json",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    tests = json.loads(p.stdout)["tests"]
    assert len(tests) == 3
    for t in tests:
        assert t["method"] == "wald"
        assert t["statistic"] > 0 and t["ndf"] == t["groups"] - 1
        assert 0 <= t["p_value"] <= 1
        assert len(t["pairs"]) == t["groups"] * (t["groups"] - 1) // 2


def test_elements_option_gives_elements_and_composite() -> None:
    p = run(
        "indices",
        DATA,
        "--elements",
        "a=q1,q2;b=q3,q4,q5;c=q6",
        "--by",
        "sector",
        "--format",
        "json",
    )
    assert p.returncode == 0, p.stderr
    measures = {g["measure"] for g in json.loads(p.stdout)["groups"]}
    assert measures == {"element:a", "element:b", "element:c", "composite"}


def test_ratio_over_all_items_matches_r() -> None:
    p = run(
        "indices",
        DATA,
        "--measure",
        "ratio",
        "--items",
        "q1,q2,q3,q4,q5,q6",
        "--ci",
        "wald",
        "--format",
        "json",
    )
    assert p.returncode == 0, p.stderr
    g = json.loads(p.stdout)["groups"][0]
    ref = pd.read_csv(REF / "estimates.csv")
    # svyratio(~sat_answers, ~answers, des)
    r = ref[
        (ref.design == "A") & (ref.by == "all") & (ref.measure == "ratio_satisfied_answers")
    ].iloc[0]
    assert g["estimate"] == pytest.approx(r.estimate, abs=1e-6)
    assert g["ci_high"] == pytest.approx(r.ci_high, abs=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["indices", DATA, "--by", "nowhere"], "column 'nowhere' not found"),
        (["indices", "/nonexistent/file.csv"], "file not found"),
        (["indices", DATA, "--items", "sex"], "not numeric"),
        (["indices", DATA, "--items", "volume"], "outside the 1–5 scale"),
        (["indices", DATA, "--target", "abc"], "target 'abc'"),
        (["indices", DATA, "--level", "95"], "confidence level"),
        (["indices", DATA, "--ci", "magic"], "invalid choice"),
        (["indices", DATA, "--measure", "ratio"], "needs --items"),
        (["compare", DATA], "needs --by"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args: list[str], message: str) -> None:
    p = run(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error: ") and message in lines[0]


def test_bad_margins_are_reported(tmp_path: Path) -> None:
    bad_sum = tmp_path / "sex.csv"
    bad_sum.write_text("sex,share\nF,0.6\nM,0.6\n", encoding="utf-8")
    p = run("indices", DATA, "--rake", f"sex={bad_sum}")
    assert p.returncode == 2 and "add up to 1.2, not 1" in p.stderr
    missing = tmp_path / "age.csv"
    missing.write_text("age_group,share\n18-34,0.5\n35-54,0.5\n", encoding="utf-8")
    p = run("indices", DATA, "--rake", f"age_group={missing}")
    assert p.returncode == 2 and "'55+'" in p.stderr and "not in the margins" in p.stderr
    empty = tmp_path / "sex2.csv"
    empty.write_text("sex,share\nF,0.5\nM,0.3\nX,0.2\n", encoding="utf-8")
    p = run("indices", DATA, "--rake", f"sex={empty}")
    assert p.returncode == 2 and "no respondents" in p.stderr
    p = run("indices", DATA, "--rake", f"sex={tmp_path / 'nope.csv'}")
    assert p.returncode == 2 and "margins file not found" in p.stderr


def test_unreadable_and_bad_design_inputs(tmp_path: Path) -> None:
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\xff\xfe\x00\x00garbage")
    p = run("indices", str(binary))
    assert p.returncode == 2 and p.stderr.startswith("error: ")
    d = pd.read_csv(DATA)
    d.loc[0, "volume"] = 1  # fewer clients than responses at that point
    small = tmp_path / "small.csv"
    d.to_csv(small, index=False)
    p = run("indices", str(small))
    assert p.returncode == 2 and "volume" in p.stderr


GENERAL = ["--strata", "stratum", "--psu", "service_point", "--weight", "weight"]


@pytest.mark.parametrize(
    ("column", "value", "rows", "design"),
    [
        ("volume", "inf", "one", []),  # was: exit 0, NaN estimates marked ok
        ("volume", "inf", "point", []),
        ("volume", "1e308", "point", []),  # finite, but the weights' sum overflows
        ("weight", "1e308", "one", GENERAL),
        ("weight", "1e200", "all", GENERAL),  # the sum is finite, its square is not
    ],
)
def test_infinite_or_overflowing_design_numbers_are_refused(
    tmp_path: Path, column: str, value: str, rows: str, design: list[str]
) -> None:
    d = pd.read_csv(DATA)
    d[column] = d[column].astype(float)
    where = {
        "one": d.index == 0,
        "point": d.service_point == d.service_point[0],
        "all": d.index >= 0,
    }[rows]
    d.loc[where, column] = float(value)
    path = tmp_path / "bad.csv"
    d.to_csv(path, index=False)
    p = run("indices", str(path), "--by", "sector", "--format", "csv", *design)
    assert p.returncode == 2, p.stdout
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error: ") and repr(column) in lines[0]


# --------------------------------------------------------------------------------------------
# verdicts, p-values and their labels


def test_responses_needed_are_sized_on_the_citizens_served(tmp_path: Path) -> None:
    """A counter that served 120 citizens, 100 of whom answered, was told about 5,473 more."""
    path = tmp_path / "counter.csv"
    pd.DataFrame({"service_point": "P", "volume": 120, "q_overall": [5] * 88 + [2] * 12}).to_csv(
        path, index=False
    )
    p = run("indices", str(path), "--target", "0.9", "--format", "json")
    assert p.returncode == 0, p.stderr
    (g,) = json.loads(p.stdout)["groups"]
    assert g["verdict"] == "undetermined"
    assert g["population"] == pytest.approx(120)
    assert 0 < g["additional_n"] <= 20


def test_responses_needed_do_not_depend_on_the_scale_of_the_weights(tmp_path: Path) -> None:
    d = pd.read_csv(DATA)
    needed = []
    for factor in (1.0, 1.005):
        path = tmp_path / f"w{factor}.csv"
        d.assign(weight=d.weight * factor).to_csv(path, index=False)
        p = run(
            "indices", str(path), "--by", "agency", "--strata", "stratum", "--weight", "weight",
            "--target", "0.75", "--min-n", "0", "--format", "json",
        )  # fmt: skip
        assert p.returncode == 0, p.stderr
        groups = json.loads(p.stdout)["groups"]
        assert any(g["verdict"] == "undetermined" for g in groups)
        needed.append([(g["verdict"], g["additional_n"], g["p_value"]) for g in groups])
    for a, b in zip(*needed, strict=True):
        assert a[:2] == b[:2] and (a[2] is None or a[2] == pytest.approx(b[2], abs=1e-9))


@pytest.mark.parametrize("ci", ["logit", "beta", "wilson", "wald"])
def test_p_values_are_one_sided_and_agree_with_the_verdict(ci: str) -> None:
    p = run(
        "indices", DATA, "--by", "agency", "--target", "0.78", "--ci", ci, "--min-n", "0",
        "--format", "json",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert "one-sided" in out["notes"]["p_value"]
    for g in out["groups"]:
        if g["p_value"] is None:
            continue
        decided = g["verdict"] in ("met", "not_met")
        assert (g["p_value"] < 0.025) == decided, g
        assert g["alternative"] == ("greater" if g["estimate"] >= 0.78 else "less")


def test_a_mean_has_no_target() -> None:
    p = run("indices", DATA, "--measure", "mean", "--target", "0.8", "--format", "json")
    assert p.returncode == 2
    assert "share" in p.stderr and p.stdout == ""


def test_compare_labels_adjusted_p_values_and_keeps_the_level() -> None:
    p = run(
        "compare", DATA, "--by", "agency", "--within", "sector", "--level", "0.9", "--min-n", "0",
        "--format", "json",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert "adjusted" in out["notes"]["p_holm"] and "not" in out["notes"]["ci_low"]
    for t in out["tests"]:
        assert t["confidence_level"] == 0.9
        assert all(pair["confidence_level"] == 0.9 for pair in t["pairs"])
