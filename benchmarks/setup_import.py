"""Setting up a realistic province from files (one command: ``python -m benchmarks.setup_import``).

A seeded province of 100 communes and wards with 10 service points each (1,000 points), 12 months
of volumes (12,000 rows) and 50,000 paper responses, written as CSV (and, with ``--xlsx``, the
responses as XLSX too), then imported through the same services as the command line and the web
pages, on SQLite (or ``--database-url`` for PostgreSQL). Measured in the same run:

* the baseline: the same 50,000 responses and their answers inserted with the bare bulk insert
  (``queries.bulk_insert_responses`` / ``bulk_insert_answers``: no file, no checks), into a fresh
  database, so the ratio is the price of reading and checking every cell;
* organisation, volumes and responses imports, and the responses file imported a second time
  (idempotent: nothing stored).

Goal: the whole set-up (organisation + volumes + responses) under 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from sqlalchemy.orm import Session

from survey import create_app
from survey.extensions import get_session
from survey.services.questionnaires import seed_questionnaires
from survey.services.setup.organisation import REQUIRED
from survey.services.setup.organisation import import_organisation as import_org
from survey.services.setup.paper import import_responses, template_columns
from survey.services.setup.questionnaires import questionnaire_by_reference
from survey.services.setup.volumes import import_volumes
from survey.storage import queries
from survey.storage.database import upgrade_database
from survey.storage.models import Base

T = TypeVar("T")

COMMUNES, POINTS_PER_COMMUNE, MONTHS, RESPONSES = 100, 10, 12, 50_000
YEAR = 2025


def organisation_csv() -> str:
    lines = [",".join(REQUIRED), "P,Tỉnh Thử Nghiệm,,administrative,province,2004-01-01,,,,"]
    for commune in range(COMMUNES):
        agency = f"P-X{commune:03d},Xã Số {commune},P,administrative,commune,2025-01-01"
        for point in range(POINTS_PER_COMMUNE):
            lines.append(f"{agency},,,SP{commune:03d}-{point},Bộ phận một cửa {point}")
    return "\n".join(lines) + "\n"


def point_codes() -> list[str]:
    return [f"SP{c:03d}-{p}" for c in range(COMMUNES) for p in range(POINTS_PER_COMMUNE)]


def volumes_csv(rng: np.random.Generator) -> str:
    lines = ["service_point_code,month,citizens_served"]
    for code in point_codes():
        for month in range(1, MONTHS + 1):
            lines.append(f"{code},{YEAR}-{month:02d},{int(rng.integers(300, 900))}")
    return "\n".join(lines) + "\n"


def responses_rows(rng: np.random.Generator, columns: list[str]) -> list[list[str]]:
    codes = point_codes()
    items = len(columns) - 3
    rows = []
    for _ in range(RESPONSES):
        month, day = int(rng.integers(1, MONTHS + 1)), int(rng.integers(1, 29))
        hour, minute = int(rng.integers(7, 17)), int(rng.integers(0, 60))
        values = [str(v) for v in rng.integers(1, 6, size=items)]
        rows.append(
            [
                codes[int(rng.integers(0, len(codes)))],
                f"{YEAR}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}",
                *values,
                "",
            ]
        )
    return rows


def as_csv(columns: list[str], rows: list[list[str]]) -> str:
    return "\n".join([",".join(columns), *(",".join(row) for row in rows)]) + "\n"


def as_xlsx(columns: list[str], rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def fresh_app(url: str | None, folder: Path, name: str):  # type: ignore[no-untyped-def]
    url = url or f"sqlite:///{folder / name}.sqlite3"
    if not url.startswith("sqlite"):
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    upgrade_database(url)
    return create_app({"TESTING": True, "DATABASE_URL": url})


def timed(label: str, action, results: dict[str, float]) -> object:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    outcome = action()
    results[label] = time.perf_counter() - start
    return outcome


def committed(session: Session, action: Callable[[], T]) -> Callable[[], T]:
    """An import as its command runs it: the import, then the one commit (services flush)."""

    def run() -> T:
        outcome = action()
        session.commit()
        return outcome

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL URL (emptied!); default SQLite")
    parser.add_argument("--xlsx", action="store_true", help="also import the responses as XLSX")
    args = parser.parse_args()
    rng = np.random.default_rng(2025)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "organisation.csv").write_text(organisation_csv(), encoding="utf-8")
        (folder / "volumes.csv").write_text(volumes_csv(rng), encoding="utf-8")

        app = fresh_app(args.database_url, folder, "setup")
        with app.app_context():
            session = get_session()
            seed_questionnaires(session)
            session.commit()
            questionnaire = questionnaire_by_reference(session, "administrative:1")
            columns = template_columns(questionnaire)
            rows = responses_rows(rng, columns)
            (folder / "responses.csv").write_text(as_csv(columns, rows), encoding="utf-8")
            organisation = committed(
                session, lambda: import_org(session, folder / "organisation.csv")
            )
            timed("organisation", organisation, seconds)
            timed(
                "volumes",
                committed(session, lambda: import_volumes(session, folder / "volumes.csv")),
                seconds,
            )
            responses = committed(
                session, lambda: import_responses(session, folder / "responses.csv", questionnaire)
            )
            report = timed("responses", responses, seconds)
            again = timed("responses again", responses, seconds)
            if args.xlsx:
                (folder / "responses.xlsx").write_bytes(as_xlsx(columns, rows))
                timed(
                    "responses xlsx again",
                    committed(
                        session,
                        lambda: import_responses(session, folder / "responses.xlsx", questionnaire),
                    ),
                    seconds,
                )
            stored = queries.count_responses(session)
        app.extensions["survey.engine"].dispose()

        baseline_app = fresh_app(args.database_url, folder, "baseline")
        with baseline_app.app_context():
            session = get_session()
            seed_questionnaires(session)
            import_org(session, folder / "organisation.csv")
            ids = queries.service_point_ids_by_code(session)
            q = questionnaire_by_reference(session, "administrative:1")
            item_ids = [item.id for item in q.items]
            vietnam = dt.timezone(dt.timedelta(hours=7))

            def bare_insert() -> None:
                responses = [
                    {
                        "idempotency_key": f"bare-{index:020d}",
                        "service_point_id": ids[row[0]],
                        "questionnaire_id": q.id,
                        "channel": "paper",
                        "language": "vi",
                        "submitted_at": dt.datetime.strptime(row[1], "%Y-%m-%d %H:%M").replace(
                            tzinfo=vietnam
                        ),
                        "comment": None,
                        "excluded": False,
                    }
                    for index, row in enumerate(rows)
                ]
                keys = queries.bulk_insert_responses(session, responses)
                queries.bulk_insert_answers(
                    session,
                    (
                        {
                            "response_id": keys[response["idempotency_key"]],
                            "item_id": item,
                            "value": int(value),
                        }
                        for response, row in zip(responses, rows, strict=True)
                        for item, value in zip(item_ids, row[2:-1], strict=True)
                    ),
                )
                session.commit()

            timed("baseline", bare_insert, seconds)
        baseline_app.extensions["survey.engine"].dispose()

    base = seconds["baseline"]
    total = seconds["organisation"] + seconds["volumes"] + seconds["responses"]
    engine = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{engine}: {COMMUNES} communes, {COMMUNES * POINTS_PER_COMMUNE} service points, ")
    print(f"{COMMUNES * POINTS_PER_COMMUNE * MONTHS} volumes, {RESPONSES} responses")
    print(f"baseline: bare bulk insert of the responses  {base:7.2f} s")
    for label in (
        "organisation",
        "volumes",
        "responses",
        "responses again",
        "responses xlsx again",
    ):
        if label in seconds:
            print(f"{label:<42} {seconds[label]:7.2f} s  ({seconds[label] / base:5.2f}× baseline)")
    print(f"whole set-up (organisation + volumes + responses) {total:7.2f} s  (goal < 60 s)")
    print(f"stored {stored} responses; second import added {again.added or 'nothing'}")  # type: ignore[attr-defined]
    assert report.added == {"response": RESPONSES}  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
