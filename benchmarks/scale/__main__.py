"""``python -m benchmarks.scale``: the province dashboard's figures at 200k, 1M and 5M responses a
year: the whole dashboard (build_report, from the database's aggregates), its overall figures alone
from the aggregates, and the old row-level path (every response through pandas), in one run.

For each size: a fresh database (a throwaway PostgreSQL cluster on a free loopback port unless
``--database-url`` names a server or ``--sqlite`` is given) with ``--years`` years of a
realistic province (benchmarks/scale/build.py; ``--provinces K`` makes a national slice of K
provinces sharing the size), then every path in its own process (benchmarks/scale/worker.py):
cold (a fresh process, PostgreSQL restarted when the cluster is ours) and warm times, peak RSS,
rows read into Python, and the export's rows per second. The row-level paths are skipped above
``--row-limit`` responses in the period. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from benchmarks.load.servers import LOOPBACK, PostgresServer
from benchmarks.scale.build import build_structure, load_responses
from survey.services.exports import local_day_start
from survey.services.periods import parse_period
from survey.services.reporting.rollup import roll_up
from survey.storage.database import make_engine, upgrade_database
from survey.storage.models import Answer, AnswerMonth, Base, Response, ResponseMonth

REPO = Path(__file__).resolve().parents[2]
SIZES = {"20k": 20_000, "200k": 200_000, "1M": 1_000_000, "5M": 5_000_000}


def parse_size(text_: str) -> int:
    text_ = text_.strip()
    if text_ in SIZES:
        return SIZES[text_]
    factor = {"k": 1_000, "M": 1_000_000}.get(text_[-1:], 1)
    return int(float(text_[:-1] if factor > 1 else text_) * factor)


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1_000}k"


class Cluster(PostgresServer):
    """The load benchmark's throwaway cluster, tuned for loading (nothing here must survive a
    crash: fsync, synchronous_commit and full-page writes off) and restartable between paths."""

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        settings = (
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_wal_size=4GB -c shared_buffers=256MB -c maintenance_work_mem=256MB"
        )
        options = f"-p {self.port} -c listen_addresses={LOOPBACK} -k {self.root} {settings}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-w",
            "-o",
            options,
            "start",
        )

    def database(self, name: str) -> str:
        self._run("createdb", "-h", LOOPBACK, "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql+psycopg://postgres@{LOOPBACK}:{self.port}/{name}"

    def drop(self, name: str) -> None:
        self._run("dropdb", "-h", LOOPBACK, "-p", str(self.port), "-U", "postgres", name)

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "restart")


def _reset(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def build(url: str, size: int, years: list[int], provinces: int) -> dict[str, Any]:
    upgrade_database(url)
    engine = make_engine(url)
    rng = np.random.default_rng(2025)
    with Session(engine) as session:
        structure = build_structure(session, provinces, rng)
        loaded = load_responses(session, structure, size, years, rng)
        commune = structure[0].communes[7].code
        province = structure[0].root.code
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    rolled = time.perf_counter()
    with Session(engine) as session:  # what cron's roll-up-reports keeps current
        roll_up(session)
        session.commit()
    rolled = time.perf_counter() - rolled
    with Session(engine) as session:
        summaries = sum(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (ResponseMonth, AnswerMonth)
        )
        kept = session.scalar(select(func.count()).where(Response.excluded.is_(False)))
        counted = session.scalar(select(func.sum(ResponseMonth.responses)))
        if kept != counted:
            raise RuntimeError(f"the summaries count {counted} responses, the table {kept}")
    engine.dispose()
    return {
        "summary_rows": summaries,
        "responses": loaded.responses,
        "answers": loaded.answers,
        "seconds": loaded.seconds + time.perf_counter() - started,
        "commune": commune,
        "province": province,
        "rollup_seconds": rolled,
    }


def window_rows(url: str, period_key: str) -> tuple[int, int]:
    """Responses and answers the row-level report reads (this period and the previous one)."""
    period = parse_period(period_key)
    start = local_day_start(period.previous().first)
    engine = make_engine(url)
    with Session(engine) as session:
        kept = (
            Response.submitted_at >= start,
            Response.excluded.is_(False),
        )
        responses = session.scalar(select(func.count()).select_from(Response).where(*kept))
        answers = session.scalar(
            select(func.count())
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id)
            .where(*kept)
        )
    engine.dispose()
    return int(responses or 0), int(answers or 0)


def measure(
    url: str, path: str, period: str, agency: str | None, timeout: float, warm_limit: float
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.scale.worker",
        "--database-url",
        url,
        "--path",
        path,
        "--period",
        period,
    ]
    if agency:
        command += ["--agency", agency]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=REPO, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _seconds(value: float | None) -> str:
    if value is None:
        return f"{'—':>10} "
    return f"{value * 1000:7.0f} ms" if value < 1 else f"{value:7.2f} s "


def _ratio(base: dict[str, Any], r: dict[str, Any]) -> str:
    cold = f"{base['cold'] / r['cold']:,.0f}× cold"
    if base.get("warm") and r.get("warm"):
        return f"{cold}, {base['warm'] / r['warm']:,.0f}× warm"
    return cold


def report_size(
    size: int, built: dict[str, Any], window: tuple[int, int], results: dict[str, dict[str, Any]]
) -> None:
    print(
        f"\n== {label(size)} responses a year: {built['responses']:,} responses and "
        f"{built['answers']:,} answers in the database ({built['summary_rows']:,} summary rows), "
        f"built in {built['seconds']:.0f} s (of which the element roll-up "
        f"{built['rollup_seconds']:.0f} s); the row-level report reads {window[0]:,} responses "
        f"and {window[1]:,} answers"
    )
    bases = [r["base_rss_mb"] for r in results.values() if "base_rss_mb" in r]
    if bases:
        print(f"(a worker process after its imports: {min(bases):.0f} MB resident)")
    print(
        f"{'path (scope)':<28}{'cold':>11}{'warm':>11}{'peak RSS':>11}{'rows read':>13}   "
        "rows path ÷ this"
    )
    base = next((r for name, r in results.items() if name.startswith("rows")), {})
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<28}  {r['error']}")
            continue
        if name.startswith("export"):
            rate = r["rows"] / r["cold"] if r["cold"] else float("nan")
            print(
                f"{name:<28}{_seconds(r['cold'])}{_seconds(r['warm'])}{r['rss_mb']:>8.0f} MB"
                f"{r['rows']:>13,}   {rate:,.0f} rows/s (cold)"
            )
            continue
        rows = r.get("rows", window[0] + window[1])
        shown = "aggregates" if name.startswith("report") else f"{rows:,}"
        ratio = ""
        if "cold" in base and name.startswith(("report", "answers", "summaries")):
            ratio = _ratio(base, r)
        print(
            f"{name:<28}{_seconds(r['cold'])}{_seconds(r['warm'])}{r['rss_mb']:>8.0f} MB"
            f"{shown:>13}   {ratio}"
        )
    estimates = {name: (r["estimate"], r["se"]) for name, r in results.items() if r.get("estimate")}
    first = next(iter(results)).split(" ", 1)[1]  # the widest scope
    for mine in (f"report {first}", f"answers {first}", f"summaries {first}"):
        for name in (f"rows {first}",):
            if mine in estimates and name in estimates:
                a, b = estimates[mine], estimates[name]
                gap = max(abs(a[0] - b[0]), abs(a[1] - b[1]))
                print(f"  headline estimate and SE, {mine} vs {name}: |Δ| ≤ {gap:.1e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("--sizes", default="200k", help="responses a year, e.g. 200k,1M,5M")
    parser.add_argument("--years", type=int, default=2, help="years of data (the last reported)")
    parser.add_argument("--provinces", type=int, default=1, help=">1: a national slice")
    parser.add_argument("--period", default="2025")
    parser.add_argument(
        "--row-limit",
        type=parse_size,
        default=1_000_000,
        help="skip the row-level paths above this many responses a year",
    )
    parser.add_argument("--database-url", help="a PostgreSQL database to use (emptied!)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite files instead")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per path")
    parser.add_argument(
        "--warm-limit", type=float, default=120, help="no warm run after a slower cold one"
    )
    args = parser.parse_args(argv)
    # a stopped benchmark stops its cluster too (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    last_year = parse_period(args.period).last.year
    years = list(range(last_year - args.years + 1, last_year + 1))
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    folder.chmod(0o755)  # the cluster's own folder inside is run by the postgres user
    cluster = None
    if not args.sqlite and not args.database_url:
        cluster = Cluster(folder / "pg")
        cluster.start()
        print(f"PostgreSQL {cluster.bin.parts[-2]} on {LOOPBACK}:{cluster.port} ({folder})")
    try:
        for size in sizes:
            if args.sqlite:
                url = f"sqlite:///{folder / f'scale-{label(size)}.sqlite3'}"
            elif cluster is not None:
                url = cluster.database(f"scale_{label(size).lower()}")
            else:
                url = args.database_url
                _reset(url)
            built = build(url, size, years, args.provinces)
            window = window_rows(url, args.period)
            national = args.provinces > 1
            scopes = [("province", built["province"] if national else None)]
            scopes.append(("commune", built["commune"]))
            if national:
                scopes.insert(0, ("national", None))
            paths = [
                (path, name, code)
                for path in ("report", "answers", "summaries")
                for name, code in scopes
            ]
            if size <= args.row_limit:
                paths.insert(0, ("rows", scopes[0][0], scopes[0][1]))
            paths.append(("export", "period", None))
            results = {}
            for path, scope, code in paths:
                if cluster is not None:
                    cluster.restart()
                results[f"{path} ({scope})"] = measure(
                    url, path, args.period, code, args.timeout, args.warm_limit
                )
            report_size(size, built, window, results)
            if cluster is not None:
                cluster.drop(f"scale_{label(size).lower()}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
