"""The official satisfaction ratios of Decision 766/QĐ-TTg (2022), computed one standard way.

Decision 766/QĐ-TTg of 23 June 2022 (Prime Minister) approves the index set by which every agency is
scored in real time, on 100 points, for how it serves citizens and businesses in administrative
procedures and public services. Its satisfaction group ("mức độ hài lòng", 18 points) holds three
ratios, implemented here once:

1. complaints and petitions (phản ánh, kiến nghị — PAKN) handled on time ÷ PAKN within the
   agency's competence (:func:`complaint_ratios`, ``ratio_on_time``);
2. satisfaction with PAKN handling = (PAKN − PAKN whose handling was rated dissatisfied or that
   are overdue) ÷ PAKN (:func:`complaint_ratios`, ``ratio_satisfaction``);
3. satisfaction with procedures = (dossiers − dossiers rated dissatisfied, complained about or
   overdue) ÷ dossiers within the agency's competence (:func:`dossier_ratio`).

Đắk Lắk's Directive 012/CT-UBND (26 November 2025) orders the ratios to be computed one standard
way and reconciled; the decision names the quantities but not their edge cases, so this module
fixes them and states each one:

* **Period.** A dossier (or a PAKN) belongs to the period in which it was received.
* **Overdue** (:func:`overdue_mask`): returned (closed) after its due time; or not returned and
  due before the *cutoff*, which is the end of the period or now, whichever is earlier. Returned
  exactly at the due time is on time. A dossier without a due time is never overdue.
* **Counted once.** A dossier that is dissatisfied *and* complained about *and* overdue takes one
  dossier off the numerator (the union of the three sets), never two or three.
* **Nobody's rating is invented.** Ratio 3 is a census ratio in which a dossier nobody rated counts
  as satisfied unless it is overdue or complained about; :class:`DossierRatio` therefore carries
  the response rate and the share of dossiers counted satisfied without any rating, and
  :func:`reconciliation_sentence` says so beside the survey estimate.
* **No dossiers, no ratio.** An empty group has ratio ``None`` (neither 0% nor 100%).

Which dossiers enter (e.g. cancelled ones are left out by the platform) is the caller's choice;
these functions take one row per dossier or per PAKN as they are given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.intervals import wilson_interval
from analysis.summaries import format_number, format_percent

__all__ = [
    "ComplaintRatios",
    "CriteriaGrade",
    "DossierRatio",
    "RatedShare",
    "complaint_ratios",
    "criteria_grade",
    "dossier_ratio",
    "dossier_ratios",
    "item_points",
    "overdue_mask",
    "rated_share",
    "reconciliation_sentence",
]

DISSATISFIED_AT_MOST = 2  # an overall answer of 1 or 2 on the 5-point scale is "dissatisfied"


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True, kw_only=True)
class DossierRatio:
    """Ratio 3 of Decision 766/QĐ-TTg for one group of dossiers, with what it rests on.

    ``not_satisfied`` = |dissatisfied ∪ complained ∪ overdue|;
    ``ratio`` = (dossiers − not_satisfied) ÷ dossiers (None without dossiers);
    ``response_rate`` = rated ÷ dossiers;
    ``unrated_counted_satisfied`` = dossiers nobody rated that are neither complained about nor
    overdue — the dossiers the official ratio counts as satisfied on no evidence.
    """

    group: dict[str, Any] = field(default_factory=dict)
    dossiers: int
    rated: int
    dissatisfied: int
    complained: int
    overdue: int
    not_satisfied: int
    unrated_counted_satisfied: int
    ratio: float | None
    response_rate: float | None

    @property
    def unrated_counted_satisfied_share(self) -> float | None:
        return _ratio(self.unrated_counted_satisfied, self.dossiers)


@dataclass(frozen=True, kw_only=True)
class ComplaintRatios:
    """Ratios 1 and 2 of Decision 766/QĐ-TTg for one group of PAKN (complaints and petitions).

    ``ratio_on_time`` = on_time ÷ complaints, where on time means closed no later than the due
    time (an open PAKN is not yet handled on time, so it lowers the ratio until it is closed);
    ``ratio_satisfaction`` = (complaints − |dissatisfied ∪ overdue|) ÷ complaints, where
    dissatisfied means the citizen rated the handling 1 or 2. Both None without PAKN.
    """

    group: dict[str, Any] = field(default_factory=dict)
    complaints: int
    closed: int
    on_time: int
    overdue: int
    rated: int
    dissatisfied: int
    not_satisfied: int
    ratio_on_time: float | None
    ratio_satisfaction: float | None


def _timestamps(values: Any, what: str) -> pd.DatetimeIndex:
    try:
        return pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    except (TypeError, ValueError) as error:
        raise AnalysisError(f"{what} must be date-times ({error})") from None


def overdue_mask(*, due_at: Any, returned_at: Any, cutoff: Any) -> np.ndarray:
    """Which dossiers (or PAKN) are overdue, by the rule of this module.

    overdue = (returned and returned_at > due_at) or (not returned and due_at < cutoff), with
    ``cutoff`` = min(end of the period, now) chosen by the caller. ``due_at`` and ``returned_at``
    are sequences of date-times (NaT/None for "none"); naive values are taken as UTC. A missing
    ``due_at`` is never overdue.
    """
    due = _timestamps(due_at, "due_at")
    returned = _timestamps(returned_at, "returned_at")
    if len(due) != len(returned):
        raise AnalysisError("due_at and returned_at must have one value per dossier")
    limit = pd.Timestamp(cutoff)
    limit = limit.tz_localize("UTC") if limit.tzinfo is None else limit.tz_convert("UTC")
    # Comparisons with NaT are false: no due time is never late, not returned is never "late".
    late = np.asarray(returned > due, dtype=bool)
    pending_late = np.asarray(returned.isna(), dtype=bool) & np.asarray(due < limit, dtype=bool)
    return np.asarray(late | pending_late, dtype=bool)


def _flags(values: Any, what: str, n: int | None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise AnalysisError(f"{what} must be one value per row")
    if n is not None and len(array) != n:
        raise AnalysisError(f"{what} must have one value per row ({len(array)} ≠ {n})")
    if array.dtype != bool:
        if array.dtype == object and any(v is None for v in array):
            raise AnalysisError(f"{what} must be true or false for every row (got a blank)")
        try:
            as_float = array.astype(float)
        except (TypeError, ValueError):
            raise AnalysisError(f"{what} must be true or false for every row") from None
        if np.isnan(as_float).any() or not np.isin(as_float, (0.0, 1.0)).all():
            raise AnalysisError(f"{what} must be true or false (1 or 0) for every row")
        array = as_float.astype(bool)
    return array


def dossier_ratio(
    *,
    rated: Any,
    dissatisfied: Any,
    complained: Any,
    overdue: Any,
    group: dict[str, Any] | None = None,
) -> DossierRatio:
    """Ratio 3 of Decision 766/QĐ-TTg (satisfaction with procedures) for one group of dossiers.

    One value per dossier in each argument (true/false). ratio = (N − |D ∪ C ∪ O|) ÷ N with N
    the dossiers, D those rated dissatisfied (overall 1 or 2), C those complained about, O the
    overdue ones (:func:`overdue_mask`); a dossier in several sets is counted once. A dissatisfied
    dossier must be a rated one.
    """
    r = _flags(rated, "rated", None)
    n = len(r)
    d = _flags(dissatisfied, "dissatisfied", n)
    c = _flags(complained, "complained", n)
    o = _flags(overdue, "overdue", n)
    if (d & ~r).any():
        raise AnalysisError("a dossier rated dissatisfied must be counted as rated")
    bad = d | c | o
    return DossierRatio(
        group=dict(group or {}),
        dossiers=n,
        rated=int(r.sum()),
        dissatisfied=int(d.sum()),
        complained=int(c.sum()),
        overdue=int(o.sum()),
        not_satisfied=int(bad.sum()),
        unrated_counted_satisfied=int((~r & ~c & ~o).sum()),
        ratio=_ratio(n - int(bad.sum()), n),
        response_rate=_ratio(int(r.sum()), n),
    )


def dossier_ratios(
    dossiers: pd.DataFrame,
    by: str,
    *,
    groups: Sequence[Any] | None = None,
) -> list[DossierRatio]:
    """:func:`dossier_ratio` for each value of column ``by`` of a table with one row per dossier
    and boolean columns ``rated``, ``dissatisfied``, ``complained``, ``overdue``.

    ``groups`` lists the groups to report, in that order, including those without dossiers (ratio
    None); by default the groups present, sorted.
    """
    needed = ["rated", "dissatisfied", "complained", "overdue", by]
    missing = [name for name in needed if name not in dossiers.columns]
    if missing:
        raise AnalysisError(f"the dossier table lacks the column(s) {', '.join(missing)}")
    order = list(groups) if groups is not None else sorted(dossiers[by].dropna().unique())
    parts = {key: part for key, part in dossiers.groupby(by, sort=False)}
    results = []
    for key in order:
        part = parts.get(key, dossiers.iloc[0:0])
        results.append(
            dossier_ratio(
                rated=part["rated"].to_numpy(dtype=bool),
                dissatisfied=part["dissatisfied"].to_numpy(dtype=bool),
                complained=part["complained"].to_numpy(dtype=bool),
                overdue=part["overdue"].to_numpy(dtype=bool),
                group={by: key},
            )
        )
    return results


def complaint_ratios(
    *,
    due_at: Any,
    closed_at: Any,
    handling_rating: Any,
    cutoff: Any,
    group: dict[str, Any] | None = None,
) -> ComplaintRatios:
    """Ratios 1 and 2 of Decision 766/QĐ-TTg for one group of PAKN (one value per PAKN).

    ``closed_at`` NaT while the PAKN is open; ``handling_rating`` the citizen's 1–5 rating of the
    handling, NaN when not rated. on time = closed and closed_at ≤ due_at (or closed without a due
    time); overdue by :func:`overdue_mask` with closing as "returned"; dissatisfied = rating 1 or 2.
    ratio_on_time = on_time ÷ N; ratio_satisfaction = (N − |dissatisfied ∪ overdue|) ÷ N.
    """
    due = _timestamps(due_at, "due_at")
    closed = _timestamps(closed_at, "closed_at")
    rating = np.asarray(handling_rating, dtype=float)
    n = len(due)
    if len(closed) != n or rating.shape != (n,):
        raise AnalysisError("due_at, closed_at and handling_rating must have one value per PAKN")
    valid = np.isnan(rating) | np.isin(rating, (1.0, 2.0, 3.0, 4.0, 5.0))
    if not valid.all():
        raise AnalysisError("a handling rating must be 1, 2, 3, 4 or 5")
    is_closed = ~np.asarray(closed.isna())
    on_time = is_closed & (np.asarray(due.isna()) | np.asarray(closed <= due, dtype=bool))
    late = overdue_mask(due_at=due, returned_at=closed, cutoff=cutoff)
    dissatisfied = ~np.isnan(rating) & (rating <= DISSATISFIED_AT_MOST)
    bad = dissatisfied | late
    return ComplaintRatios(
        group=dict(group or {}),
        complaints=n,
        closed=int(is_closed.sum()),
        on_time=int(on_time.sum()),
        overdue=int(late.sum()),
        rated=int((~np.isnan(rating)).sum()),
        dissatisfied=int(dissatisfied.sum()),
        not_satisfied=int(bad.sum()),
        ratio_on_time=_ratio(int(on_time.sum()), n),
        ratio_satisfaction=_ratio(n - int(bad.sum()), n),
    )


# --- the provinces' 9 criteria × 2 points ---------------------------------------------------

#: Bands of the 18-point grade several provinces' counter systems use (9 criteria × 0/1/2 points):
#: above 15 excellent, 12–15 good, 9–12 fair, 6–9 average, below 6 weak. A score on a shared
#: bound takes the higher band (12 is "good", 9 "fair", 6 "average"); 15 is "good".
GRADE_BANDS: tuple[tuple[str, float, bool, str, str], ...] = (
    ("excellent", 15.0, False, "Xuất sắc", "Excellent"),
    ("good", 12.0, True, "Tốt", "Good"),
    ("fair", 9.0, True, "Khá", "Fair"),
    ("average", 6.0, True, "Trung bình", "Average"),
    ("weak", -math.inf, True, "Yếu", "Weak"),
)
GRADE_MAXIMUM = 18.0


@dataclass(frozen=True, kw_only=True)
class CriteriaGrade:
    """A group's mean score on the 18-point scale (None without ratings) and its band."""

    group: dict[str, Any] = field(default_factory=dict)
    ratings: int
    score: float | None
    grade: str | None
    label_vi: str | None
    label_en: str | None


