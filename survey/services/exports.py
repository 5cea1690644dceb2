"""Responses as one tidy table, in the column layout the analysis engine reads.

Layout (as tests/analysis/reference/responses.csv, which the engine is checked against): one row per
response; ``stratum`` = service point × quarter, ``volume`` = citizens the point served in that
quarter, ``weight`` = volume / responses at that point in that quarter (design A); items as
``q_<code>`` columns on the 1–5 scale, blank for "not applicable". Periods are calendar quarters in
Vietnam time (UTC+7, no daylight saving).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from survey.services import audit, spreadsheets
from survey.services.dossiers.volumes import with_dossier_volumes
from survey.services.errors import DomainError
from survey.services.local_time import VIETNAM_TIME
from survey.services.spreadsheets import neutralise_text
from survey.storage import export_stream, queries

K = TypeVar("K")

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
    totals = _quarter_volumes(session)
    if totals is None:
        return pd.Series(pd.NA, index=table.index, dtype="Float64")
    keys = pd.MultiIndex.from_arrays([table["service_point_id"], table["period"]])
    return pd.Series(totals.reindex(keys).to_numpy(), index=table.index, dtype="Float64")


def _quarter_volumes(session: Session) -> pd.Series | None:
    """Service volume per (service point id, quarter label): entered volumes, and dossier counts
    for the months without one, summed over the quarter's months; None when there is none."""
    volumes = pd.DataFrame(
        [row._asdict() for row in queries.monthly_volumes(session)],
        columns=["service_point_id", "month", "volume"],
    )
    volumes = with_dossier_volumes(session, volumes)  # dossier counts where none was entered
    if volumes.empty:
        return None
    months = pd.to_datetime(volumes["month"])
    volumes["period"] = months.dt.year.astype(str) + "Q" + months.dt.quarter.astype(str)
    totals: pd.Series = volumes.groupby(["service_point_id", "period"])["volume"].sum()
    return totals


