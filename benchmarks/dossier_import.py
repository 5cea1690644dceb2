"""Importing a year of a province's dossiers (one command: ``python -m benchmarks.dossier_import``).

Generates a seeded one-stop export of ``--rows`` dossiers (default 2,000,000: a year of a large
province, 300 service points, 1,000 clerks, both code formats across 25 January 2026) and measures,
each as a child process on the same database (wall time and peak memory, ``benchmarks/measure.py``):

1. **baseline** — a plain bulk insert of the same rows into the ``dossier`` table: CSV read,
   service point looked up, times parsed, rows inserted in batches in one transaction, no checks;
2. **import** — ``flask import-dossiers`` (``survey.services.dossiers.importing``) into the same
   empty table: every row checked, staged, compared and stored, all or nothing;
3. **re-import** — the same file again (idempotent: nothing changes);
4. **progress** — a later export of the same dossiers where a tenth changed status (each change
   audited).

Prints one line per phase and the import's time as a multiple of the baseline's. Goals: minutes,
not hours, for 2 million rows; bounded memory (peak RSS does not grow with the file: compare
``--rows 200000``). ``--database postgresql+psycopg://…`` runs on PostgreSQL (its tables are
emptied between phases).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

VN = dt.timezone(dt.timedelta(hours=7))
POINTS = 300
CLERKS = 1000
LAST_DAY = dt.date(2026, 11, 28)
CUTOVER = dt.date(2026, 1, 25)
HEADER = [
    "dossier_code",
    "service_point_code",
    "procedure",
    "received_at",
    "due_at",
    "returned_at",
    "status",
    "clerk_id",
]
PROCEDURES = [
    "Đăng ký khai sinh",
    "Chứng thực bản sao từ bản chính",
    "Cấp bản sao trích lục hộ tịch",
    "Đăng ký kết hôn",
    "Cấp giấy chứng nhận quyền sử dụng đất",
    "Đăng ký thường trú",
]


def _point_code(index: int) -> str:
    return f"BENCH{index:04d}"


def generate(path: Path, rows: int, changed: Path, seed: int = 2026) -> None:
    """The export, and a later export of the same dossiers where a tenth changed status."""
    rng = random.Random(seed)
    sequences: dict[tuple[int, dt.date], int] = {}
    with (
        path.open("w", newline="", encoding="utf-8") as out,
        changed.open("w", newline="", encoding="utf-8") as later,
    ):
        first, second = csv.writer(out), csv.writer(later)
        first.writerow(HEADER)
        second.writerow(HEADER)
        for _ in range(rows):
            point = rng.randrange(POINTS)
            day = LAST_DAY - dt.timedelta(days=rng.randrange(365))
            number = sequences[(point, day)] = sequences.get((point, day), 0) + 1
            stamp = day.strftime("%y%m%d")
            if day >= CUTOVER:
                code = f"H40.{point // 100:03d}.{point % 100:02d}-{stamp}-01{number:04d}"
            else:
                code = f"000.{point // 100:02d}.{point % 100:02d}.H40-{stamp}-{number:04d}"
            received = dt.datetime.combine(day, dt.time(7, 30), tzinfo=VN) + dt.timedelta(
                minutes=rng.randrange(570)
            )
            due = received + dt.timedelta(days=rng.randrange(3, 16))
            returned = received + dt.timedelta(days=rng.randrange(1, 20), hours=2)
            roll = rng.random()
            if roll < 0.05:
                status, returned_text = "cancelled", ""
            elif roll < 0.10:
                status, returned_text = "đã tiếp nhận", ""
            elif roll < 0.20 or returned.date() >= LAST_DAY:
                status, returned_text = "đang xử lý", ""
            else:
                status, returned_text = "đã trả kết quả", returned.isoformat(timespec="minutes")
            row = [
                code,
                _point_code(point),
                PROCEDURES[rng.randrange(len(PROCEDURES))],
                received.isoformat(timespec="minutes"),
                due.isoformat(timespec="minutes"),
                returned_text,
                status,
                f"CB{rng.randrange(CLERKS):05d}",
            ]
            first.writerow(row)
            if status == "đang xử lý" and rng.random() < 0.5 and returned.date() < LAST_DAY:
                row[5], row[6] = returned.isoformat(timespec="minutes"), "returned"
            second.writerow(row)


def prepare(url: str) -> None:
    """Schema and a province of POINTS service points (not timed)."""
    from survey.storage.database import make_engine, make_session_factory, upgrade_database
    from survey.storage.models import Agency, ServicePoint

    upgrade_database(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    province = Agency(
        code="BENCH",
        name_vi="Tỉnh",
        name_en="Province",
        sector="administrative",
        level="province",
        valid_from=dt.date(2020, 1, 1),
    )
    session.add(province)
    for index in range(POINTS):
        if index % 10 == 0:
            agency = Agency(
                code=f"BENCH-{index // 10:02d}",
                name_vi=f"Xã {index // 10}",
                name_en=f"Commune {index // 10}",
                sector="administrative",
                level="commune",
                parent=province,
                valid_from=dt.date(2020, 1, 1),
            )
        session.add(
            ServicePoint(
                agency=agency,
                public_code=_point_code(index),
                name_vi="Bộ phận một cửa",
                name_en="One-stop desk",
            )
        )
    session.commit()
    session.close()
    engine.dispose()  # the last connection closed: SQLite folds its write-ahead log into the file


def empty_dossiers(url: str) -> None:
    from sqlalchemy import text

    from survey.storage.database import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        for table in ("dossier", "staff"):
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 — table names are constants
    engine.dispose()


def baseline(url: str, path: Path) -> None:
    """The same rows inserted with no checks: the least any import must do."""
    from sqlalchemy import insert, select

    from survey.storage.database import make_engine
    from survey.storage.models import Dossier, ServicePoint

    engine = make_engine(url)
    with engine.begin() as connection:
        points = dict(connection.execute(select(ServicePoint.public_code, ServicePoint.id)).all())
        now = dt.datetime.now(dt.UTC)
        batch: list[dict[str, Any]] = []
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            next(reader)
            for code, point, procedure, received, due, returned, _status, _clerk in reader:
                moment = dt.datetime.fromisoformat(received)
                batch.append(
                    {
                        "code": code,
                        "service_point_id": points[point],
                        "procedure": procedure,
                        "received_at": moment,
                        "received_month": moment.date().replace(day=1),
                        "due_at": dt.datetime.fromisoformat(due) if due else None,
                        "returned_at": dt.datetime.fromisoformat(returned) if returned else None,
                        "status": "returned" if returned else "processing",
                        "status_changed_at": now,
                        "imported_at": now,
                    }
                )
                if len(batch) == 5000:
                    connection.execute(insert(Dossier), batch)
                    batch = []
            if batch:
                connection.execute(insert(Dossier), batch)
    engine.dispose()


def run_import(url: str, path: Path) -> None:
    from survey import create_app
    from survey.extensions import get_session
    from survey.services.dossiers.importing import import_dossiers

    app = create_app({"TESTING": True, "DATABASE_URL": url})
    with app.app_context():
        session = get_session()
        report = import_dossiers(session, path)
        session.commit()  # as the import-dossiers command does: services flush, the caller commits
    print(report.summary("en"), file=sys.stderr)


def _child(phase: str, url: str, path: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.measure",
        sys.executable,
        "-m",
        "benchmarks.dossier_import",
        "--phase",
        phase,
        "--database",
        url,
        "--file",
        str(path),
    ]
    result: dict[str, Any] = json.loads(subprocess.check_output(command, text=True))
    if result["returncode"] != 0:
        raise SystemExit(f"{phase} failed: {result['stderr']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--database", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "baseline":
        baseline(args.database, args.file)
        return
    if args.phase == "import":
        run_import(args.database, args.file)
        return
    rows = 100_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        baseline_url = url
        export, later = Path(folder) / "dossiers.csv", Path(folder) / "dossiers-later.csv"
        print(f"Generating {rows:,} dossiers …", file=sys.stderr)
        generate(export, rows, later)
        prepare(url)
        if not args.database:  # the baseline gets its own copy of the empty database
            shutil.copy(Path(folder) / "bench.sqlite3", Path(folder) / "baseline.sqlite3")
            baseline_url = f"sqlite:///{Path(folder) / 'baseline.sqlite3'}"
        size = export.stat().st_size / 1e6
        print(f"{rows:,} rows, {size:.0f} MB CSV, {url.split(':')[0]}")
        results = {"baseline": _child("baseline", baseline_url, export)}
        if args.database:
            empty_dossiers(url)
        results["import"] = _child("import", url, export)
        results["re-import"] = _child("import", url, export)
        results["progress"] = _child("import", url, later)
        for phase, result in results.items():
            seconds = result["seconds"]
            print(
                f"{phase:>10}: {seconds:7.1f} s  {rows / seconds:9,.0f} rows/s  "
                f"peak {result['max_rss_mb']:6.0f} MB"
            )
        ratio = results["import"]["seconds"] / results["baseline"]["seconds"]
        print(f"import / baseline = {ratio:.2f}×")
        if args.database:
            empty_dossiers(url)


if __name__ == "__main__":
    main()
