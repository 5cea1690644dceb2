"""One command for all benchmarks: ``python -m benchmarks [--quick]`` (from the repository root).

1. Share satisfied by agency with logit intervals, design A (300,000 responses × 450 agencies):
   whole-process time of ``python -m analysis indices`` against R ``survey`` (svyby + svyciprop),
   ``svy`` and ``samplics``, all run on the same file in the same run; prints the ratios.
2. Element and composite indices with intervals and target verdicts for every agency
   (1,000,000 responses × 12 items × 1,500 agencies): whole-process time and peak memory
   (max RSS of the child process).
3. Share satisfied by agency on a two-stage design with fpc at both stages (100,000 responses,
   1,000 villages in 200 strata, 100 agencies) against R ``svydesign(ids=~psu+person,
   fpc=~N1+N2)`` + ``svyby(svyciprop)`` in the same run.
4. The same on 80 supplied bootstrap replicate-weight columns against R ``svrepdesign`` +
   ``svyby(svyciprop)`` in the same run.
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

from benchmarks.data import (
    add_bootstrap_weights,
    elements_spec,
    make_counter_data,
    make_two_stage_data,
    write,
)

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
    n3, g3 = (10_000, 20) if args.quick else (100_000, 100)
    design_cases = {
        "benchmark3": (
            f"benchmark 3: {n3:,} responses, two-stage design (fpc at both stages), "
            f"{g3} agencies, share satisfied by agency, logit CI",
            make_two_stage_data(n3, g3, seed=13),
            "twostage",
            ["--strata", "stratum", "--psu", "psu,person", "--fpc", "N1,N2"],
        ),
        "benchmark4": (
            f"benchmark 4: {n3:,} responses × 80 bootstrap replicate weights, {g3} agencies, "
            "share satisfied by agency, logit CI",
            add_bootstrap_weights(make_two_stage_data(n3, g3, seed=14), 80, seed=14),
            "replicates",
            ["--repweights", "rw_*", "--rep-type", "bootstrap", "--weight", "weight"],
        ),
    }
    for key, (title, frame, kind, options) in design_cases.items():
        print(title)
        f = write(frame, tmp / f"{key}.csv")
        del frame
        cmd = [py, "-m", "analysis", "indices", str(f), "--by", "agency", "--format", "json"]
        mine = best_of([*cmd, "--lonely-psu", "adjust", *options], args.repeat, 600)
        results[key] = {"ours": mine}
        print(f"  analysis: {mine['seconds']:.2f} s (exit {mine['returncode']})")
        if not args.skip_peers and shutil.which("Rscript"):
            r = measure(
                ["Rscript", str(HERE / "bench_r_designs.R"), kind, str(f)], args.peer_timeout
            )
            results[key]["R survey"] = r
            if r["returncode"] == "timeout":
                print(f"  R survey: stopped after {args.peer_timeout:.0f} s")
            else:
                print(
                    f"  R survey: {r['seconds']:.2f} s → analysis is "
                    f"{r['seconds'] / mine['seconds']:.1f}× faster (exit {r['returncode']})"
                )
    (tmp / "results.json").write_text(json.dumps(results, indent=2))
    print(f"data and results.json in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
