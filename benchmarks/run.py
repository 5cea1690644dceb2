"""One command for all benchmarks: ``python -m benchmarks [--quick]`` (from the repository root).

1. Share satisfied by agency with logit intervals, design A (300,000 responses × 450 agencies):
   whole-process time of ``python -m analysis indices`` against R ``survey`` (svyby + svyciprop),
   ``svy`` and ``samplics``, all run on the same file in the same run; prints the ratios.
2. Element and composite indices with intervals and target verdicts for every agency
   (1,000,000 responses × 12 items × 1,500 agencies): whole-process time and peak memory
   (max RSS of the child process).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.data import elements_spec, make_counter_data, write

HERE = Path(__file__).resolve().parent


def measure(cmd: list[str], timeout: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", "--timeout", str(timeout), *cmd],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(cmd: list[str], repeat: int, timeout: float) -> dict:
    runs = [measure(cmd, timeout) for _ in range(repeat)]
    return min(runs, key=lambda r: r["seconds"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs of our CLI (best is kept)")
    ap.add_argument(
        "--peer-timeout",
        type=float,
        default=900,
        help="seconds a peer may take before it is stopped",
    )
    args = ap.parse_args(argv)
    # Byte-compile the package as a regular install would (pip compiles, R byte-compiles its
    # packages); with PYTHONDONTWRITEBYTECODE set, every run would otherwise compile it again.
    compileall.compile_dir(HERE.parent / "analysis", quiet=1)
    n1, g1 = (30_000, 45) if args.quick else (300_000, 450)
    n2, g2 = (100_000, 150) if args.quick else (1_000_000, 1_500)
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    py = sys.executable
    results: dict[str, dict] = {}
    print(f"benchmark 1: {n1:,} responses × {g1} agencies, share satisfied by agency, logit CI")
    f1 = write(make_counter_data(n1, g1, seed=11), tmp / "b1.csv")
    ours = best_of(
        [py, "-m", "analysis", "indices", str(f1), "--by", "agency", "--format", "json"],
        args.repeat,
        600,
    )
    results["ours"] = ours
    print(f"  analysis (python -m analysis): {ours['seconds']:.2f} s")
    if not args.skip_peers:
        peers = {}
        if shutil.which("Rscript"):
            peers["R survey"] = ["Rscript", str(HERE / "bench_r.R"), str(f1)]
        for mod in ("svy", "samplics"):
            if importlib.util.find_spec(mod):
                peers[mod] = [py, "-m", "benchmarks.peers", mod, str(f1)]
        for name, cmd in peers.items():
            r = measure(cmd, args.peer_timeout)
            results[name] = r
            if r["returncode"] == "timeout":
                bound = args.peer_timeout / ours["seconds"]
                print(
                    f"  {name}: stopped after {args.peer_timeout:.0f} s → analysis is more "
                    f"than {bound:.0f}× faster"
                )
                continue
            ok = r["returncode"] == 0
            ratio = r["seconds"] / ours["seconds"]
            status = "" if ok else f" (exit {r['returncode']}: {str(r.get('stderr', ''))[-200:]!r})"
            print(f"  {name}: {r['seconds']:.2f} s → analysis is {ratio:.1f}× faster{status}")
    print(
        f"benchmark 2: {n2:,} responses × 12 items × {g2:,} agencies, "
        "elements + composite + targets"
    )
    d2 = make_counter_data(n2, g2, n_items=12, seed=12)
    f2 = write(d2, tmp / "b2.csv")
    spec = elements_spec(d2)
    del d2
    big = best_of(
        [
            py,
            "-m",
            "analysis",
            "indices",
            str(f2),
            "--by",
            "agency",
            "--elements",
            spec,
            "--target",
            "0.7",
            "--format",
            "json",
        ],
        args.repeat,
        600,
    )
    results["benchmark2"] = big
    passed = big["seconds"] < 5 and big["max_rss_mb"] < 2048
    print(
        f"  analysis: {big['seconds']:.2f} s, peak memory {big['max_rss_mb']:.0f} MB "
        f"(limits: 5 s, 2048 MB) → {'PASS' if passed else 'FAIL'}"
    )
    (tmp / "results.json").write_text(json.dumps(results, indent=2))
    print(f"data and results.json in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
