#!/usr/bin/env bash
# The browser tests proper, against the app scripts/with-app.sh started
# (MTH_URL): tests/browser/run.sh runs this. Arguments, if any, name the
# test files to run, in that order. Then every API answer the tests
# received is checked against docs/openapi.json (check-answers).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

say "Running the browser tests"
# Every API answer they receive, checked against docs/openapi.json below.
export MTH_ANSWERS="$APP_ARTIFACTS/answers.jsonl"
: >"$MTH_ANSWERS"
cd tests/browser
# Each file seeds its own people and tasks, so any of them runs alone or in
# any order; one at a time, since they share the app and its database.
# (`node --test` sorts the files it is given: named files run one by one.)
failed=""
if [ $# -eq 0 ]; then
  node --test --test-concurrency=1 || failed=1
else
  for file in "$@"; do node --test "${file##*/}" || failed=1; done
fi
cd "$ROOT"
say "Checking the API's answers against docs/openapi.json"
target/debug/check-answers "$MTH_ANSWERS" || failed=1
if [ -n "$failed" ]; then
  warn "browser tests failed; the app's log is in tests/browser/artifacts/app.log"
  exit 1
fi
