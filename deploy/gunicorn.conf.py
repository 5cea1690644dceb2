"""gunicorn settings for the platform: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

Environment: ``PORT`` (default 5000), ``BIND_HOST`` (default 127.0.0.1: a reverse proxy in
front terminates HTTPS), ``WEB_CONCURRENCY`` (workers, default 2), ``WORKER_TIMEOUT`` (seconds,
default 60), ``ACCESS_LOG`` (``-`` for standard output, a file path, or ``off``).
survey/serving.py explains the access log's privacy and why workers die with their master.
"""

import os

bind = f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "60"))
graceful_timeout = 10
_access_log = os.environ.get("ACCESS_LOG", "-")
accesslog = None if _access_log == "off" else _access_log
logger_class = "survey.serving.PrivateAccessLogger"


def post_fork(server, worker):
    from survey.serving import die_with_master

    die_with_master(server, worker)
