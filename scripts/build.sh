#!/usr/bin/env bash
# `make build`: the three components (release .wasm, see build_components in
# scripts/lib.sh) and the runner (release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

ensure_rust_target
build_components
say "Building the runner (release)"
cargo build --quiet --release -p runner
