#!/usr/bin/env bash
# `make test`: installs what the tests need, builds, and runs every suite:
# formatting and lints, unit tests, the runner's tests, the API end-to-end
# tests (throwaway PostgreSQL, real components in the runner), the offline
# Kubernetes checks, and the browser tests (headless Chromium).
# When a real Spin is available (SPIN_BIN, or `spin` on the PATH), the API
# suite and the browser tests run again under it; otherwise a visible
# "skipped: no spin" line says they did not.
# Every suite runs even if an earlier one failed; the exit status is non-zero
# if any failed. The last line sums the tests of all suites.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

LOGS="$ROOT/.local/test-logs"
rm -rf "$LOGS" && mkdir -p "$LOGS"
failed_steps=()
total_passed=0
total_failed=0

# Adds the test counts a step printed (cargo's "test result:" lines, node's
# "# pass"/"# fail", or a plain "N passed, N failed" line) to the totals.
count_tests() {
  local log=$1 p f
  p=$(grep -oE '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
  f=$(grep -oE '^test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
  p=$((p + $(grep -oE '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
  f=$((f + $(grep -oE '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
  local plain
  plain=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
  if [ -n "$plain" ]; then
    p=$((p + $(echo "$plain" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')))
    f=$((f + $(echo "$plain" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')))
  fi
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
}

# timed COMMAND...: runs it and prints how long it took.
timed() {
  local start=$SECONDS status
  "$@"
  status=$?
  echo "took $((SECONDS - start)) s"
  return "$status"
}

# step NAME COMMAND...: runs one suite, shows its output, never aborts.
step() {
  local name=$1; shift
  say "$name"
  local log="$LOGS/${name// /-}.log"
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  count_tests "$log"
  if [ "$status" -ne 0 ]; then
    failed_steps+=("$name")
    printf '\033[31m--- %s failed (exit %s)\033[0m\n' "$name" "$status"
  fi
}

say "Checking prerequisites"
ensure_rust_target
ensure_postgres
ensure_apt node nodejs
ensure_apt npm npm
ensure_apt curl curl

step "format" cargo fmt --all --check
# The app's components and the runner's own test components.
build_all_components() { build_components && scripts/build-test-components.sh; }
step "build components" build_all_components
step "clippy" cargo clippy --workspace --all-targets -- -D warnings
step "clippy wasm" cargo clippy --target wasm32-wasip2 -p frontend -p user-service -p task-service -p mth-shared -- -D warnings
# The API suite is its own step per host (and timed), so the unit and runner
# tests run once.
step "cargo test" env MTH_TEST_HOST=runner cargo test --workspace --exclude api-tests
step "runner binary" cargo build -p runner
step "api tests (runner)" timed env MTH_TEST_HOST=runner cargo test -p api-tests
step "kubernetes" scripts/check-k8s.sh
step "browser (runner)" env MTH_TEST_HOST=runner tests/browser/run.sh

SPIN="${SPIN_BIN:-$(command -v spin || true)}"
if [ -n "$SPIN" ]; then
  case "$SPIN" in /*) ;; */*) SPIN="$ROOT/$SPIN" ;; esac
  step "api tests (spin)" timed env MTH_TEST_HOST=spin SPIN_BIN="$SPIN" cargo test -p api-tests
  step "browser (spin)" env MTH_TEST_HOST=spin SPIN_BIN="$SPIN" tests/browser/run.sh
else
  printf '\033[33mskipped: no spin\033[0m (API and browser tests under real Spin, and the runner/Spin differential test; set SPIN_BIN to a Spin CLI or put spin on the PATH)\n'
fi

echo
if [ ${#failed_steps[@]} -gt 0 ]; then
  printf '\033[31mFailed suites: %s\033[0m\n' "${failed_steps[*]}"
  # A suite that failed without reporting a failed test still counts as one.
  [ "$total_failed" -eq 0 ] && total_failed=${#failed_steps[@]}
fi
echo "tests: $total_passed passed, $total_failed failed"
[ ${#failed_steps[@]} -eq 0 ]
