#!/usr/bin/env bash
# The frontend's memory during bursts of concurrent sign-ins (argon2id takes
# 19 MiB per hash, in each request's own instance), under a real Spin: the
# figure the frontend's Kubernetes memory limit is set from (docs/benchmarks.md,
# "## Sign-in memory"). Peak RSS of Spin's processes, sampled every 50 ms.
#   scripts/bench-signin-memory.sh [N...]      (default: 1 4 16 32 64)
# Needs a Spin: $SPIN_BIN, `spin` on the PATH or ../shared/tools/spin.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh
SPIN=$(find_spin)
[ -n "$SPIN" ] || { say "skipped: no spin (set SPIN_BIN, put spin on the PATH, or provide ../shared/tools/spin)"; exit 0; }
bursts=("$@"); [ ${#bursts[@]} -gt 0 ] || bursts=(1 4 16 32 64)

ensure_rust_target
build_components
ensure_pg_harness
tmp=$(mktemp -d); is_root && chown postgres:postgres "$tmp"
app=""
cleanup() {
  [ -z "$app" ] || kill -TERM -- "-$app" 2>/dev/null || true
  pg_harness stop --dir "$tmp/pg" --immediate >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
db=$(pg_harness start --dir "$tmp/pg" --throwaway --database microtaskhub --stop-with $$)
sh migrations/migrate.sh "$db" >/dev/null
port=$(free_port); url="http://127.0.0.1:$port"
email=admin@example.com; password=$(random_secret | head -c 20)
SPIN_VARIABLE_DATABASE_URL="$db" SPIN_VARIABLE_API_TOKEN="$(random_secret)" SPIN_VARIABLE_UI_PASSWORD="$password" \
  setsid "$SPIN" up -f spin.toml --listen "127.0.0.1:$port" --log-dir "$tmp/logs" --state-dir "" \
  --variable "database_host=$(url_host "$db")" --variable "ui_username=$email" >"$tmp/spin.log" 2>&1 &
app=$!
for _ in $(seq 900); do curl -fsS "$url/health" >/dev/null 2>&1 && break; sleep 0.2; done
# MiB resident in Spin's processes (spin up and the trigger it starts).
rss() {
  local kib=0 p
  for p in $(pgrep -g "$app"); do kib=$((kib + $(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
  echo $((kib / 1024))
}
python3 scripts/bench/signin_burst.py "$url" "$email" "$password" 1 >/dev/null # the first admin
echo "| concurrent sign-ins | time | peak RSS (MiB) | RSS after (MiB) |"
echo "|---:|---:|---:|---:|"
echo "| 0 (idle, signed in once) | | $(rss) | |"
for n in "${bursts[@]}"; do
  (while :; do rss; sleep 0.05; done) >"$tmp/samples" &
  sampler=$!
  line=$(python3 scripts/bench/signin_burst.py "$url" "$email" "$password" "$n")
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  echo "| $n | $(echo "$line" | grep -oE 'in [0-9.]+ s' | cut -c4-) | $(sort -n "$tmp/samples" | tail -1) | $(rss) |"
done
