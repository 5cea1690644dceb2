"""Dossier counts as service volumes: the weights' population sizes where none was entered.

A service point's volume for a month is what an official entered (``service_volume``); for a
month without one, the number of dossiers received there that month (cancelled ones included:
those citizens were served at the counter too) takes its place. Months with an entered volume keep
it, even when the dossier count differs.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from survey.storage import queries


def with_dossier_volumes(session: Session, volumes: pd.DataFrame) -> pd.DataFrame:
    """``volumes`` (service_point_id, month, volume) plus the dossier counts of the point-months it
    lacks."""
    counts = pd.DataFrame(
        [tuple(row) for row in queries.dossier_monthly_counts(session)],
        columns=["service_point_id", "month", "volume"],
    )
    if counts.empty:
        return volumes
    if volumes.empty:
        return counts
    entered = pd.MultiIndex.from_frame(volumes[["service_point_id", "month"]])
    keys = pd.MultiIndex.from_frame(counts[["service_point_id", "month"]])
    return pd.concat([volumes, counts[~keys.isin(entered)]], ignore_index=True)
