"""Run one command as a child and print its wall time and peak memory (max RSS) as JSON.

Usage: python -m benchmarks.measure [--timeout SECONDS] CMD ARGS... (stdout of CMD is discarded).
On timeout the command's whole process group is killed, so that a stopped peer (e.g. a Python
process started by a wrapper) cannot keep a core busy while the next contender is measured.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time


def main() -> int:
    cmd = sys.argv[1:]
    timeout = None
    if cmd[:1] == ["--timeout"]:
        timeout, cmd = float(cmd[1]), cmd[2:]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=timeout)
        returncode: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        returncode = "timeout"
    elapsed = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "seconds": elapsed if returncode != "timeout" else float("inf"),
                "max_rss_mb": rss_kb / 1024,
                "returncode": returncode,
                "stderr": stderr[-500:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
