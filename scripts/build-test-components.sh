#!/usr/bin/env bash
# Builds the runner's own test components (runner/test-components/*) for
# wasm32-wasip2 in release mode, into the shared target directory where the
# runner's tests look for them:
#   target/wasm32-wasip2/release/runner_probe.wasm
#   target/wasm32-wasip2/release/runner_uses_sqlite.wasm
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

cargo build --release --target wasm32-wasip2 \
    -p runner-probe \
    -p runner-uses-sqlite

for wasm in runner_probe runner_uses_sqlite; do
    test -f "target/wasm32-wasip2/release/${wasm}.wasm" || {
        echo "missing target/wasm32-wasip2/release/${wasm}.wasm" >&2
        exit 1
    }
done
echo "test components built in target/wasm32-wasip2/release/"
