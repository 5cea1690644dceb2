"""The streamed responses export writes the very file the whole-table export wrote."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from survey.services.exports import (
    ExportOverrun,
    export_responses_file,
    responses_table,
    stream_responses_csv,
    write_responses_csv,
)
from survey.storage import export_stream, queries
from survey.storage.models import Answer, Dossier, Response, ServicePoint
from tests import factories
from tests.factories import SmallProvince

COMMENTS = (
    None,
    None,
    None,
    "Cán bộ tận tình, hướng dẫn rõ ràng.",
    '=HYPERLINK("http://example.invalid","bấm")',
    "  +cmd|' /C calc'!A0",
    "－ full-width minus",
    "@SUM(A1)",
    'a, b and "quoted"',
    "two\nlines",
    "tab\tinside",
    "",
)

# Instants on both sides of a quarter's end in Vietnam (17:00 UTC on 31 March is 1 April 00:00),
# with microseconds that the file cuts to the second.
EDGES = (
    dt.datetime(2025, 3, 31, 16, 59, 59, 999_999, tzinfo=dt.UTC),
    dt.datetime(2025, 3, 31, 17, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2024, 12, 31, 16, 59, 59, 500_000, tzinfo=dt.UTC),
    dt.datetime(2025, 9, 30, 17, 0, 0, 1, tzinfo=dt.UTC),
)


def _dossier(session: Session, point: ServicePoint, month: int, index: int) -> None:
    received = dt.datetime(2025, month, 10, 3, tzinfo=dt.UTC)
    session.add(
        Dossier(
            code=f"HS-{point.id}-{month}-{index}",
            service_point_id=point.id,
            procedure="Chứng thực bản sao",
            received_at=received,
            received_month=dt.date(2025, month, 1),
            status="received",
            status_changed_at=received,
            imported_at=received,
        )
    )


def _seed(session: Session, province: SmallProvince) -> None:
    """~400 responses over 2024Q4–2025Q4 at five points: entered volumes (some below the
    responses, so raised to them), dossier counts for the months without one, a point with no
    volume at all; answers "not applicable" or missing; excluded responses; risky comments."""
    rng = np.random.default_rng(14)
    for month, citizens in ((1, 100), (2, 50), (4, 3), (7, 900), (10, 41)):
        factories.volume(session, province.desk, dt.date(2025, month, 1), citizens)
    factories.volume(session, province.counter, dt.date(2025, 5, 1), 7)
    for month, dossiers in ((5, 4), (6, 2), (8, 3)):  # May has an entered volume: kept
        for index in range(dossiers):
            _dossier(session, province.counter, month, index)
    for month in (1, 11):
        _dossier(session, province.retired_desk, month, 0)
    session.flush()
    points = [
        province.desk,
        province.counter,
        province.school_office,
        province.retired_desk,
        province.closed_desk,
    ]
    questionnaires = {}
    for point in points:
        sector = point.agency.sector
        questionnaire = queries.active_questionnaire(session, sector)
        assert questionnaire is not None
        questionnaires[point.id] = questionnaire
    start = dt.datetime(2024, 12, 1, tzinfo=dt.UTC).timestamp()
    stop = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()
    for index in range(400):
        point = points[int(rng.integers(0, len(points)))]
        questionnaire = questionnaires[point.id]
        if index < len(EDGES):
            moment = EDGES[index]
        else:
            seconds = float(rng.uniform(start, stop))
            moment = dt.datetime.fromtimestamp(round(seconds, 6), tz=dt.UTC)
        response = Response(
            idempotency_key=f"stream-{index:05d}",
            service_point_id=point.id,
            questionnaire_id=questionnaire.id,
            channel=("qr", "kiosk", "paper", "import")[index % 4],
            submitted_at=moment,
            comment=COMMENTS[int(rng.integers(0, len(COMMENTS)))],
            excluded=bool(rng.random() < 0.06),
        )
        session.add(response)
        session.flush()
        if index % 37 == 5:
            continue  # a response without any answer row
        for item in questionnaire.items:
            if rng.random() < 0.08:
                continue  # no row for this item
            value: int | None = int(rng.integers(1, 6))
            if item.allows_not_applicable and rng.random() < 0.3:
                value = None
            session.add(Answer(response_id=response.id, item_id=item.id, value=value))
    session.commit()


def _old_file(session: Session, path: Path, **kwargs: object) -> bytes:
    write_responses_csv(responses_table(session, **kwargs), path)  # type: ignore[arg-type]
    return path.read_bytes()


@pytest.mark.parametrize(
    ("first_day", "last_day", "include_excluded"),
    [
        (None, None, False),
        (None, None, True),
        (dt.date(2025, 2, 15), dt.date(2025, 8, 10), False),
        (dt.date(2025, 4, 1), None, True),
        (None, dt.date(2025, 3, 31), False),
    ],
)
def test_streamed_file_is_the_whole_table_file_byte_for_byte(
    session: Session,
    seeded: SmallProvince,
    tmp_path: Path,
    first_day: dt.date | None,
    last_day: dt.date | None,
    include_excluded: bool,
):
    _seed(session, seeded)
    old = _old_file(
        session,
        tmp_path / "old.csv",
        first_day=first_day,
        last_day=last_day,
        include_excluded=include_excluded,
    )
    new_path = tmp_path / "new.csv"
    rows = stream_responses_csv(session, new_path, first_day, last_day, include_excluded)
    new = new_path.read_bytes()
    old_lines, new_lines = old.split(b"\n"), new.split(b"\n")
    assert rows > 20 and rows == len(
        responses_table(session, first_day, last_day, include_excluded)
    )
    for number, (was, now) in enumerate(zip(old_lines, new_lines, strict=True)):
        assert now == was, f"line {number}"
    assert new == old


def test_streamed_file_of_an_empty_database_is_the_header(
    session: Session, seeded: SmallProvince, tmp_path: Path
):
    old = _old_file(session, tmp_path / "old.csv")
    assert stream_responses_csv(session, tmp_path / "new.csv") == 0
    assert (tmp_path / "new.csv").read_bytes() == old
    assert old.startswith(b"\xef\xbb\xbfresponse_id,") and old.count(b"\n") == 1


def test_export_reports_progress_and_reads_in_batches(
    session: Session, seeded: SmallProvince, tmp_path: Path
):
    _seed(session, seeded)
    seen: list[tuple[int, int]] = []
    rows = export_responses_file(
        session,
        tmp_path / "x.csv",
        None,
        None,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen and seen[-1] == (rows, rows)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)

    codes = export_stream.item_ids_by_code(session)
    batches = list(
        export_stream.response_rows(session, None, None, [codes["overall"]], batch_rows=50)
    )
    assert len(batches) > 1 and all(len(batch) <= 50 for batch in batches)
    ids = [row[0] for batch in batches for row in batch]
    assert ids == sorted(ids) and len(ids) == rows
    for size in (1, rows - 1, rows, rows + 1):  # the first batch is read apart from the others
        sizes = [
            len(batch)
            for batch in export_stream.response_rows(
                session, None, None, [codes["overall"]], batch_rows=size
            )
        ]
        assert sum(sizes) == rows and max(sizes) <= size


def test_answers_spread_over_several_packed_integers_keep_their_columns(
    session: Session, seeded: SmallProvince, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _seed(session, seeded)
    old = _old_file(session, tmp_path / "old.csv")
    monkeypatch.setattr(export_stream, "PACKED_DIGITS", 4)  # 13 item columns: 4 + 4 + 4 + 1
    assert export_stream.packed_widths(13) == [4, 4, 4, 1]
    stream_responses_csv(session, tmp_path / "new.csv")
    assert (tmp_path / "new.csv").read_bytes() == old


def test_unpacked_answers_are_csv_cells_blank_for_not_applicable_and_missing():
    assert export_stream.unpack_answers(4056, 4) == "4,,5,"
    assert export_stream.unpack_answers(106, 5) == ",,1,,"
    assert export_stream.unpack_answers(None, 3) == ",,"
    assert export_stream.unpack_answers(5, 1) == "5"
    assert export_stream.packed_widths(18) == [18] and export_stream.packed_widths(19) == [18, 1]


def test_responses_arriving_between_count_and_rows_make_the_export_start_again(
    session: Session, seeded: SmallProvince, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _seed(session, seeded)
    old = _old_file(session, tmp_path / "old.csv")
    counted = export_stream.stratum_counts
    calls: list[int] = []

    def one_short(*args: object, **kwargs: object) -> dict[tuple[int, str], int]:
        """The first count misses a response, as if it were committed just after it."""
        counts = counted(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(1)
        if len(calls) == 1:
            stratum = next(iter(counts))
            counts[stratum] -= 1
        return counts

    monkeypatch.setattr(export_stream, "stratum_counts", one_short)
    stream_responses_csv(session, tmp_path / "new.csv")
    assert len(calls) == 2 and (tmp_path / "new.csv").read_bytes() == old

    def always_missing_a_stratum(*args: object, **kwargs: object) -> dict[tuple[int, str], int]:
        counts = counted(*args, **kwargs)  # type: ignore[arg-type]
        del counts[next(iter(counts))]
        return counts

    monkeypatch.setattr(export_stream, "stratum_counts", always_missing_a_stratum)
    with pytest.raises(ExportOverrun) as refused:
        stream_responses_csv(session, tmp_path / "new.csv")
    assert not (tmp_path / "new.csv").exists()
    assert "run it again" in refused.value.message_en and "chạy lại" in refused.value.message_vi
