"""Production entry point: ``gunicorn wsgi:app`` (and what ``flask --app wsgi …`` loads)."""

import gc

from survey import create_app
from survey.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:  # a setting to fix: say which, without a traceback
    raise SystemExit(f"Configuration error: {error}") from None

# Everything imported so far lives as long as the process: move it out of the garbage
# collector's reach, so that full collections in each worker stay short (fewer latency spikes)
# and, with ``--preload``, forked workers keep sharing those pages instead of copying them.
gc.freeze()