def write_responses_csv(table: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM so that Excel shows Vietnamese names correctly; blank for not applicable;
    text that would start a spreadsheet formula neutralised (survey/services/spreadsheets.py)."""
    spreadsheets.write_csv(table, path)


def export_responses_file(
    session: Session,
    path: Path,
    first_day: dt.date | None,
    last_day: dt.date | None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the responses of the days as ``write_responses_csv`` writes ``responses_table``
    (the same bytes), streamed (:func:`stream_responses_csv`); note the file in the audit log
    (``export.written``, by the command line); returns the number of rows."""
    rows = stream_responses_csv(session, path, first_day, last_day, progress=progress)
    audit.record(
        session,
        None,
        "export.written",
        f"file:{path.name}",
        {"from": first_day, "to": last_day, "rows": rows},
    )
    session.flush()
    return rows


class ExportOverrun(DomainError):
    """Responses kept arriving (or being excluded) while the export read them, every time."""

    message_vi = (
        "Phiếu khảo sát liên tục được thêm hoặc loại trong lúc xuất dữ liệu; "
        "vui lòng chạy lại lệnh sau ít phút."
    )
    message_en = (
        "Responses kept being added or excluded while the export ran; "
        "please run it again in a few minutes."
    )


#: Attempts of :func:`stream_responses_csv` before it gives up with ExportOverrun.
ATTEMPTS = 3
#: Answer patterns (packed answers → CSV cells) remembered while writing, at most.
ANSWER_PATTERNS = 100_000


def stream_responses_csv(
    session: Session,
    path: Path,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    include_excluded: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """``write_responses_csv(responses_table(...), path)`` in constant memory: returns the rows.

    The weights' denominators (responses per point and quarter) and volumes are read first (a
    GROUP BY and the monthly volumes); the responses then arrive in id order with their answers
    pivoted (survey/storage/export_stream.py) and are written batch by batch, as pandas'
    ``to_csv`` writes: the csv module's ``,`` and minimal quoting, ``\\n``, UTF-8 with BOM, None
    blank, floats as ``repr``; text cells neutralised as spreadsheets.neutralise_text does.
    ``progress(rows written, rows in all)`` is called after each batch.

    The counts and the rows are two statements: should a response arrive or be excluded between
    them (a different number of rows in a stratum than counted), the file is written again, up to
    :data:`ATTEMPTS` times, then ``ExportOverrun`` (and no file).
    """
    start = local_day_start(first_day) if first_day else None
    end = local_day_start(last_day + dt.timedelta(days=1)) if last_day else None
    for _ in range(ATTEMPTS):
        rows = _write_responses(session, path, start, end, include_excluded, progress)
        if rows is not None:
            return rows
    path.unlink(missing_ok=True)  # not a file with some of the responses
    raise ExportOverrun()


def _write_responses(
    session: Session,
    path: Path,
    start: dt.datetime | None,
    end: dt.datetime | None,
    include_excluded: bool,
    progress: Callable[[int, int], None] | None,
) -> int | None:
    """One attempt of :func:`stream_responses_csv`: the rows written, or None if the responses
    read are not those counted."""
    columns = item_columns(session)
    ids_by_code = export_stream.item_ids_by_code(session)
    item_ids = [ids_by_code.get(column.removeprefix("q_"), []) for column in columns]
    counts = export_stream.stratum_counts(session, start, end, include_excluded)
    total = sum(counts.values())
    strata = _strata_cells(session, counts)
    seen = dict.fromkeys(counts, 0)
    agency_names = {row[0]: row[3] for row in export_stream.point_labels(session)}
    questionnaires = {row[0]: row[1:] for row in export_stream.questionnaire_labels(session)}
    labels = _RenderedCells[tuple[int, int]](
        lambda key: _csv_cells([neutralise_text(agency_names[key[0]]), *questionnaires[key[1]]])
    )
    channels = _RenderedCells[str](lambda channel: _csv_cells([neutralise_text(channel)]))
    widths = export_stream.packed_widths(len(columns))
    single, width = len(widths) == 1, widths[0]
    unpack = export_stream.unpack_answers
    answer_cells: dict[int | None, str] = {}  # answer patterns repeat: ~17,000 in 200,000
    written = 0
    with (
        path.open("w", encoding="utf-8", newline="") as handle,
        closing(
            export_stream.response_rows(session, start, end, item_ids, include_excluded)
        ) as batches,
    ):
        handle.write("\ufeff")  # the BOM of pandas' "utf-8-sig"
        handle.write(
            _csv_cells([neutralise_text(c) for c in [*LEADING_COLUMNS, *columns, "comment"]])
        )
        handle.write("\n")
        for batch in batches:
            lines = []
            for row in batch:
                response_id, point_id, questionnaire_id, channel, period, clock, comment = row[:7]
                stratum = (point_id, period)
                if stratum not in seen:
                    return None  # a response in a stratum that had none when counted
                seen[stratum] += 1
                if single:  # up to PACKED_DIGITS item columns: one packed integer
                    answers = answer_cells.get(row[7])
                    if answers is None:
                        answers = unpack(row[7], width)
                        if len(answer_cells) < ANSWER_PATTERNS:
                            answer_cells[row[7]] = answers
                else:
                    answers = ",".join([unpack(p, w) for p, w in zip(row[7:], widths, strict=True)])
                # Numbers, answers ("4,5,,3") and the wall-clock time (digits, "-", "T", ":", "+")
                # never need quoting nor neutralising; text goes through the csv module.
                lines.append(
                    f"{response_id},{strata[stratum]},{channels[channel]},{clock},"
                    f"{labels[point_id, questionnaire_id]},{answers},"
                    f"{'' if comment is None else _csv_cells([neutralise_text(comment)])}\n"
                )
            handle.write("".join(lines))
            written += len(lines)
            if progress is not None:
                progress(written, total)
    return written if seen == counts else None


class _RenderedCells(dict[K, str]):
    """CSV text of a few cells, rendered the first time its key is asked for."""

    def __init__(self, render: Callable[[K], str]) -> None:
        super().__init__()
        self._render = render

    def __missing__(self, key: K) -> str:
        text = self[key] = self._render(key)
        return text


def _csv_cells(cells: list[object]) -> str:
    """Cells as pandas' ``to_csv`` writes them on a line (the csv module, ``,``, minimal
    quoting, None blank, floats as ``repr``), without the line's end; neutralise text first."""
    buffer = io.StringIO()
    # A lone empty cell would be written as "" (quoted): one more cell, cut off after.
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow([*cells, ""])
    return buffer.getvalue()[:-2]


def _strata_cells(
    session: Session, counts: dict[tuple[int, str], int]
) -> dict[tuple[int, str], str]:
    """The sector, agency level, agency, service point, stratum, volume, weight and period cells
    (CSV text) of each (point id, quarter) with responses: the volume summed over the quarter's
    months and raised to the responses if lower, the weight volume / responses; blank without a
    volume."""
    totals = _quarter_volumes(session)
    volumes = {} if totals is None else totals.to_dict()
    points = {row[0]: row[1:] for row in export_stream.point_labels(session)}
    cells: dict[tuple[int, str], str] = {}
    for (point_id, period), responses in counts.items():
        public_code, agency, _name, level, sector = points[point_id]
        total = volumes.get((point_id, period))
        volume = None if total is None or pd.isna(total) else max(int(total), responses)
        weight = None if volume is None else float(volume) / responses
        text = [sector, level, agency, public_code, f"{public_code}|{period}"]
        cells[point_id, period] = _csv_cells(
            [*map(neutralise_text, text), volume, weight, neutralise_text(period)]
        )
    return cells
