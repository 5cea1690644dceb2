"""``python -m analysis``: see :mod:`analysis.cli`.

The command line never needs pyarrow; when it is installed pandas would import it at start-up
(~0.1 s), so the CLI process hides it from pandas. Library users are unaffected.
"""

import sys

sys.modules.setdefault("pyarrow", None)  # type: ignore[arg-type]

from analysis.cli import main  # noqa: E402

sys.exit(main())
