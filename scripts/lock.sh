#!/usr/bin/env bash
# Regenerate the pinned, hashed dependency sets from pyproject.toml after changing a dependency:
#   requirements/runtime.lock  what the application needs (scripts/quickstart.sh installs it)
#   requirements/dev.lock      plus the test and development tools (scripts/test.sh installs it)
# pip-tools runs in a throwaway virtual environment; tests/test_locks.py checks that every
# dependency named in pyproject.toml is pinned in the locks.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d /tmp/survey-lock.XXXXXX)
trap 'rm -rf "$tools"' EXIT
"${PYTHON:-python3}" -m venv "$tools"
"$tools/bin/pip" install -q pip-tools
common=(--quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url
  --no-emit-find-links --resolver=backtracking)
"$tools/bin/pip-compile" "${common[@]}" -o requirements/runtime.lock pyproject.toml
"$tools/bin/pip-compile" "${common[@]}" --extra dev -o requirements/dev.lock pyproject.toml
echo "Wrote requirements/runtime.lock and requirements/dev.lock."
