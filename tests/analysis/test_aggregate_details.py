"""Element indices, the composite, answer distributions, period changes and equivalent rows from
sufficient statistics (analysis/aggregate_details.py) equal the row-level estimators.

The sums are what the reports' per-respondent GROUP BY returns (survey/storage/reporting.py): per
stratum, Σx and Σxxᵀ of x = (satisfied answers per element, valid answers per element).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import (
    AnalysisError,
    answer_distribution,
    compare_groups,
    compare_periods,
    counter_design,
    element_indices,
    estimate_proportion,
)
from analysis.aggregate_details import (
    answer_distribution_from_counts,
    change_between,
    element_indices_from_sums,
    rows_from_counts,
    sum_columns,
)
from analysis.aggregates import estimate_share_from_counts
from tests.analysis.test_aggregates import assert_same, counter_rows, counts_of

ELEMENTS = {"access": ["q_a1", "q_a2"], "staff": ["q_s1", "q_s2", "q_s3"], "time": ["q_t1"]}


def with_items(seed: int) -> pd.DataFrame:
    """Counter rows with six 1–5 items in three elements (blanks, respondents who skipped a whole
    element, a stratum without any answer)."""
    d = counter_rows(seed)
    rng = np.random.default_rng(seed + 100)
    for items in ELEMENTS.values():
        for item in items:
            x = np.clip(np.rint(3.5 + rng.normal(0, 1.2, len(d))), 1, 5)
            x[rng.random(len(d)) < 0.15] = np.nan
            x[6:9] = np.nan
            d[item] = pd.array(x, dtype="Int64")
    d.loc[d.index[20:40], ELEMENTS["staff"]] = pd.NA
    return d


def respondent_sums(d: pd.DataFrame, elements: dict[str, list[str]]) -> pd.DataFrame:
    """What the database returns: per stratum, responses, answered counts, Σx and Σxxᵀ."""
    parts_a, parts_b = [], []
    for items in elements.values():
        values = d[items].to_numpy(dtype=float, na_value=np.nan)
        parts_a.append((values >= 4).sum(axis=1))
        parts_b.append((~np.isnan(values)).sum(axis=1))
    x = np.column_stack(parts_a + parts_b).astype(float)
    k = len(elements)
    singles, products = sum_columns(k)
    frame = pd.DataFrame(x, columns=singles)
    for name in products:
        j, m = (int(v) for v in name[2:].split("_"))
        frame[name] = x[:, j] * x[:, m]
    for e in range(k):
        frame[f"answered{e}"] = (x[:, k + e] > 0).astype(int)
    frame["answered_any"] = (x[:, k:] > 0).any(axis=1).astype(int)
    frame["responses"] = 1
    frame["stratum"] = d["stratum"].to_numpy()
    return frame.groupby("stratum", as_index=False).sum()


def strata_of(d: pd.DataFrame) -> pd.DataFrame:
    return d.groupby("stratum", as_index=False).agg(
        responses=("q", "size"), volume=("volume", "first")
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weights", [None, {"access": 2.0, "staff": 1.0, "time": 0.5}])
def test_element_indices_and_composite_equal_the_rows(
    seed: int, weights: dict[str, float] | None
) -> None:
    d = with_items(seed)
    design = counter_design(d, strata="stratum", volume="volume")
    rows = element_indices(d, ELEMENTS, design, None, element_weights=weights, min_n=10)
    sums = element_indices_from_sums(
        respondent_sums(d, ELEMENTS),
        strata_of(d),
        list(ELEMENTS),
        element_weights=weights,
        min_n=10,
    )
    assert [e.measure for e in sums] == [
        "element:access",
        "element:staff",
        "element:time",
        "composite",
    ]
    assert_same(rows, sums, rel=1e-10)


def test_an_element_nobody_answered_is_reported_with_n_0_as_in_rows() -> None:
    d = with_items(4)
    for item in ELEMENTS["time"]:
        d[item] = pd.array([pd.NA] * len(d), dtype="Int64")
    design = counter_design(d, strata="stratum", volume="volume")
    rows = element_indices(d, ELEMENTS, design, None, min_n=10)
    sums = element_indices_from_sums(
        respondent_sums(d, ELEMENTS), strata_of(d), list(ELEMENTS), min_n=10
    )
    assert sums[2].n == 0 and sums[2].status == "insufficient_data"
    assert [(e.measure, e.n, e.status) for e in rows] == [(e.measure, e.n, e.status) for e in sums]


def test_distributions_equal_the_rows() -> None:
    d = with_items(5)
    design = counter_design(d, strata="stratum", volume="volume")
    for item in ("q_a1", "q_s2", "q"):
        x = d[item].to_numpy(dtype=float, na_value=np.nan)
        counts = pd.DataFrame({"stratum": d["stratum"]})
        for v in range(1, 6):
            counts[f"value_{v}"] = (x == v).astype(int)
        counts = counts.groupby("stratum", as_index=False).sum()
        got = answer_distribution_from_counts(counts, strata_of(d))
        want = answer_distribution(d, item, design)
        assert got.keys() == want.keys()
        for v in want:
            assert got[v] == pytest.approx(want[v], rel=1e-12, abs=1e-15)
    empty = pd.DataFrame({"stratum": ["S00"], **{f"value_{v}": [0] for v in range(1, 6)}})
    assert answer_distribution_from_counts(empty, strata_of(d)) == {}


@pytest.mark.parametrize("min_n", [0, 30, 10_000])
def test_a_change_between_independent_periods_equals_compare_periods(min_n: int) -> None:
    now, before = counter_rows(6), counter_rows(7, n=900)
    both = pd.concat(
        [now.assign(report_period="current"), before.assign(report_period="previous")],
        ignore_index=True,
    )
    both["stratum"] = both["stratum"] + "|" + both["report_period"]
    design = counter_design(both, strata="stratum", volume="volume")
    try:
        want = compare_periods(
            both,
            design,
            "report_period",
            first="current",
            second="previous",
            items=("q",),
            min_n=min_n,
        )
    except AnalysisError:
        want = None
    estimates = []
    for d in (now, before):
        counts, strata = counts_of(d, [])
        (e,) = estimate_share_from_counts(counts, strata, None, item="q", min_n=0)
        estimates.append(e)
    got = change_between(
        estimates[0],
        estimates[1],
        labels=({"report_period": "current"}, {"report_period": "previous"}),
        min_n=min_n,
    )
    if want is None:
        assert got is None
        return
    assert got is not None
    for field in (
        "estimate_a",
        "estimate_b",
        "difference",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "p_value",
    ):
        assert getattr(got, field) == pytest.approx(getattr(want, field), rel=1e-10), field
    assert got.group_a == want.group_a and got.group_b == want.group_b


def test_rows_from_counts_give_the_tests_and_estimates_of_the_rows() -> None:
    d = counter_rows(8).rename(columns={"q": "q_overall"})
    design = counter_design(d, strata="stratum", volume="volume")
    counts, strata = counts_of(d.rename(columns={"q_overall": "q"}), ["grp", "sector"])
    # each stratum is one agency's: its responses (blank ones too) are the stratum's
    counts["responses"] = counts["stratum"].map(strata.set_index("stratum")["responses"])
    rebuilt = rows_from_counts(counts, strata, ["grp", "sector"])
    assert len(rebuilt) == len(d)
    again = counter_design(rebuilt, strata="stratum", volume="volume")
    assert_same(
        estimate_proportion(d, "q_overall", design, "grp", min_n=5),
        estimate_proportion(rebuilt, "q_overall", again, "grp", min_n=5),
    )
    want = compare_groups(d, design, "grp", "sector", min_n=5)
    got = compare_groups(rebuilt, again, "grp", "sector", min_n=5)
    for a, b in zip(want, got, strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=1e-10)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-10)
