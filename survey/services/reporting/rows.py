"""Row-level helpers for the few services that still read response rows (the Decision-766
figures of survey/services/dossiers/official.py): the same proration and volume imputation the
reports apply to their aggregates, through :mod:`analysis`."""

from __future__ import annotations

import pandas as pd

from analysis.aggregates import impute_volumes
from analysis.weights import prorate_volumes
from survey.services.periods import Period
from survey.services.reporting.present import volume_note


def prorate_to_period(table: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Each quarter's volume times the share of its days inside the period
    (:func:`analysis.weights.prorate_volumes`; whole quarters keep their volume)."""
    if table.empty:
        return table
    volume = prorate_volumes(table["volume"], table["period"], period.first, period.last)
    return table.assign(volume=volume)


def analysable(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Responses with a usable volume for the counter design, and a note on what had to be
    assumed: a stratum without a recorded service volume gets responses ÷ the median response
    rate of the strata that have one, and every volume is at least its stratum's responses
    (:func:`analysis.aggregates.impute_volumes`)."""
    if table.empty:
        return table, ""
    strata = table.groupby("stratum", sort=False).agg(
        responses=("response_id", "size"), volume=("volume", "first")
    )
    imputed = impute_volumes(strata["responses"].to_numpy(float), strata["volume"].to_numpy())
    volume = pd.Series(imputed.volume, index=strata.index)
    note = ""
    if imputed.response_rate is not None:
        missing = set(strata.index[imputed.imputed])
        points = table.loc[table["stratum"].isin(missing), "service_point"].nunique()
        note = volume_note(points, imputed.response_rate)
    return table.assign(volume=table["stratum"].map(volume).astype(float)), note
