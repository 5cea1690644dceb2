"""Run one command as a child and print its wall time and peak memory (max RSS) as JSON.

Usage: python -m benchmarks.measure CMD ARGS... (stdout of CMD is discarded).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    cmd = sys.argv[1:]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "max_rss_mb": rss_kb / 1024,
                "returncode": proc.returncode,
                "stderr": proc.stderr[-500:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
