"""Responses as one tidy table, in the column layout the analysis engine reads.

Layout (as tests/analysis/reference/responses.csv, which the engine is checked against): one row per
response; ``stratum`` = service point × quarter, ``volume`` = citizens the point served in that
quarter, ``weight`` = volume / responses at that point in that quarter (design A); items as
``q_<code>`` columns on the 1–5 scale, blank for "not applicable". Periods are calendar quarters in
Vietnam time (UTC+7, no daylight saving).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from survey.services import audit, spreadsheets
from survey.services.dossiers.volumes import with_dossier_volumes
from survey.services.local_time import VIETNAM_TIME
from survey.storage import queries

LEADING_COLUMNS = [
    "response_id",
    "sector",
    "agency_level",
    "agency",
    "service_point",
    "stratum",
    "volume",
    "weight",
    "period",
    "channel",
    "submitted_at",
    "agency_name",
    "questionnaire",
    "questionnaire_version",
]


def local_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=VIETNAM_TIME)


def quarter_label(moment: pd.Series) -> pd.Series:
    return moment.dt.year.astype(str) + "Q" + moment.dt.quarter.astype(str)


def item_columns(session: Session) -> list[str]:
    """``q_<code>`` for every item of every published questionnaire (drafts are not answered),
    overall last."""
    codes: list[str] = []
    for questionnaire in queries.all_questionnaires(session):
        if questionnaire.state == "draft":
            continue
        for item in questionnaire.items:
            if not item.is_overall and item.code not in codes:
                codes.append(item.code)
    return [f"q_{code}" for code in codes] + ["q_overall"]


def responses_table(
    session: Session,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    include_excluded: bool = False,
) -> pd.DataFrame:
    """Every response submitted between two local days (inclusive), one row each.

    Responses an administrator excluded by a logged decision (survey/services/integrity.py) are
    left out unless ``include_excluded``; flagged but undecided responses are included.
    """
    start = local_day_start(first_day) if first_day else None
    end = local_day_start(last_day + dt.timedelta(days=1)) if last_day else None
    columns = item_columns(session)
    rows = queries.responses_for_export(session, start, end, include_excluded)
    if not rows:
        return pd.DataFrame(columns=[*LEADING_COLUMNS, *columns, "comment"])
    # Plain tuples: pandas probes every Row object's attributes, which is slow on 10⁴–10⁵ rows.
    table = pd.DataFrame.from_records([tuple(row) for row in rows], columns=list(rows[0]._fields))
    local_time = pd.to_datetime(table["submitted_at"], utc=True).dt.tz_convert(VIETNAM_TIME)
    table["period"] = quarter_label(local_time)
    # Vietnam time has no daylight saving, so the offset is always +0700.
    wall_clock = local_time.dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
    table["submitted_at"] = np.char.add(np.datetime_as_string(wall_clock, unit="s"), "+0700")
    table["volume"] = _period_volumes(session, table)
    responses_in_stratum = table.groupby(["service_point_id", "period"])["id"].transform("size")
    table["volume"] = table["volume"].where(
        table["volume"].isna(), table["volume"].clip(lower=responses_in_stratum)
    )
    table["weight"] = table["volume"] / responses_in_stratum

    answers = pd.DataFrame.from_records(
        [tuple(row) for row in queries.answers_for_export(session, start, end, include_excluded)],
        columns=["response_id", "code", "value"],
    )
    wide = answers.pivot(index="response_id", columns="code", values="value")
    wide.columns = [f"q_{code}" for code in wide.columns]
    table = table.join(wide, on="id")
    for column in columns:
        if column not in table:
            table[column] = pd.NA
        table[column] = table[column].astype("Int64")

    table = table.rename(
        columns={
            "id": "response_id",
            "level": "agency_level",
            "agency_code": "agency",
            "public_code": "service_point",
        }
    )
    table["stratum"] = table["service_point"] + "|" + table["period"]
    table["volume"] = table["volume"].astype("Int64")
    return table[[*LEADING_COLUMNS, *columns, "comment"]]


def _period_volumes(session: Session, table: pd.DataFrame) -> pd.Series:
    """The point's service volume summed over the months of each row's quarter."""
    volumes = pd.DataFrame(
        [row._asdict() for row in queries.monthly_volumes(session)],
        columns=["service_point_id", "month", "volume"],
    )
    volumes = with_dossier_volumes(session, volumes)  # dossier counts where none was entered
    if volumes.empty:
        return pd.Series(pd.NA, index=table.index, dtype="Float64")
    months = pd.to_datetime(volumes["month"])
    volumes["period"] = months.dt.year.astype(str) + "Q" + months.dt.quarter.astype(str)
    totals = volumes.groupby(["service_point_id", "period"])["volume"].sum()
    keys = pd.MultiIndex.from_arrays([table["service_point_id"], table["period"]])
    return pd.Series(totals.reindex(keys).to_numpy(), index=table.index, dtype="Float64")


def write_responses_csv(table: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM so that Excel shows Vietnamese names correctly; blank for not applicable;
    text that would start a spreadsheet formula neutralised (survey/services/spreadsheets.py)."""
    spreadsheets.write_csv(table, path)


def export_responses_file(
    session: Session, path: Path, first_day: dt.date | None, last_day: dt.date | None
) -> int:
    """Write the responses of the days as ``write_responses_csv`` does, note the file in the
    audit log (``export.written``, by the command line); returns the number of rows."""
    table = responses_table(session, first_day, last_day)
    write_responses_csv(table, path)
    audit.record(
        session,
        None,
        "export.written",
        f"file:{path.name}",
        {"from": first_day, "to": last_day, "rows": len(table)},
    )
    session.flush()
    return len(table)