def item_points(values: Any) -> np.ndarray:
    """The 5-point answers as the 0/1/2 points of the 9-criteria grade: 1–2 → 0, 3 → 1, 4–5 → 2
    (NaN stays NaN: not applicable). This mapping is the platform's convention for provinces whose
    criteria are asked on the 5-face scale."""
    x = np.asarray(values, dtype=float)
    ok = np.isnan(x) | np.isin(x, (1.0, 2.0, 3.0, 4.0, 5.0))
    if not ok.all():
        raise AnalysisError("answers must be on the 1–5 scale")
    return np.where(np.isnan(x), np.nan, np.where(x >= 4, 2.0, np.where(x >= 3, 1.0, 0.0)))


def _band(score: float) -> tuple[str, str, str]:
    for key, bound, inclusive, vi, en in GRADE_BANDS:
        if score > bound or (inclusive and score == bound):
            return key, vi, en
    raise AssertionError("unreachable: the last band has no lower bound")


def criteria_grade(points: Any, *, group: dict[str, Any] | None = None) -> CriteriaGrade:
    """The province grade of one group: each rating's points (rows = ratings, columns = criteria,
    0/1/2, NaN for a criterion not answered) become a score out of 18 = 18 × Σ points ÷ (2 ×
    criteria answered) — exactly Σ points when all 9 criteria are answered — and the group's score
    is the mean over its ratings (ratings that answered no criterion are left out), banded by
    :data:`GRADE_BANDS`."""
    p = np.asarray(points, dtype=float)
    if p.ndim != 2:
        raise AnalysisError("points must be a table: one row per rating, one column per criterion")
    if not (np.isnan(p) | np.isin(p, (0.0, 1.0, 2.0))).all():
        raise AnalysisError("criterion points must be 0, 1 or 2")
    answered = (~np.isnan(p)).sum(axis=1)
    keep = answered > 0
    if not keep.any():
        return CriteriaGrade(
            group=dict(group or {}), ratings=0, score=None, grade=None, label_vi=None, label_en=None
        )
    scores = GRADE_MAXIMUM * np.nansum(p[keep], axis=1) / (2.0 * answered[keep])
    score = float(scores.mean())
    key, vi, en = _band(score)
    return CriteriaGrade(
        group=dict(group or {}),
        ratings=int(keep.sum()),
        score=score,
        grade=key,
        label_vi=vi,
        label_en=en,
    )


