"""``python -m analysis``: see :mod:`analysis.cli`.

Start-up and shutdown are a large part of a short command-line run (the 300,000-row benchmark
computes in ~0.15 s but imported and tore down for ~0.5 s), so this entry point, and only it:
- hides pyarrow from pandas (never needed here; pandas would import it for ~0.1 s);
- turns off the cyclic garbage collector: importing pandas and scipy allocates hundreds of
  thousands of objects and triggers repeated full collections, while the computation works on
  NumPy arrays (peak memory of the 1,000,000-row benchmark is unchanged);
- leaves with ``os._exit`` after flushing its output, skipping the teardown of every imported
  module (nothing is left to clean up: files are closed and output is flushed).
Library users and tests that call :func:`analysis.cli.main` are unaffected.
"""

import contextlib
import gc
import os
import sys

gc.disable()
sys.modules.setdefault("pyarrow", None)  # type: ignore[arg-type]

from analysis.cli import main  # noqa: E402

exit_code = main()
with contextlib.suppress(BrokenPipeError):  # the reader (e.g. `head`) went away
    sys.stdout.flush()
sys.stderr.flush()
os._exit(exit_code)
