#!/usr/bin/env bash
# Install what the tests need (Chromium, PostgreSQL, R with the survey package, Redis, poppler's
# pdftoppm, Python packages),
# start a throwaway PostgreSQL server on loopback, and run the whole suite: every test on SQLite,
# then the storage and web tests again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  need=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  Rscript -e 'library(survey)' >/dev/null 2>&1 || need+=(r-base-core r-cran-survey r-cran-mass)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v pdftoppm >/dev/null || need+=(poppler-utils)  # report PDFs rendered to PNG in tests
  if ((${#need[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
# The pinned, hashed set (requirements/dev.lock, made by scripts/lock.sh), then the project itself.
.venv/bin/python -m pip install -q --require-hashes -r requirements/dev.lock
.venv/bin/python -m pip install -q --no-deps -e .

# A PostgreSQL server of our own, on loopback, removed on exit.
pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
pg_dir=$(mktemp -d /tmp/survey-pg.XXXXXX)
pg_port=${PG_PORT:-54329}
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$pg_dir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $pg_dir" start >/dev/null
trap '"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null; rm -rf "$pg_dir"' EXIT
"${as_pg[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres survey_test
postgres_url="postgresql+psycopg://postgres@127.0.0.1:$pg_port/survey_test"

# A Redis of our own on loopback (rate limits shared across app instances), stopped on exit.
redis_port=${REDIS_PORT:-63799}
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$pg_dir/redis.pid" >/dev/null
trap '"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null; kill "$(cat "$pg_dir/redis.pid")" 2>/dev/null; rm -rf "$pg_dir"' EXIT
export TEST_REDIS_URL="redis://127.0.0.1:$redis_port" REQUIRE_REDIS=1

export REQUIRE_R=1 REQUIRE_BROWSER=1
.venv/bin/ruff check .
.venv/bin/lint-imports  # the layer contracts in .importlinter
.venv/bin/mypy survey analysis
bash scripts/audit_dependencies.sh
echo "== whole suite on SQLite, with coverage of survey/ and analysis/ =="
# The floor is a little under what the suite measured when it was set (README, Development).
.venv/bin/pytest -q --cov --cov-report=term --cov-fail-under="${COVERAGE_FLOOR:-88}"
echo "== storage and web tests on PostgreSQL =="
TEST_DATABASE_URL="$postgres_url" .venv/bin/pytest -q -m "not browser" tests/web tests/services tests/test_migrations.py

# A streaming replica of that server (REPORTS_DATABASE_URL): pg_basebackup copies the primary and
# -R makes the copy a standby that streams from it (initdb's pg_hba.conf trusts replication from
# 127.0.0.1; wal_level=replica and max_wal_senders=10 are PostgreSQL's defaults). Removed on exit.
replica_port=${PG_REPLICA_PORT:-54330}
replica_dir=$(mktemp -d /tmp/survey-pg-replica.XXXXXX)
if [ "$(id -u)" = 0 ]; then chown postgres "$replica_dir"; fi
trap '"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$replica_dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$replica_dir"; "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null; kill "$(cat "$pg_dir/redis.pid")" 2>/dev/null; rm -rf "$pg_dir"' EXIT
"${as_pg[@]}" "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$pg_port" -U postgres -D "$replica_dir/data" \
  -R -X stream -c fast
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$replica_dir/data" -l "$replica_dir/log" -w \
  -o "-p $replica_port -c listen_addresses=127.0.0.1 -k $replica_dir" start >/dev/null
echo "== reports read from a streaming replica =="
TEST_DATABASE_URL="$postgres_url" TEST_REPLICA=1 \
  TEST_REPLICA_URL="postgresql+psycopg://postgres@127.0.0.1:$replica_port/survey_test" \
  .venv/bin/pytest -q tests/web/test_report_replica.py
