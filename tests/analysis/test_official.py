"""The official ratios of Decision 766/QĐ-TTg on hand-computed cases, edges included."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis import (
    AnalysisError,
    complaint_ratios,
    criteria_grade,
    dossier_ratio,
    dossier_ratios,
    item_points,
    overdue_mask,
    rated_share,
    reconciliation_sentence,
)

UTC = dt.UTC
T = dt.datetime


def at(day: int, hour: int = 8) -> dt.datetime:
    return T(2026, 3, day, hour, tzinfo=UTC)


# --- overdue ----------------------------------------------------------------------------------


def test_overdue_rule_returned_late_pending_past_due_and_exactly_on_time():
    due = [at(10), at(10), at(10), at(10), at(20), None]
    returned = [at(11), at(10), None, at(9), None, None]
    # cutoff 15 March: the pending dossier due on the 10th is overdue, the one due on the 20th
    # is not (yet); returned exactly at the due time is on time; no due time, never overdue.
    mask = overdue_mask(due_at=due, returned_at=returned, cutoff=at(15))
    assert mask.tolist() == [True, False, True, False, False, False]


def test_cutoff_is_the_callers_min_of_period_end_and_now():
    due = [at(20)]
    assert overdue_mask(due_at=due, returned_at=[None], cutoff=at(31)).tolist() == [True]
    assert overdue_mask(due_at=due, returned_at=[None], cutoff=at(19)).tolist() == [False]


def test_overdue_with_offsets_and_naive_utc():
    vietnam = dt.timezone(dt.timedelta(hours=7))
    # 17:00 in Vietnam is 10:00 UTC: returned at 10:30 UTC is after a 17:00 (+07) due time.
    due = [T(2026, 3, 10, 17, tzinfo=vietnam)]
    returned = [T(2026, 3, 10, 10, 30)]  # naive: taken as UTC
    assert overdue_mask(due_at=due, returned_at=returned, cutoff=at(31)).tolist() == [True]


def test_overdue_refuses_unequal_lengths():
    with pytest.raises(AnalysisError, match="one value per dossier"):
        overdue_mask(due_at=[at(1), at(2)], returned_at=[None], cutoff=at(3))


# --- ratio 3: dossiers ----------------------------------------------------------------------


def test_dossier_ratio_by_hand():
    # 10 dossiers: 4 rated (one dissatisfied), 1 complained about, 2 overdue; dossier 0 is
    # dissatisfied AND complained AND overdue: it takes one dossier off, not three.
    rated = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    dissatisfied = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    complained = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    overdue = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    r = dossier_ratio(
        rated=rated, dissatisfied=dissatisfied, complained=complained, overdue=overdue
    )
    assert (r.dossiers, r.rated, r.dissatisfied, r.complained, r.overdue) == (10, 4, 1, 1, 2)
    assert r.not_satisfied == 2  # dossier 0 once, dossier 4 (overdue, unrated)
    assert r.ratio == pytest.approx(8 / 10)
    assert r.response_rate == pytest.approx(4 / 10)
    # dossiers 5..9: nobody rated them, none overdue or complained about, all counted satisfied
    assert r.unrated_counted_satisfied == 5
    assert r.unrated_counted_satisfied_share == pytest.approx(0.5)


def test_complained_and_overdue_same_dossier_counted_once():
    r = dossier_ratio(rated=[0, 0], dissatisfied=[0, 0], complained=[1, 0], overdue=[1, 0])
    assert r.not_satisfied == 1 and r.ratio == pytest.approx(0.5)


def test_no_dossiers_has_no_ratio():
    r = dossier_ratio(rated=[], dissatisfied=[], complained=[], overdue=[])
    assert r.dossiers == 0 and r.ratio is None and r.response_rate is None
    assert r.unrated_counted_satisfied_share is None


def test_all_overdue_is_zero():
    r = dossier_ratio(rated=[0, 1, 0], dissatisfied=[0, 0, 0], complained=[0] * 3, overdue=[1] * 3)
    assert r.ratio == 0.0 and r.not_satisfied == 3 and r.unrated_counted_satisfied == 0


def test_nobody_rated_nothing_wrong_is_one_hundred_percent():
    r = dossier_ratio(rated=[0] * 4, dissatisfied=[0] * 4, complained=[0] * 4, overdue=[0] * 4)
    assert r.ratio == 1.0 and r.response_rate == 0.0 and r.unrated_counted_satisfied == 4


def test_dissatisfied_must_be_rated_and_flags_must_be_true_or_false():
    with pytest.raises(AnalysisError, match="counted as rated"):
        dossier_ratio(rated=[0], dissatisfied=[1], complained=[0], overdue=[0])
    with pytest.raises(AnalysisError, match="true or false"):
        dossier_ratio(rated=[2], dissatisfied=[0], complained=[0], overdue=[0])
    with pytest.raises(AnalysisError, match="one value per row"):
        dossier_ratio(rated=[0, 0], dissatisfied=[0], complained=[0, 0], overdue=[0, 0])
    with pytest.raises(AnalysisError, match="blank"):
        dossier_ratio(rated=[None], dissatisfied=[0], complained=[0], overdue=[0])


def test_dossier_ratios_by_group_keeps_empty_groups():
    table = pd.DataFrame(
        {
            "agency": ["A", "A", "B"],
            "rated": [True, False, False],
            "dissatisfied": [True, False, False],
            "complained": [False, False, False],
            "overdue": [False, False, True],
        }
    )
    results = dossier_ratios(table, "agency", groups=["B", "A", "C"])
    assert [r.group for r in results] == [{"agency": "B"}, {"agency": "A"}, {"agency": "C"}]
    assert [r.ratio for r in results] == [0.0, 0.5, None]
    assert [r.group["agency"] for r in dossier_ratios(table, "agency")] == ["A", "B"]
    with pytest.raises(AnalysisError, match="overdue"):
        dossier_ratios(table.drop(columns="overdue"), "agency")


# --- ratios 1 and 2: complaints -------------------------------------------------------------


def test_complaint_ratios_by_hand():
    # five PAKN, cutoff 31 March:
    # 0 closed on time, rated 5          → on time, satisfied
    # 1 closed late, rated 4             → overdue
    # 2 closed on time, rated 2          → on time, dissatisfied
    # 3 open, due 10 March               → overdue (pending past due)
    # 4 open, due 5 April                → neither yet (not on time: not handled)
    due = [at(10), at(10), at(10), at(10), T(2026, 4, 5, tzinfo=UTC)]
    closed = [at(9), at(12), at(10), None, None]
    rating = [5, 4, 2, np.nan, np.nan]
    r = complaint_ratios(due_at=due, closed_at=closed, handling_rating=rating, cutoff=at(31))
    assert (r.complaints, r.closed, r.on_time, r.overdue) == (5, 3, 2, 2)
    assert (r.rated, r.dissatisfied, r.not_satisfied) == (3, 1, 3)
    assert r.ratio_on_time == pytest.approx(2 / 5)
    assert r.ratio_satisfaction == pytest.approx(2 / 5)


def test_complaint_both_dissatisfied_and_overdue_counted_once_and_none_when_empty():
    r = complaint_ratios(due_at=[at(10)], closed_at=[at(11)], handling_rating=[1], cutoff=at(31))
    assert r.not_satisfied == 1 and r.ratio_satisfaction == 0.0 and r.ratio_on_time == 0.0
    empty = complaint_ratios(due_at=[], closed_at=[], handling_rating=[], cutoff=at(31))
    assert empty.ratio_on_time is None and empty.ratio_satisfaction is None


def test_complaint_rating_outside_scale_refused():
    with pytest.raises(AnalysisError, match="1, 2, 3, 4 or 5"):
        complaint_ratios(due_at=[at(1)], closed_at=[at(1)], handling_rating=[7], cutoff=at(2))


# --- the 9 criteria × 2 points grade ---------------------------------------------------------


def test_item_points_mapping():
    assert np.array_equal(
        item_points([1, 2, 3, 4, 5, np.nan]), [0, 0, 1, 2, 2, np.nan], equal_nan=True
    )
    with pytest.raises(AnalysisError):
        item_points([0])


def test_criteria_grade_bands_by_hand():
    # all nine criteria at 2 points: 18 → excellent
    assert criteria_grade(np.full((3, 9), 2.0)).grade == "excellent"
    # 15 points exactly (six 2s, three 1s) is "good", not "excellent"
    fifteen = np.array([[2, 2, 2, 2, 2, 2, 1, 1, 1]], dtype=float)
    assert criteria_grade(fifteen).score == pytest.approx(15.0)
    assert criteria_grade(fifteen).grade == "good"
    # 12 → good; 9 → fair; 6 → average; 5 → weak
    for total, grade in ((12, "good"), (9, "fair"), (6, "average"), (5, "weak")):
        row = np.zeros((1, 9))
        row[0, : total // 2] = 2
        row[0, total // 2] = total % 2
        result = criteria_grade(row)
        assert (result.score, result.grade) == (pytest.approx(total), grade)
    # mean over ratings: 18 and 6 → 12, good; label in both languages
    two = criteria_grade(np.array([[2] * 9, [2, 2, 2, 0, 0, 0, 0, 0, 0]], dtype=float))
    assert (two.score, two.grade, two.label_vi, two.label_en) == (12.0, "good", "Tốt", "Good")


def test_criteria_grade_with_fewer_criteria_answered_scales_to_18_and_empty_is_none():
    # 3 of 9 answered, all 2 → 18; the unanswered are left out, not zero
    row = np.array([[2, 2, 2] + [np.nan] * 6])
    assert criteria_grade(row).score == pytest.approx(18.0)
    none = criteria_grade(np.full((2, 9), np.nan))
    assert none.ratings == 0 and none.score is None and none.grade is None
    with pytest.raises(AnalysisError, match="0, 1 or 2"):
        criteria_grade(np.array([[3.0]]))


# --- a group's share from ratings -----------------------------------------------------------


def test_rated_share_wilson_by_hand_and_minimum():
    # 8 of 10 satisfied: Wilson 95% with z = 1.959964: centre (0.8 + z²/20)/(1 + z²/10)
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * np.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    r = rated_share([5, 5, 4, 4, 4, 4, 5, 5, 2, 3, np.nan], min_n=10)
    assert (r.ratings, r.satisfied, r.dissatisfied, r.shown) == (10, 8, 1, True)
    assert r.share == pytest.approx(0.8)
    assert (r.ci_low, r.ci_high) == (pytest.approx(centre - half), pytest.approx(centre + half))
    hidden = rated_share([5, 5, 1], min_n=10)
    assert not hidden.shown and hidden.share is None and hidden.ratings == 3


# --- the reconciliation sentence ------------------------------------------------------------


def test_reconciliation_sentence_in_both_languages():
    ratio = dossier_ratio(
        rated=[1] * 18 + [0] * 82,
        dissatisfied=[1] * 5 + [0] * 95,
        complained=[0] * 100,
        overdue=[0] * 98 + [1] * 2,
    )
    # official: (100 − 5 − 2)/100 = 93%; silent counted satisfied: 80 of 100
    en = reconciliation_sentence(ratio, estimate=0.714, ci_low=0.66, ci_high=0.762, language="en")
    assert en == (
        "The official ratio (93.0%) counts as satisfied the 80.0% of dossiers that nobody "
        "rated and that were neither overdue nor complained about; the weighted survey estimate "
        "is 71.4% (95% CI 66.0–76.2%), from ratings of 18.0% of the dossiers."
    )
    vi = reconciliation_sentence(ratio, estimate=0.714, ci_low=0.66, ci_high=0.762, language="vi")
    assert vi.startswith("Tỷ lệ chính thức (93,0%) tính là hài lòng 80,0% số hồ sơ")
    assert "71,4% (KTC 95%: 66,0–76,2%)" in vi and "18,0%" in vi


def test_reconciliation_sentence_edges():
    empty = dossier_ratio(rated=[], dissatisfied=[], complained=[], overdue=[])
    assert "No dossiers" in reconciliation_sentence(empty, estimate=None, ci_low=None, ci_high=None)
    assert "Không có hồ sơ" in reconciliation_sentence(
        empty, estimate=None, ci_low=None, ci_high=None, language="vi"
    )
    one = dossier_ratio(rated=[0], dissatisfied=[0], complained=[0], overdue=[0])
    text = reconciliation_sentence(one, estimate=None, ci_low=None, ci_high=None)
    assert "too few responses" in text and "(100.0%)" in text
    with pytest.raises(AnalysisError):
        reconciliation_sentence(one, estimate=None, ci_low=None, ci_high=None, language="fr")


def test_results_are_frozen_and_keyword_only():
    r = dossier_ratio(rated=[1], dissatisfied=[0], complained=[0], overdue=[0])
    with pytest.raises(AttributeError):
        r.ratio = 0.5  # type: ignore[misc]
    with pytest.raises(TypeError):
        type(r)({}, 1, 1, 0, 0, 0, 0, 0, 1.0, 1.0)  # type: ignore[misc]


def test_rated_shares_are_ranked_with_simultaneous_intervals():
    from analysis.official import rank_rated_shares

    shares = [
        rated_share([5] * 60, min_n=30),  # everyone satisfied: not treated as certain
        rated_share([5] * 30 + [1] * 30, min_n=30),
        rated_share([5] * 6 + [1] * 54, min_n=30),
        rated_share([5] * 10, min_n=30),  # too few ratings: not ranked
    ]
    ranks = rank_rated_shares(shares)
    assert ranks[3] is None
    first, middle, last = ranks[:3]
    assert (first.rank, middle.rank, last.rank) == (1, 2, 3)
    assert all(r.n_ranked == 3 and r.rank_low <= r.rank <= r.rank_high for r in ranks[:3])
    assert (first.rank_low, first.rank_high) == (1, 1)  # 100% of 60 vs 50%: clearly first
    assert (last.rank_low, last.rank_high) == (3, 3)
    close = rank_rated_shares([rated_share([5] * 16 + [1] * 14, min_n=30)] * 2 + shares[2:3])
    assert (close[0].rank_low, close[0].rank_high) == (1, 2) and not close[2].wide
    assert rank_rated_shares(shares[3:]) == [None]
