"""The official figures of Decision 766/QĐ-TTg beside the survey's weighted estimate, per agency.

For each agency and period (a range of days, Vietnam time):

* its **dossiers** are those received at its service points in the period (a dossier belongs to
  the period in which it was received); cancelled dossiers are outside the ratios. A dossier is
  *rated* when it has its one rating, *dissatisfied* when that rating's overall answer is 1 or 2,
  *complained about* when a complaint case names it, *overdue* by the rule of
  ``analysis.official.overdue_mask`` with the cutoff = the end of the period or now, whichever is
  earlier;
* its **complaints** (every case, whatever opened it) are those opened in the period;
* the ratios are computed by ``analysis.official`` (the formulas live there, once);
* the **weighted estimate** is the survey's share satisfied with the overall item over all the
  agency's responses submitted in the period (QR, kiosk, dossier links…), design A with the
  service volumes as on the dashboards (``survey.services.reporting``), with its 95% interval;
* the **response rate** is rated dossiers ÷ dossiers; one sentence (vi/en) reconciles the
  official ratio with the estimate.

Agencies are reported as they are (an agency's own service points, not its sub-units), and only
those with a dossier or a complaint in the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from analysis import counter_design, estimate_proportion
from analysis.official import (
    ComplaintRatios,
    CriteriaGrade,
    DossierRatio,
    complaint_ratios,
    criteria_grade,
    dossier_ratios,
    item_points,
    overdue_mask,
    reconciliation_sentence,
)
from analysis.results import Estimate
from survey.services.exports import local_day_start, responses_table
from survey.services.periods import custom_period, ensure_supported
from survey.services.reporting import OVERALL, analysable, prorate_to_period
from survey.storage import queries
from survey.storage.models import utc_now

CSV_COLUMNS = (
    "agency_code",
    "dossiers",
    "rated",
    "dissatisfied",
    "complained",
    "overdue",
    "ratio_766_dossiers",
    "complaints",
    "complaints_on_time",
    "ratio_766_complaints_on_time",
    "ratio_766_complaint_satisfaction",
    "weighted_share_satisfied",
    "ci_low",
    "ci_high",
    "response_rate",
)
DECIMALS = 4


@dataclass(frozen=True, kw_only=True)
class AgencyScores:
    agency_code: str
    name_vi: str
    name_en: str
    dossiers: DossierRatio
    complaints: ComplaintRatios
    estimate: Estimate | None
    grade: CriteriaGrade | None

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en

    def sentence(self, language: str) -> str:
        e = self.estimate
        shown = e is not None and e.status != "insufficient_data" and e.estimate is not None
        return reconciliation_sentence(
            self.dossiers,
            estimate=e.estimate if shown and e else None,
            ci_low=e.ci_low if shown and e else None,
            ci_high=e.ci_high if shown and e else None,
            language=language,
        )


@dataclass(frozen=True, kw_only=True)
class OfficialScores:
    first: dt.date
    last: dt.date
    cutoff: dt.datetime
    agencies: tuple[AgencyScores, ...]
    min_n: int

    def table(self) -> pd.DataFrame:
        """One row per agency in the columns of ``CSV_COLUMNS`` (ratios rounded; blank = none)."""

        def r(value: float | None) -> float | None:
            return None if value is None else round(float(value), DECIMALS)

        rows = []
        for a in self.agencies:
            e = a.estimate
            shown = e is not None and e.status != "insufficient_data"
            rows.append(
                {
                    "agency_code": a.agency_code,
                    "dossiers": a.dossiers.dossiers,
                    "rated": a.dossiers.rated,
                    "dissatisfied": a.dossiers.dissatisfied,
                    "complained": a.dossiers.complained,
                    "overdue": a.dossiers.overdue,
                    "ratio_766_dossiers": r(a.dossiers.ratio),
                    "complaints": a.complaints.complaints,
                    "complaints_on_time": a.complaints.on_time,
                    "ratio_766_complaints_on_time": r(a.complaints.ratio_on_time),
                    "ratio_766_complaint_satisfaction": r(a.complaints.ratio_satisfaction),
                    "weighted_share_satisfied": r(e.estimate) if shown and e else None,
                    "ci_low": r(e.ci_low) if shown and e else None,
                    "ci_high": r(e.ci_high) if shown and e else None,
                    "response_rate": r(a.dossiers.response_rate),
                }
            )
        return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


def official_scores(
    session: Session,
    first: dt.date,
    last: dt.date,
    *,
    visible_agency_ids: frozenset[int] | None = None,
    min_n: int = 30,
    with_grade: bool = False,
    now: dt.datetime | None = None,
) -> OfficialScores:
    """The 766 ratios, the weighted estimate and the response rate of every agency (within
    ``visible_agency_ids`` when given) that had a dossier or a complaint between two days."""
    period = ensure_supported(custom_period(first, last))
    start, end = local_day_start(first), local_day_start(last + dt.timedelta(days=1))
    cutoff = min(end, now or utc_now())
    agencies = {a.code: a for a in queries.all_agencies(session)}
    allowed = None
    if visible_agency_ids is not None:
        allowed = {a.code for a in agencies.values() if a.id in visible_agency_ids}

    dossiers = pd.DataFrame.from_records(
        [tuple(row) for row in queries.dossiers_received_between(session, start, end)],
        columns=["agency", "status", "due_at", "returned_at", "overall", "complained"],
    )
    complaints = pd.DataFrame.from_records(
        [tuple(row) for row in queries.complaints_opened_between(session, start, end)],
        columns=["agency", "due_at", "closed_at", "handling_rating"],
    )
    if allowed is not None:
        dossiers = dossiers[dossiers["agency"].isin(allowed)]
        complaints = complaints[complaints["agency"].isin(allowed)]
    codes = sorted(set(dossiers["agency"]) | set(complaints["agency"]))

    dossiers = dossiers[dossiers["status"] != "cancelled"]
    overall = pd.to_numeric(dossiers["overall"], errors="coerce").to_numpy(dtype=float)
    flags = pd.DataFrame(
        {
            "agency": dossiers["agency"].to_numpy(),
            "rated": ~np.isnan(overall),
            "dissatisfied": ~np.isnan(overall) & (overall <= 2),
            "complained": dossiers["complained"].astype(bool).to_numpy(),
            "overdue": overdue_mask(
                due_at=dossiers["due_at"].to_numpy(),
                returned_at=dossiers["returned_at"].to_numpy(),
                cutoff=cutoff,
            ),
        }
    )
    ratios = {r.group["agency"]: r for r in dossier_ratios(flags, "agency", groups=codes)}
    by_agency = dict(tuple(complaints.groupby("agency"))) if len(complaints) else {}
    empty = complaints.iloc[0:0]
    estimates, grades = _survey(session, period, codes, min_n, with_grade)
    rows = []
    for code in codes:
        part = by_agency.get(code, empty)
        agency = agencies[code]
        rows.append(
            AgencyScores(
                agency_code=code,
                name_vi=agency.name_vi,
                name_en=agency.name_en,
                dossiers=ratios[code],
                complaints=complaint_ratios(
                    due_at=part["due_at"].tolist(),
                    closed_at=part["closed_at"].tolist(),
                    handling_rating=pd.to_numeric(part["handling_rating"], errors="coerce")
                    .astype(float)
                    .to_numpy(),
                    cutoff=cutoff,
                    group={"agency": code},
                ),
                estimate=estimates.get(code),
                grade=grades.get(code),
            )
        )
    return OfficialScores(first=first, last=last, cutoff=cutoff, agencies=tuple(rows), min_n=min_n)


def _survey(
    session: Session, period: object, codes: list[str], min_n: int, with_grade: bool
) -> tuple[dict[str, Estimate], dict[str, CriteriaGrade]]:
    """Each agency's weighted share satisfied (design A, as on its dashboard but for its own
    service points) and, when asked, its 9-criteria grade from the items other than overall."""
    estimates: dict[str, Estimate] = {}
    grades: dict[str, CriteriaGrade] = {}
    if not codes:
        return estimates, grades
    table = responses_table(session, period.first, period.last)  # type: ignore[attr-defined]
    table = table[table["agency"].isin(codes)]
    for code, rows in table.groupby("agency"):
        current, _note = analysable(prorate_to_period(rows, period))  # type: ignore[arg-type]
        design = counter_design(current, strata="stratum", volume="volume")
        whole, *_ = estimate_proportion(current, OVERALL, design, None, min_n=min_n)
        estimates[str(code)] = whole
        if with_grade:
            items = [c for c in current.columns if c.startswith("q_") and c != OVERALL]
            answers = current[items].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            grades[str(code)] = criteria_grade(item_points(answers), group={"agency": code})
    return estimates, grades
