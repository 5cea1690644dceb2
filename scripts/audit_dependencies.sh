#!/usr/bin/env bash
# Dependency audit of the locked set (requirements/dev.lock, a superset of runtime.lock):
# known vulnerabilities from PyPI's advisory data (pip-audit), then the packages that have a newer
# release, for review. A known vulnerability fails the run. Packages the advisory service cannot
# be asked about (a closed network or a mirror without PyPI's JSON API) are listed as not audited
# and do not fail it: the outdated list below is then the review that remains.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
echo "== known vulnerabilities (pip-audit, PyPI advisories) =="
"$venv/bin/pip-audit" --requirement requirements/dev.lock --require-hashes --disable-pip \
  --vulnerability-service pypi --progress-spinner off
echo "== packages with a newer release (review) =="
"$venv/bin/pip" list --outdated --exclude-editable 2>/dev/null || true
