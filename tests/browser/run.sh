#!/usr/bin/env bash
# Browser tests: the UI in Debian's headless Chromium, driven by playwright-core,
# against the real app (serve-test-app: a throwaway PostgreSQL and the compiled
# components in the runner). Installs Chromium and the npm packages if missing.
# Screenshots land in tests/browser/artifacts/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

ensure_apt node nodejs
ensure_apt npm npm
ensure_apt chromium chromium
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  say "Installing the browser test packages (npm ci)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

say "Building the components and serve-test-app"
build_components
cargo build --quiet -p api-tests --bin serve-test-app

say "Running the browser tests"
cd tests/browser
node --test --test-concurrency=1
