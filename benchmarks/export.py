"""``python -m benchmarks.export``: the responses export, whole table against stream, in one run.

Builds a province with ``--responses`` responses in the exported year (benchmarks/scale/build.py:
650 service points, seven items each, 5% comments, 0.2% excluded, monthly volumes), then exports
the year to CSV in fresh child processes, alternating, ``--repeat`` times each:

* ``table`` — the former file export: ``responses_table`` (every response and answer in pandas)
  written by ``write_responses_csv``;
* ``stream`` — ``export_responses_file`` as the command line runs it today
  (``stream_responses_csv``: a GROUP BY, then one pivoted row per response from a server-side
  cursor, written batch by batch).

Prints, per path, the best time, rows per second and the child's peak RSS (VmHWM), the ratios
stream ÷ table, and whether the two files are byte for byte the same (they must be).

Database: a throwaway PostgreSQL cluster on a free loopback port (as ``benchmarks.scale``; needs
``initdb``), ``--database-url`` (that database is **emptied**) or ``--sqlite``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
YEAR = 2025


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(url: str, path: str, out: Path) -> dict[str, Any]:
    """One export of the year in this process; its time, rows, peak RSS and file digest."""
    import datetime as dt

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from survey.services.exports import (
        export_responses_file,
        responses_table,
        write_responses_csv,
    )
    from survey.storage.database import make_engine

    engine = make_engine(url)
    first, last = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        base = _peak_rss_mb()
        started = time.perf_counter()
        if path == "table":
            table = responses_table(session, first, last)
            write_responses_csv(table, out)
            rows = len(table)
            del table
        else:
            rows = export_responses_file(session, out, first, last)
        seconds = time.perf_counter() - started
        peak = _peak_rss_mb()
        session.rollback()  # the audit line of the export is not kept
    engine.dispose()
    digest = hashlib.sha256()
    with out.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return {
        "rows": rows,
        "seconds": seconds,
        "rss_mb": peak,
        "base_rss_mb": base,
        "sha256": digest.hexdigest(),
        "bytes": out.stat().st_size,
    }


def _run_child(url: str, path: str, out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.export", "--child", path, "--database-url", url]
    done = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, cwd=REPO, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{path} failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _build(url: str, responses: int) -> int:
    import numpy as np
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from benchmarks.scale.build import build_structure, load_responses
    from survey.storage.database import make_engine, upgrade_database

    upgrade_database(url)
    engine = make_engine(url)
    rng = np.random.default_rng(2025)
    with Session(engine) as session:
        structure = build_structure(session, 1, rng)
        loaded = load_responses(session, structure, responses, [YEAR], rng)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return loaded.responses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export", description=__doc__)
    parser.add_argument("--responses", type=int, default=200_000, help="responses in the year")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each path (best kept)")
    parser.add_argument("--database-url", help="a database to use (emptied!)")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--child", choices=("table", "stream"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.database_url, args.child, args.out)))
        return 0

    from benchmarks.scale.__main__ import Cluster, _reset

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    folder.chmod(0o755)
    cluster = None
    try:
        if args.sqlite:
            url = f"sqlite:///{folder / 'export.sqlite3'}"
        elif args.database_url:
            url = args.database_url
            _reset(url)
        else:
            cluster = Cluster(folder / "pg")
            cluster.start()
            url = cluster.database("bench_export")
        started = time.perf_counter()
        stored = _build(url, args.responses)
        print(f"{stored:,} responses built in {time.perf_counter() - started:.0f} s ({url})")
        results: dict[str, list[dict[str, Any]]] = {"table": [], "stream": []}
        for _ in range(args.repeat):
            for path in ("table", "stream"):
                results[path].append(_run_child(url, path, folder / f"{path}.csv"))
        _report(results)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _report(results: dict[str, list[dict[str, Any]]]) -> None:
    best = {path: min(runs, key=lambda r: r["seconds"]) for path, runs in results.items()}
    print(f"{'path':<8}{'best':>10}{'rows/s':>12}{'peak RSS':>12}{'after imports':>15}{'rows':>11}")
    for path, r in best.items():
        print(
            f"{path:<8}{r['seconds']:>9.2f}s{r['rows'] / r['seconds']:>12,.0f}"
            f"{r['rss_mb']:>9.0f} MB{r['base_rss_mb']:>12.0f} MB{r['rows']:>11,}"
        )
    table, stream = best["table"], best["stream"]
    print(
        f"stream ÷ table: {table['seconds'] / stream['seconds']:.1f}× the rows/s, "
        f"{stream['rss_mb'] / table['rss_mb']:.2f}× the peak RSS "
        f"({stream['rss_mb'] - stream['base_rss_mb']:.0f} MB above the process after its "
        f"imports, against {table['rss_mb'] - table['base_rss_mb']:.0f} MB)"
    )
    digests = {r["sha256"] for runs in results.values() for r in runs}
    same = "the same" if len(digests) == 1 else "DIFFERENT"
    print(f"files: {same} ({stream['bytes']:,} bytes, sha256 {stream['sha256'][:16]}…)")


if __name__ == "__main__":
    sys.exit(main())
