"""``python -m benchmarks.load [--seconds 60] [--clients 50] [--engine sqlite|postgresql|both]
[--crash]``: see benchmarks/load/README.md."""

from __future__ import annotations

import argparse
import os
import sys

from benchmarks.load.scenario import LoadOptions, run_scenario
from benchmarks.load.servers import GunicornSettings

GOAL_PER_SECOND = 300
GOAL_P99_MS = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="load duration [60]")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients [50]")
    parser.add_argument(
        "--engine", choices=("sqlite", "postgresql", "both"), default="both", help="[both]"
    )
    parser.add_argument(
        "--crash",
        action="store_true",
        help="SIGKILL gunicorn at 30%% of the run (and restart PostgreSQL at 65%%)",
    )
    parser.add_argument(
        "--trivial-seconds",
        type=float,
        default=None,
        help="how long to measure the trivial endpoint first [a sixth of --seconds, 3 to 10]",
    )
    parser.add_argument("--workers", type=int, default=GunicornSettings.workers)
    parser.add_argument("--worker-class", default=GunicornSettings.worker_class)
    parser.add_argument("--threads", type=int, default=GunicornSettings.threads)
    args = parser.parse_args(argv)

    trivial = args.trivial_seconds
    if trivial is None:
        trivial = min(10.0, max(3.0, args.seconds / 6))
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    all_ok = True
    for engine in engines:
        options = LoadOptions(
            engine=engine,
            seconds=args.seconds,
            clients=args.clients,
            crash=args.crash,
            trivial_seconds=trivial,
            gunicorn=GunicornSettings(args.workers, args.worker_class, args.threads),
        )
        report = run_scenario(options)
        print("\n".join(report.lines()), flush=True)
        if report.form and not args.crash:
            fast = report.stored_per_second >= GOAL_PER_SECOND
            quick = report.form.p99_ms < GOAL_P99_MS
            print(
                f"goal ≥ {GOAL_PER_SECOND} stored/s: {'met' if fast else 'NOT met'}; "
                f"goal p99 < {GOAL_P99_MS} ms: {'met' if quick else 'NOT met'}\n",
                flush=True,
            )
        all_ok = all_ok and report.ok
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
