#!/usr/bin/env bash
# The fuzzer: Schemathesis (PyPI, pinned, in .local/fuzz-venv) against the
# real app, under MTH_TEST_HOST's engine (scripts/with-app.sh starts it):
# tests/fuzz/fuzz.py says what it runs and what fails it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

VENV="$ROOT/.local/fuzz-venv"
PINS=(schemathesis==4.32.5 openapi-spec-validator==0.9.0)
if ! "$VENV/bin/python" -c 'import sys; from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))' "${PINS[@]}" 2>/dev/null; then
  say "Setting up $VENV (${PINS[*]})"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
fi

APP_ARTIFACTS="${APP_ARTIFACTS:-$ROOT/.local/app-artifacts}" \
  exec scripts/with-app.sh "$VENV/bin/python" tests/fuzz/fuzz.py