# --- shares from ratings (a clerk's, a group's), with an interval ----------------------------


@dataclass(frozen=True, kw_only=True)
class RatedShare:
    """Share of ratings that are satisfied (overall 4 or 5) with its Wilson interval.

    ``shown`` is False below the minimum number of ratings: then ``share`` and the interval are
    None and must not be published.
    """

    group: dict[str, Any] = field(default_factory=dict)
    ratings: int
    satisfied: int
    dissatisfied: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    shown: bool
    confidence_level: float = 0.95


def rated_share(
    overall: Any,
    *,
    min_n: int,
    confidence_level: float = 0.95,
    group: dict[str, Any] | None = None,
) -> RatedShare:
    """Share satisfied among the given overall answers (1–5; NaN = not answered, left out), with
    the Wilson score interval (Wilson 1927) treating the ratings as a simple random sample of the
    group's dossiers — an assumption: who rates is self-selected, so the interval describes chance
    variation only, not non-response bias. Below ``min_n`` ratings nothing is shown."""
    x = np.asarray(overall, dtype=float)
    x = x[~np.isnan(x)]
    if not np.isin(x, (1.0, 2.0, 3.0, 4.0, 5.0)).all():
        raise AnalysisError("overall answers must be on the 1–5 scale")
    n = len(x)
    satisfied = int((x >= 4).sum())
    dissatisfied = int((x <= DISSATISFIED_AT_MOST).sum())
    if n == 0 or n < min_n:
        return RatedShare(
            group=dict(group or {}),
            ratings=n,
            satisfied=satisfied,
            dissatisfied=dissatisfied,
            share=None,
            ci_low=None,
            ci_high=None,
            shown=False,
            confidence_level=confidence_level,
        )
    share = satisfied / n
    low, high = wilson_interval(
        np.array([share]), np.array([float(n)]), np.array([np.inf]), confidence_level
    )
    return RatedShare(
        group=dict(group or {}),
        ratings=n,
        satisfied=satisfied,
        dissatisfied=dissatisfied,
        share=share,
        ci_low=float(low[0]),
        ci_high=float(high[0]),
        shown=True,
        confidence_level=confidence_level,
    )


