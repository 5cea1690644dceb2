#!/usr/bin/env bash
# Install the project, create the SQLite database, load the demo province and serve it on
# http://127.0.0.1:$PORT (default 5000; gunicorn, 2 workers, deploy/gunicorn.conf.py). Safe to run
# again: the demo is not duplicated. SURVEY_ENV (default development) is kept in
# instance/settings.env for the copy's later commands.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/python -m pip install -q --require-hashes -r requirements/runtime.lock
.venv/bin/python -m pip install -q --no-deps -e .
export SURVEY_ENV="${SURVEY_ENV:-development}"
# Remember it for this copy: later `flask --app wsgi …` commands in any shell run the same way.
mkdir -p instance
[ -e instance/settings.env ] || printf '# Settings of this copy; the environment overrides them.\nSURVEY_ENV=%s\n' \
    "$SURVEY_ENV" > instance/settings.env
export PORT="${PORT:-5000}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"
.venv/bin/flask --app wsgi load-demo
.venv/bin/flask --app wsgi dev-admin
echo "Open ${PUBLIC_BASE_URL}/admin/ and sign in with the account above; Ctrl+C stops the server."
exec .venv/bin/gunicorn -c deploy/gunicorn.conf.py wsgi:app
