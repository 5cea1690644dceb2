"""One measured path in a fresh process, so that its peak memory is its own; prints one JSON line.

``python -m benchmarks.scale.worker --database-url URL --path PATH --period 2025 [--agency CODE]``

Paths: ``report`` (``build_report``: the whole dashboard — figures, details, comparisons, league
table, trends — from the database's aggregates, survey/services/reporting), ``rows`` (the old
row-level loading and estimators, every response through pandas, for the headline, sector, agency
and quarter figures only), ``answers`` (``overall_figures(source="answers")``: the same
figures from one GROUP BY over the answers), ``summaries``
(``overall_figures(source="summaries")``: from the monthly summaries) and ``export``
(``export_responses_file``: the period's responses as CSV). Each
runs twice: the first run is "cold" (a new process, no cache of the application), the second
"warm" (the same process, caches of the application off, the database's own buffers hot) — unless
the first took longer than ``--warm-limit`` seconds.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from analysis import counter_design, estimate_proportion
from survey.services.aggregates import overall_figures
from survey.services.exports import export_responses_file, responses_table
from survey.services.periods import Period, parse_period
from survey.services.reporting import (
    MIN_RESPONSES,
    OVERALL,
    analysable,
    build_report,
    load_hierarchy,
    prorate_to_period,
)
from survey.storage.database import make_engine


def _rss_mb() -> float:
    """Peak resident memory of this process image: VmHWM, which exec starts afresh (getrusage's
    ru_maxrss keeps the forking parent's peak: the benchmark's, which holds the generated data)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scope(session: Session, agency: str | None) -> tuple[set[str] | None, set[int] | None]:
    if agency is None:
        return None, None
    hierarchy = load_hierarchy(session)
    codes = hierarchy.subtree_codes(hierarchy.by_code[agency])
    return codes, {hierarchy.by_code[c].id for c in codes}


def _row_figures(session: Session, period: Period, codes: set[str] | None) -> dict[str, Any]:
    """The row-level path of ``_build`` up to the headline, sector, agency and quarter tables."""
    both = responses_table(session, period.previous().first, period.last)
    if codes is not None:
        both = both[both["agency"].isin(codes)]
    mask = both["submitted_at"].str[:10] >= period.first.isoformat()
    current, _ = analysable(prorate_to_period(both[mask], period))
    design = counter_design(current, strata="stratum", volume="volume")
    (whole,) = estimate_proportion(current, OVERALL, design, None, min_n=MIN_RESPONSES)
    for by in ("sector", "agency", "period"):
        estimate_proportion(current, OVERALL, design, by, min_n=MIN_RESPONSES, include_total=False)
    return {"estimate": whole.estimate, "se": whole.se}


def run(path: str, session: Session, period: Period, agency: str | None) -> dict[str, Any]:
    codes, ids = _scope(session, agency)
    if path == "report":
        kind, key = ("agency", agency) if agency else ("province", "")
        report = build_report(session, period, kind, key, cache=None)
        return {
            "estimate": report.headline.estimate.estimate,
            "se": report.headline.estimate.se,
        }
    if path == "rows":
        return _row_figures(session, period, codes)
    if path in ("answers", "summaries"):
        figures = overall_figures(
            session, period, ids, by=("sector", "agency", "period"), source=path
        )
        headline = figures.headline
        return {
            "rows": figures.cells,
            "estimate": headline.estimate if headline else None,
            "se": headline.se if headline else None,
        }
    if path == "export":
        with tempfile.TemporaryDirectory() as folder:
            rows = export_responses_file(session, Path(folder) / "x.csv", period.first, period.last)
        return {"rows": rows}
    raise SystemExit(f"unknown path {path!r}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--period", default="2025")
    parser.add_argument("--agency")
    parser.add_argument("--warm-limit", type=float, default=120.0)
    args = parser.parse_args()
    period = parse_period(args.period)
    engine = make_engine(args.database_url)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))  # the pool's connection, as a running worker has
    base = _rss_mb()
    times = []
    result: dict[str, Any] = {}
    for _ in range(2):
        with Session(engine) as session:
            start = time.perf_counter()
            result = run(args.path, session, period, args.agency)
            times.append(time.perf_counter() - start)
        if times[0] > args.warm_limit:
            break
    engine.dispose()
    warm = times[1] if len(times) > 1 else None
    result.update(cold=times[0], warm=warm, rss_mb=_rss_mb(), base_rss_mb=base)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
