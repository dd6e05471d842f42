#!/usr/bin/env bash
# Browser tests: the UI in Debian's headless Chromium, driven by playwright-core,
# against the real app started the way a developer starts it: a throwaway
# PostgreSQL (`pg-harness start --throwaway` in a temporary directory, free
# port, trust auth), migrations/migrate.sh, and `runner up -f spin.toml` with test variables --
# or, with MTH_TEST_HOST=spin (or SPIN_BIN set and MTH_TEST_HOST unset), a real
# `$SPIN_BIN up -f spin.toml` (`spin` from the PATH when SPIN_BIN is unset),
# or, with MTH_TEST_HOST=spinkube, SpinKube's own engine through
# `$SPINKUBE_BIN up -f spin.toml` (spinkube-node: containerd with
# containerd-shim-spin; needs root).
# Arguments, if any, name the test files to run, in that order (all of them,
# by name, by default): tests/browser/run.sh showcase.test.mjs board.test.mjs
# scripts/with-app.sh starts the app; run-tests.sh runs the tests, then
# checks every API answer they received against docs/openapi.json.
# Installs Chromium and the npm packages if missing. Everything started here
# is stopped and deleted on exit, failed or not. Screenshots and the app's log
# land in tests/browser/artifacts/ (git-ignored).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

ARTIFACTS="$ROOT/tests/browser/artifacts"
mkdir -p "$ARTIFACTS"

ensure_apt node nodejs
ensure_apt npm npm
ensure_apt chromium chromium
ensure_test_node_packages

say "Building the contract checker (check-answers)"
cargo build --quiet -p api-tests --bin check-answers

# The app: scripts/with-app.sh starts it (under MTH_TEST_HOST's engine)
# and runs the tests against it, with an identity provider to sign in with.
export APP_ARTIFACTS="$ARTIFACTS" APP_WITH_IDP=1
exec scripts/with-app.sh tests/browser/run-tests.sh "$@"