@dataclass(frozen=True, kw_only=True)
class ShareRank:
    """A shown share's rank among the shown shares (1 = highest) with a simultaneous interval for
    the rank; ``n_ranked`` is how many were ranked."""

    rank: int
    rank_low: int
    rank_high: int
    n_ranked: int
    confidence_level: float = 0.95

    @property
    def wide(self) -> bool:
        """The interval covers more than half of the table: the data cannot place the unit."""
        return (self.rank_high - self.rank_low + 1) > self.n_ranked / 2


def rank_rated_shares(
    shares: Sequence[RatedShare], *, confidence_level: float = 0.95
) -> list[ShareRank | None]:
    """Ranks of the shown shares (staff, desks) with simultaneous rank intervals, None for a share
    not shown (too few ratings) or when fewer than two are shown.

    The ratings of different units are independent samples, so the covariance of the shares is
    diagonal; each variance is binomial, p̃(1 − p̃)/n with p̃ = (satisfied + ½)/(n + 1) (the
    add-a-half correction, Agresti & Coull 1998), so that a unanimous unit is not treated as
    certain. The intervals are Mogstad, Romano, Shaikh & Wilhelm (2024) as in
    ``analysis.ranks.rank_intervals``: every unit's true rank lies in its interval at once with
    probability ≥ ``confidence_level`` (asymptotically)."""
    from analysis.ranks import rank_intervals

    shown = [i for i, share in enumerate(shares) if share.shown and share.share is not None]
    out: list[ShareRank | None] = [None] * len(shares)
    if len(shown) < 2:
        return out
    n = np.array([shares[i].ratings for i in shown], dtype=float)
    satisfied = np.array([shares[i].satisfied for i in shown], dtype=float)
    estimates = satisfied / n
    smoothed = (satisfied + 0.5) / (n + 1.0)
    cov = np.diag(smoothed * (1.0 - smoothed) / n)
    rank, low, high, _c = rank_intervals(estimates, cov, confidence_level=confidence_level)
    for j, i in enumerate(shown):
        out[i] = ShareRank(
            rank=int(rank[j]),
            rank_low=int(low[j]),
            rank_high=int(high[j]),
            n_ranked=len(shown),
            confidence_level=confidence_level,
        )
    return out


