#!/usr/bin/env bash
# `make test`: installs what the tests need, builds, and runs every suite:
# formatting and lints, unit tests, the runner's tests, the API end-to-end
# tests (throwaway PostgreSQL, real components), the offline Kubernetes checks
# the browser tests (headless Chromium) and the fuzzer (Schemathesis against
# docs/openapi.json).
#
# The API and browser suites run under each engine available: the project's
# runner always; a real `spin up` (SPIN_BIN, or `spin` on the PATH); SpinKube's
# node (SPINKUBE_BIN: containerd + containerd-shim-spin, what production runs).
# A missing engine is one visible "skipped: …" line.
#
# Everything is compiled once (one `cargo test --no-run` for every test
# binary; the suites then run those binaries), and after the build two lanes
# run side by side: the API suites (CPU-bound) and the rest (unit tests, the
# Kubernetes checks, the browser tests, which mostly wait on a browser). Each
# step's output is shown whole when it ends, and kept in .local/test-logs/.
# Every suite runs even if an earlier one failed; the exit status is non-zero
# if any failed. The last line sums the tests of all suites.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

LOGS="$ROOT/.local/test-logs"
rm -rf "$LOGS" && mkdir -p "$LOGS"
# One line per finished step: "<status> <passed> <failed> <name>".
RESULTS="$LOGS/results"
: >"$RESULTS"
STARTED=$SECONDS

# The test counts a log shows (cargo's "test result:" lines, node's
# "# pass"/"# fail", or a plain "N passed, N failed" line): "<passed> <failed>".
count_tests() {
  local log=$1 p f plain
  p=$(grep -oE '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
  f=$(grep -oE '^test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
  p=$((p + $(grep -oE '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
  f=$((f + $(grep -oE '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
  plain=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
  if [ -n "$plain" ]; then
    p=$((p + $(echo "$plain" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')))
    f=$((f + $(echo "$plain" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')))
  fi
  echo "$p $f"
}

# step NAME COMMAND...: runs one suite into its log, then shows the log whole
# (steps of the two lanes do not interleave their lines), never aborts.
step() {
  local name=$1; shift
  local log="$LOGS/${name// /-}.log" start=$SECONDS status
  printf '\033[2m... %s started (%s s in)\033[0m\n' "$name" "$((SECONDS - STARTED))"
  "$@" >"$log" 2>&1
  status=$?
  read -r passed failed < <(count_tests "$log")
  echo "$status $passed $failed $name" >>"$RESULTS"
  {
    flock 9
    say "$name"
    cat "$log"
    if [ "$status" -ne 0 ]; then
      printf '\033[31m--- %s failed (exit %s)\033[0m\n' "$name" "$status"
    fi
    echo "took $((SECONDS - start)) s"
  } 9>"$LOGS/.print-lock"
  return 0
}

skip() { printf '\033[33mskipped: %s\033[0m\n' "$*"; }

say "Checking prerequisites"
ensure_rust_target
ensure_postgres
ensure_apt node nodejs
ensure_apt npm npm
ensure_apt curl curl
# The API tests' identity provider (oidc-provider) and the browser tests' driver.
ensure_test_node_packages

# The engines besides the runner: absolute paths, or empty.
absolute() { case "$1" in "" | /*) echo "$1" ;; */*) echo "$ROOT/$1" ;; *) command -v "$1" || true ;; esac; }
SPIN="$(absolute "${SPIN_BIN:-$(command -v spin || true)}")"
SPINKUBE="$(absolute "${SPINKUBE_BIN:-}")"
if [ -n "$SPINKUBE" ] && ! is_root; then
  warn "SPINKUBE_BIN is set, but SpinKube's node needs root (containerd): not used"
  SPINKUBE=""
fi
# SpinKube's node runs the app under Debian's containerd: installed and
# started here, once, before the lanes start (both use it; see lib.sh).
[ -z "$SPINKUBE" ] || ensure_containerd
export SPIN_BIN="$SPIN" SPINKUBE_BIN="$SPINKUBE"

step "format" cargo fmt --all --check
# The app's components and the runner's own test components.
build_all_components() { build_components && scripts/build-test-components.sh; }
step "build components" build_all_components
step "clippy" cargo clippy --workspace --all-targets -- -D warnings
step "clippy wasm" cargo clippy --target wasm32-wasip2 -p frontend -p user-service -p task-service -p mth-shared -- -D warnings
# Every test binary, once; the lanes below run them without cargo, so they
# neither rebuild nor wait for each other on cargo's lock.
BINARIES="$LOGS/test-binaries.tsv"
build_tests() {
  cargo test --workspace --no-run --message-format=json-render-diagnostics \
    | python3 scripts/test-binaries.py >"$BINARIES"
}
step "build tests" build_tests
# The browser tests start the app from the runner binary and pg-harness.
step "build binaries" cargo build -p runner -p pg-harness

# run_binaries api|other: the API suite's test binaries, or every other one,
# each from its package's directory as cargo runs them. Runs all; fails if
# any fails.
run_binaries() {
  local which=$1 status=0 package dir exe
  while IFS=$'\t' read -r package dir exe; do
    if [ "$package" = api-tests ]; then [ "$which" = api ] || continue
    else [ "$which" = other ] || continue; fi
    echo "     Running $exe ($package)"
    (cd "$dir" && "$exe") || status=1
  done <"$BINARIES"
  return "$status"
}
unit_tests() { run_binaries other && cargo test --workspace --doc; }
# on HOST COMMAND...: runs COMMAND with the app under HOST (MTH_TEST_HOST).
on() { (export MTH_TEST_HOST=$1; shift; "$@"); }

api_lane() {
  step "api tests (runner)" on runner run_binaries api
  [ -z "$SPIN" ] || step "api tests (spin)" on spin run_binaries api
  [ -z "$SPINKUBE" ] || step "api tests (spinkube)" on spinkube run_binaries api
}
other_lane() {
  step "unit and runner tests" on runner unit_tests
  step "kubernetes" scripts/check-k8s.sh
  step "browser (runner)" on runner tests/browser/run.sh
  [ -z "$SPIN" ] || step "browser (spin)" on spin tests/browser/run.sh
  [ -z "$SPINKUBE" ] || step "browser (spinkube)" on spinkube tests/browser/run.sh
  step "fuzz (runner)" on runner tests/fuzz/run.sh
  [ -z "$SPIN" ] || step "fuzz (spin)" on spin tests/fuzz/run.sh
}

[ -n "$SPIN" ] || skip "no spin (API and browser tests and the fuzzer under real Spin, and the runner/Spin differential test; set SPIN_BIN to a Spin CLI or put spin on the PATH)"
[ -n "$SPINKUBE" ] || skip "no spinkube (API and browser tests under SpinKube's engine, containerd-shim-spin; set SPINKUBE_BIN to ../shared/tools/spinkube-node or the like)"
api_lane &
api_pid=$!
other_lane
wait "$api_pid"

echo
failed_steps=()
total_passed=0
total_failed=0
while read -r status passed failed name; do
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  if [ "$status" -ne 0 ]; then
    failed_steps+=("$name")
    # A suite that failed without reporting a failed test still counts as one.
    [ "$failed" -eq 0 ] && total_failed=$((total_failed + 1))
  fi
done <"$RESULTS"
if [ ${#failed_steps[@]} -gt 0 ]; then
  printf '\033[31mFailed suites: %s\033[0m\n' "$(IFS=,; echo "${failed_steps[*]}")"
fi
echo "make test took $((SECONDS - STARTED)) s"
echo "tests: $total_passed passed, $total_failed failed"
[ ${#failed_steps[@]} -eq 0 ]
