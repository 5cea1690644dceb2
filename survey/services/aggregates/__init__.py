"""Report figures computed from the database's aggregates (issue 14's foundations).

* ``overall`` — the share satisfied overall of a scope and period, whole and by sector, agency,
  service point or quarter, from one GROUP BY (:mod:`survey.storage.aggregates`) and the
  estimators on sufficient statistics (:mod:`analysis.aggregates`); equal to the row-level
  report's figures.
"""

from survey.services.aggregates.overall import (
    DOMAINS,
    OverallFigures,
    TimeBin,
    overall_figures,
    time_bins,
    whole_months,
)

__all__ = ["DOMAINS", "OverallFigures", "TimeBin", "overall_figures", "time_bins", "whole_months"]
