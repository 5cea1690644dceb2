"""Production entry point: ``gunicorn wsgi:app``."""

import gc

from survey import create_app

app = create_app()

# Everything imported so far lives as long as the process: move it out of the garbage
# collector's reach, so that full collections in each worker stay short (fewer latency spikes)
# and, with ``--preload``, forked workers keep sharing those pages instead of copying them.
gc.freeze()