# --- the sentence that reconciles the official ratio with the survey estimate ----------------


def reconciliation_sentence(
    ratio: DossierRatio,
    *,
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    language: str = "en",
) -> str:
    """One sentence that puts the official ratio 3 beside the platform's weighted estimate and
    says how much of the official figure rests on dossiers nobody rated, e.g. "The official ratio
    (93.1%) counts as satisfied the 80.2% of dossiers that nobody rated and that were neither
    overdue nor complained about; the survey estimate is 71.4% (95% CI 66.0–76.2%), from ratings of
    18.0% of the dossiers." Vietnamese with a decimal comma and "KTC 95%"."""
    if language not in ("en", "vi"):
        raise AnalysisError(f"language must be 'en' or 'vi' (got {language!r})")
    vi = language == "vi"
    if ratio.dossiers == 0 or ratio.ratio is None:
        if vi:
            return (
                "Không có hồ sơ nào được tiếp nhận trong kỳ: chưa có tỷ lệ chính thức để đối chiếu."
            )
        return "No dossiers were received in this period: there is no official ratio to reconcile."

    def pct(x: float) -> str:
        return format_percent(x, language)

    official = pct(ratio.ratio)
    silent = pct(ratio.unrated_counted_satisfied_share or 0.0)
    rate = pct(ratio.response_rate or 0.0)
    if vi:
        head = (
            f"Tỷ lệ chính thức ({official}) tính là hài lòng {silent} số hồ sơ không ai đánh giá "
            "và không quá hạn, không bị phản ánh"
        )
    else:
        head = (
            f"The official ratio ({official}) counts as satisfied the {silent} of dossiers that "
            "nobody rated and that were neither overdue nor complained about"
        )
    if estimate is None:
        if vi:
            return head + f"; chưa đủ phiếu để ước lượng theo khảo sát (đánh giá: {rate} số hồ sơ)."
        return head + f"; there are too few responses for a survey estimate (ratings: {rate})."
    est = pct(estimate)
    if ci_low is None or ci_high is None:
        interval = ""
    else:
        lo = format_number(100 * ci_low, 1, language)
        hi = format_number(100 * ci_high, 1, language)
        interval = f" (KTC 95%: {lo}–{hi}%)" if vi else f" (95% CI {lo}–{hi}%)"
    if vi:
        return head + (
            f"; ước lượng có trọng số từ khảo sát là {est}{interval}, "
            f"với {rate} số hồ sơ được đánh giá."
        )
    return (
        head
        + f"; the weighted survey estimate is {est}{interval}, "
        + f"from ratings of {rate} of the dossiers."
    )
