#!/usr/bin/env bash
# `make bench`: the API benchmark. Measures the whole stack (the host, the
# three components, PostgreSQL) with wrk under each host — the project's runner
# and, when available, a real Spin (the engine SpinKube runs) — side by side,
# and the database's own ceiling for the same SQL with pgbench, and writes the
# "## API" section of docs/benchmarks.md (other sections are kept).
#
#   1. builds the components and the runner (release); finds Spin: $SPIN_BIN,
#      else `spin` on the PATH, else ../shared/tools/spin next to the repo
#      (optional: without one, a "skipped: no spin" line and a runner-only table);
#   2. starts a throwaway PostgreSQL with `pg-harness` (in a temp dir, free
#      port; as the postgres user when root), durable (fsync, synchronous_commit on) and
#      tuned for the run (see PG_SETTINGS below), applies the migrations and
#      seeds BENCH_USERS users and BENCH_TASKS tasks (scripts/bench/seed.sql);
#   3. starts the app under each host (the runner with --quiet, i.e. without
#      its own request log; Spin with -L "", so no log files) — both forward
#      the components' JSON log lines, as in production, to a file truncated
#      before each scenario — and signs in to each frontend for a session cookie;
#   4. runs each scenario with wrk (2 threads, 16 connections, Lua scripts in
#      scripts/bench/) after a warm-up, BENCH_RUNS times per host, the hosts
#      taking turns scenario by scenario; the host's and PostgreSQL's CPU time
#      per request (from /proc) over the runs; and the SQL the scenario issues
#      with pgbench (scripts/bench/pg/, same concurrency);
#   5. prints the table (medians by throughput) and writes it to the doc.
#
# With BENCH_PROFILE=N it measures instructions instead of throughput (for
# docs/benchmarks.md "## Profile"; valgrind is installed if missing): Spin
# runs under callgrind (the runner cannot: see below), and each scenario sends N requests over one connection
# (after a 20-request warm-up not counted); callgrind's counts are split into
# the guest's wasm (the app), the host's own code and the shared libraries
# (scripts/bench/callgrind_split.py). Counts do not depend on the machine's
# load, unlike req/s. Under valgrind Spin cannot reserve its instance pool and
# falls back to on-demand instance allocation: the guest's counts are as in
# production, Spin's own include mmap-based instance set-up. Takes ~3 min to
# start and ~1 min per scenario for N=200.
#
# Environment:
#   BENCH_DURATION=10   seconds per run (wrk and pgbench)
#   BENCH_RUNS=3        runs per scenario and host; the median run (by req/s) is reported
#   BENCH_WARMUP=2      seconds of warm-up before each scenario (not reported)
#   BENCH_USERS=1000    seeded users
#   BENCH_TASKS=100000  seeded tasks
#   BENCH_ONLY="1 6a"   run only these scenarios (ids as in the table); a partial
#                       run prints its table but does not touch the doc
#   BENCH_HOSTS="spin"  only these hosts (runner, spin); default: both, Spin if found
#   SPIN_BIN=/path/spin the Spin to measure (default: see step 1)
#   BENCH_PROFILE=200   instruction counts, N requests per scenario (see above)
#   BENCH_IDLE_BOARDS=200  instead of the API table: the cost of N open, idle
#                       boards polling the change feed (scripts/bench/idle-boards.mjs)
#                       — CPU, memory, queries per second — and the API's
#                       throughput with and without them (scenarios 6a and 7,
#                       or BENCH_ONLY), for docs/benchmarks.md "## Idle boards"
#   BENCH_IDLE_SECONDS=40  how long the idle boards are measured alone
#   BENCH_SEARCH=1      instead of all this: the search benchmark (100,000 tasks,
#                       300,000 comments; scripts/bench/search.sh, its own settings),
#                       for docs/benchmarks.md "## Search"
#   BENCH_KEEP_LOGS=1   keep wrk/pgbench outputs and the hosts' stderr in
#                       .local/bench/ (always kept there when a step fails)
#
# Everything it starts (the hosts, PostgreSQL, wrk, pgbench) is stopped and the
# temp dir removed on exit, failure or Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh
[ -n "${BENCH_SEARCH:-}" ] && exec scripts/bench/search.sh

DURATION=${BENCH_DURATION:-10}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-2}
USERS=${BENCH_USERS:-1000}
TASKS=${BENCH_TASKS:-100000}
ONLY=${BENCH_ONLY:-}
PROFILE=${BENCH_PROFILE:-}
IDLE_BOARDS=${BENCH_IDLE_BOARDS:-}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-40}
THREADS=2
CONNECTIONS=16
for n in "$DURATION" "$RUNS" "$WARMUP" "$USERS" "$TASKS" "${PROFILE:-0}" "${IDLE_BOARDS:-0}" "$IDLE_SECONDS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "BENCH_DURATION, BENCH_RUNS, BENCH_WARMUP, BENCH_USERS, BENCH_TASKS and BENCH_PROFILE are whole numbers (got '$n')"
done
[ "$RUNS" -ge 1 ] && [ "$DURATION" -ge 1 ] || die "BENCH_RUNS and BENCH_DURATION must be at least 1"

# The mix (scenario 7): keep in step with scripts/bench/mix.lua.
MIX_WEIGHTS=(list_tasks@45 get_task@30 patch_task@15 create_task@8 create_user@2)

# id | label | wrk script | via the gateway | pgbench ceiling (scripts/bench/pg/*.sql)
# In run order: reads first, then writes (the data is reset before each write
# scenario, so each starts from the seed), the mix last.
SCENARIOS=(
  "1|GET /tasks?assignee_id=&status=|list_tasks|0|list_tasks"
  "6a|GET /api/tasks?assignee_id=&status= (gateway)|list_tasks|1|list_tasks"
  "2|GET /tasks/{id} with assignee|get_task|0|get_task"
  "6b|GET /api/tasks/{id} (gateway)|get_task|1|get_task"
  "3|POST /tasks|create_task|0|create_task"
  "6c|POST /api/tasks (gateway)|create_task|1|create_task"
  "4|POST /users|create_user|0|create_user"
  "6d|POST /api/users (gateway)|create_user|1|create_user"
  "5|PATCH /tasks/{id} status|patch_task|0|patch_task"
  "6e|PATCH /api/tasks/{id} status (gateway)|patch_task|1|patch_task"
  "7|mix: 45 % list, 30 % get, 15 % patch, 8 % new task, 2 % new user; half via the gateway|mix|0|mix"
)
# Display order of the table.
ORDER=(1 2 3 4 5 6a 6b 6c 6d 6e 7)

selected() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# The hosts, in the table's order: Spin first (what SpinKube users get), then
# the runner. Spin is optional: the project must work without it
# (find_spin, scripts/lib.sh).
HOSTS=()
WANT_HOSTS=${BENCH_HOSTS:-spin runner}
SPIN=""
if [[ " $WANT_HOSTS " == *" spin "* ]]; then
  SPIN=$(find_spin)
  if [ -n "$SPIN" ]; then
    SPIN_VERSION=$("$SPIN" --version 2>/dev/null | head -n 1 | awk '{print $2}')
    [ -n "$SPIN_VERSION" ] || die "$SPIN --version gave no version"
    HOSTS+=(spin)
  else
    say "skipped: no spin (set SPIN_BIN, put spin on the PATH, or provide ../shared/tools/spin): runner only"
  fi
fi
[[ " $WANT_HOSTS " == *" runner "* ]] && HOSTS+=(runner)
if [ -n "$PROFILE" ] && [[ " ${HOSTS[*]} " == *" runner "* ]]; then
  # The runner's pooling allocator reserves terabytes of address space,
  # which valgrind refuses (Spin falls back to on-demand allocation there).
  say "profile: the runner is skipped (its instance pool cannot be reserved under valgrind)"
  HOSTS=("${HOSTS[@]/runner}")
  read -r -a HOSTS <<<"${HOSTS[*]}"
fi
[ "${#HOSTS[@]}" -ge 1 ] || die "no host to measure (BENCH_HOSTS=$WANT_HOSTS${PROFILE:+; BENCH_PROFILE needs Spin})"
declare -A HOST_NAME=([runner]="runner" [spin]="Spin ${SPIN_VERSION:-}")

# PostgreSQL for the run. Durable as a production server would be (every
# commit waits for its WAL flush; full-page writes), with memory sized for the
# data and checkpoints pushed out of the runs; autovacuum stays on.
PG_SETTINGS=(
  "max_connections=200"          # the runner's and Spin's pools (64 each) + pgbench (16) + psql
  "shared_buffers=512MB"         # the whole data set stays in memory
  "effective_cache_size=4GB"
  "work_mem=8MB"
  "maintenance_work_mem=256MB"
  "random_page_cost=1.1"         # SSD-backed
  "fsync=on"
  "synchronous_commit=on"
  "full_page_writes=on"
  "wal_buffers=16MB"
  "max_wal_size=8GB"             # no checkpoint forced by WAL volume mid-run
  "checkpoint_timeout=30min"
  "log_min_messages=warning"
)

# ---------------------------------------------------------------- set-up

say "Checking prerequisites"
ensure_rust_target
ensure_pg_harness
ensure_apt pgbench postgresql-client
ensure_apt wrk wrk
ensure_apt curl curl
ensure_apt python3 python3
[ -n "$PROFILE" ] && ensure_apt callgrind_control valgrind
[ -n "$IDLE_BOARDS" ] && ensure_apt node nodejs

build_components
say "Building the runner (release)"
cargo build --quiet --release -p runner

WORK=$(mktemp -d /tmp/mth-bench-XXXXXX)
chmod 755 "$WORK"
PGDATA_DIR="$WORK/pgdata"
LOGS="$ROOT/.local/bench"
rm -rf "$LOGS"
mkdir -p "$LOGS" "$WORK/data"
# Per host: the process we started, the process serving requests (Spin's
# `spin up` runs `spin trigger http` as a child; for the runner the same), its
# origin and session cookie.
declare -A APP_PID=() SERVER_PID=() ORIGIN_OF=() COOKIE_OF=()
LOAD_PID=""
BOARDS_PID=""
PG_STARTED=""
KEEP_LOGS=${BENCH_KEEP_LOGS:-}

stop_pid() { # PID: TERM, then KILL after 7 s
  kill -0 "$1" 2>/dev/null || return 0
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 70); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  for pid in "$LOAD_PID" "$BOARDS_PID"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  for host in "${!APP_PID[@]}"; do
    say "Stopping the app under ${HOST_NAME[$host]}"
    [ "${SERVER_PID[$host]:-}" != "${APP_PID[$host]}" ] && stop_pid "${SERVER_PID[$host]:-}"
    stop_pid "${APP_PID[$host]}"
    [ -f "$WORK/$host.err" ] && tail -c 1000000 "$WORK/$host.err" >"$LOGS/$host.stderr.log"
  done
  if [ -n "$PG_STARTED" ]; then
    say "Stopping PostgreSQL"
    [ -f "$PGDATA_DIR/server.log" ] && cp "$PGDATA_DIR/server.log" "$LOGS/postgres.log"
    pg_harness stop --dir "$PGDATA_DIR" >/dev/null 2>&1 \
      || pg_harness stop --dir "$PGDATA_DIR" --immediate >/dev/null 2>&1
  fi
  rm -rf "$WORK"
  if [ "$status" -eq 0 ] && [ -z "$KEEP_LOGS" ]; then
    rm -rf "$LOGS"
  else
    [ "$status" -ne 0 ] && warn "the benchmark failed (exit $status); logs are in .local/bench/"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "Starting a throwaway PostgreSQL"
PG_STARTED=1
PG_SET=()
for setting in "${PG_SETTINGS[@]}"; do PG_SET+=(--set "$setting"); done
DB_URL=$(pg_harness start --dir "$PGDATA_DIR" "${PG_SET[@]}" --database microtaskhub --stop-with $$) \
  || die "PostgreSQL did not start: $(tail -n 5 "$PGDATA_DIR/server.log" 2>/dev/null)"
DB_HOST=$(url_host "$DB_URL")
PG_VERSION=$(psql "$DB_URL" -tAc 'SHOW server_version' | cut -d' ' -f1)
psql_db() { psql "$DB_URL" --no-psqlrc -q -v ON_ERROR_STOP=1 -v users="$USERS" -v tasks="$TASKS" "$@"; }

say "Applying migrations"
sh migrations/migrate.sh "$DB_URL"

say "Seeding $USERS users and $TASKS tasks"
psql_db -f scripts/bench/seed.sql >/dev/null
psql_db -tAc "COPY (SELECT md5('user-' || n)::uuid FROM generate_series(1, $USERS) n) TO STDOUT" >"$WORK/data/users.txt"
psql_db -tAc "COPY (SELECT md5('task-' || n)::uuid FROM generate_series(1, $TASKS) n) TO STDOUT" >"$WORK/data/tasks.txt"
[ "$(wc -l <"$WORK/data/tasks.txt")" -eq "$TASKS" ] || die "seeding failed"

API_TOKEN=$(random_secret)
UI_PASSWORD=$(random_secret | head -c 16)
SESSION_SECRET=$(random_secret)

# start_app HOST: the app under HOST on a free port (under callgrind, with
# instrumentation off until a scenario starts, when profiling); sets
# APP_PID, SERVER_PID, ORIGIN_OF and COOKIE_OF for it. The components' stdout
# and stderr go to $WORK/HOST.err (Spin writes both to its stderr).
start_app() {
  local host=$1 port origin cmd=() wrap=() pid server cookie
  port=$(free_port)
  origin="http://127.0.0.1:$port"
  if [ -n "$PROFILE" ]; then
    wrap=(valgrind --tool=callgrind --trace-children=yes --instr-atstart=no --dump-instr=no
      --collect-jumps=no "--callgrind-out-file=$WORK/$host.callgrind.%p")
  fi
  if [ "$host" = runner ]; then
    cmd=(target/release/runner up -f spin.toml --listen "127.0.0.1:$port" --quiet)
  else
    # -L "": no log files; --state-dir "": no state directory, so the
    # `default` key-value store (the change feed's shared tail) stays in
    # memory rather than in an SQLite file synced at each write. SpinKube's
    # shim has neither, and nothing is left in the repository.
    cmd=("$SPIN" up -f spin.toml --listen "127.0.0.1:$port" -L "" --state-dir "")
  fi
  say "Starting the app under ${HOST_NAME[$host]}${PROFILE:+ (under callgrind)}"
  # Variables as `--variable` for both (the runner takes them as spin does).
  "${wrap[@]}" "${cmd[@]}" \
    --variable "database_url=$DB_URL" --variable "database_host=$DB_HOST" \
    --variable "api_token=$API_TOKEN" --variable ui_username=admin@example.com \
    --variable "ui_password=$UI_PASSWORD" --variable "session_secret=$SESSION_SECRET" \
    >"$WORK/$host.out" 2>>"$WORK/$host.err" &
  pid=$!
  APP_PID[$host]=$pid
  # Spin compiles the components at start-up (minutes under callgrind).
  for _ in $(seq 1 3000); do
    curl -fsS "$origin/.well-known/spin/health" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || die "the app exited during start-up under $host: $(tail -n 20 "$WORK/$host.err")"
    sleep 0.2
  done
  curl -fsS "$origin/tasks/health" >/dev/null || die "task-service is not healthy under $host: $(tail -n 20 "$WORK/$host.err")"
  server=$pid
  if [ "$host" = spin ]; then
    server=$(pgrep -P "$pid" | head -n 1)
    [ -n "$server" ] || die "no 'spin trigger http' process under spin up ($pid)"
  fi
  SERVER_PID[$host]=$server
  ORIGIN_OF[$host]=$origin
  cookie=$(curl -fsS -D - -o /dev/null -H "Origin: $origin" -H 'Content-Type: application/json' \
    -d "{\"email\":\"admin@example.com\",\"password\":\"$UI_PASSWORD\"}" "$origin/auth/login" \
    | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -n 1)
  [ -n "$cookie" ] || die "signing in to the frontend under $host gave no session cookie"
  COOKIE_OF[$host]=$cookie
}

for host in "${HOSTS[@]}"; do start_app "$host"; done

export BENCH_LUA_DIR="$ROOT/scripts/bench" BENCH_DATA="$WORK/data" BENCH_API_TOKEN="$API_TOKEN"
# use_host HOST: the wrk scripts' target.
use_host() { export BENCH_ORIGIN="${ORIGIN_OF[$1]}" BENCH_COOKIE="${COOKIE_OF[$1]}"; }

# One request of each kind, directly and through the gateway, must succeed
# under each host before anything is measured.
for host in "${HOSTS[@]}"; do
  say "Checking each call once under ${HOST_NAME[$host]}"
  use_host "$host"
  for script in list_tasks get_task create_task create_user patch_task; do
    for gw in 0 1; do
      BENCH_GATEWAY=$gw wrk -t1 -c1 -d1s --timeout 30s -s "scripts/bench/$script.lua" "$BENCH_ORIGIN" >"$WORK/check.out" 2>&1 \
        || die "wrk failed on $script under $host: $(cat "$WORK/check.out")"
      grep -q 'BENCH_RESULT .* non2xx=0 socket_errors=0' "$WORK/check.out" \
        || die "$script (gateway=$gw) does not succeed under $host: $(grep BENCH_ "$WORK/check.out")"
    done
  done
done
psql_db -f scripts/bench/reset.sql >/dev/null

is_write() { [[ "$1" == create_* || "$1" == patch_* || "$1" == mix ]]; }
declare -A LABEL CEILING_OF
for entry in "${SCENARIOS[@]}"; do
  IFS='|' read -r id label _ _ ceiling <<<"$entry"
  LABEL[$id]=$label
  CEILING_OF[$id]=$ceiling
done
fmt_int() { printf '%.0f' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "–" }'; }
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
MEM_GIB=$(awk '/^MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
COMMIT=$(git rev-parse --short HEAD)
DIRTY=$(git status --porcelain -- components crates runner migrations spin.toml Cargo.toml Cargo.lock static wit \
  | awk '{print $2}' | cut -d/ -f1-2 | sort -u | paste -sd, - | sed 's/,/, /g')
[ -n "$DIRTY" ] && COMMIT="$COMMIT + uncommitted changes in $DIRTY"
DATE=$(date -u +%Y-%m-%d)
HOST_LIST=$(for h in "${HOSTS[@]}"; do printf '%s, ' "${HOST_NAME[$h]}"; done | sed 's/, $//')

# write_section HEADING TEXT: replaces "## HEADING" in docs/benchmarks.md, up
# to the next "## " heading, keeping a hand-written "### Notes" at its end.
write_section() {
  local doc=docs/benchmarks.md
  [ -f "$doc" ] || printf '# Benchmarks\n' >"$doc"
  python3 - "$doc" "$1" "$2" <<'PY'
import re, sys
path, heading, section = sys.argv[1], sys.argv[2], sys.argv[3].rstrip() + "\n"
text = open(path).read()
pattern = re.compile(r"^## " + re.escape(heading) + r"\n.*?(?=^## |\Z)", re.S | re.M)
m = pattern.search(text)
if m:
    notes = re.search(r"^### Notes\n.*", m.group(0), re.S | re.M)
    if notes:
        section += "\n" + notes.group(0).rstrip() + "\n"
    rest = text[m.end():]
    text = text[:m.start()] + section + ("\n" + rest if rest else "")
else:
    text = text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
  say "Written to $doc (section ## $1)"
}

# ---------------------------------------------------------------- profile mode

# fixed_requests SCRIPT GATEWAY N OUT: exactly N requests over one connection.
# wrk's thread stops after N responses and touches a file; wrk itself only
# ends at -d or SIGINT, so we send it that.
fixed_requests() {
  rm -f "$WORK/done".*
  BENCH_GATEWAY=$2 BENCH_MAX_REQUESTS=$3 BENCH_DONE_FILE="$WORK/done" BENCH_SEED=${SEED:-11} \
    wrk -t1 -c1 -d3600s --timeout 60s -s "scripts/bench/$1.lua" "$BENCH_ORIGIN" >"$4" 2>&1 &
  LOAD_PID=$!
  while [ ! -e "$WORK/done.1" ] && kill -0 "$LOAD_PID" 2>/dev/null; do sleep 0.2; done
  kill -INT "$LOAD_PID" 2>/dev/null
  wait "$LOAD_PID" || die "wrk failed: $(cat "$4")"
  LOAD_PID=""
  grep -q "BENCH_RESULT requests=$3 .* non2xx=0 socket_errors=0" "$4" \
    || die "not $3 clean responses: $(grep BENCH_ "$4")"
}

# cg_control ARGS...: callgrind_control, whose command the process only reads
# while it runs code: keep it busy with health checks (answered by the host,
# no component) until the command is done.
cg_control() {
  callgrind_control "$@" >/dev/null 2>&1 &
  local control=$!
  while kill -0 "$control" 2>/dev/null; do
    curl -fsS -o /dev/null "$BENCH_ORIGIN/.well-known/spin/health" 2>/dev/null || true
    sleep 0.05
  done
  wait "$control" || die "callgrind_control $* failed"
}

if [ -n "$PROFILE" ]; then
  declare -A PARTS
  for entry in "${SCENARIOS[@]}"; do
    IFS='|' read -r id label script gateway ceiling <<<"$entry"
    selected "$id" || continue
    for host in "${HOSTS[@]}"; do
      is_write "$script" && psql_db -f scripts/bench/reset.sql >/dev/null
      say "Scenario $id under ${HOST_NAME[$host]}: $PROFILE requests under callgrind"
      use_host "$host"
      pid=${SERVER_PID[$host]}
      SEED=7 fixed_requests "$script" "$gateway" 20 "$LOGS/$host.$id.warmup.txt"
      cg_control -i on "$pid"
      cg_control -z "$pid"
      fixed_requests "$script" "$gateway" "$PROFILE" "$LOGS/$host.$id.profile.txt"
      cg_control --dump="$host-$id" "$pid"
      cg_control -i off "$pid"
      dump=$(ls -t "$WORK/$host.callgrind.$pid".* | head -n 1)
      PARTS[$host/$id]=$(python3 scripts/bench/callgrind_split.py --machine "$dump")
      # A request costs millions of instructions; far fewer means the counters
      # were not on for the run.
      [[ "${PARTS[$host/$id]}" =~ total=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt $((PROFILE * 100000)) ] \
        || die "callgrind counted almost nothing for scenario $id (${PARTS[$host/$id]})"
      [ -n "$KEEP_LOGS" ] && cp "$dump" "$LOGS/$host.$id.callgrind"
      printf '    %s\n' "${PARTS[$host/$id]}"
    done
  done
  per() { awk -v n="$1" -v r="$PROFILE" 'BEGIN { printf "%.0f", n / r }'; }
  TABLE="| scenario | host | guest wasm (the app) | host code | libc | other libraries | total | app share |
| --- | --- | --: | --: | --: | --: | --: | --: |"
  for id in "${ORDER[@]}"; do
    for host in "${HOSTS[@]}"; do
      [ -n "${PARTS[$host/$id]:-}" ] || continue
      eval "$(echo "${PARTS[$host/$id]}" | tr ' ' '\n' | tr '-' '_' | sed 's/^/p_/')"
      TABLE+=$'\n'"| $id. ${LABEL[$id]} | ${HOST_NAME[$host]} | $(fmt_int "$(per "$p_guest")") | $(fmt_int "$(per "$p_host")") | $(fmt_int "$(per "$p_libc")") | $(fmt_int "$(per "$p_other_libs")") | $(fmt_int "$(per "$p_total")") | $(pct "$p_guest" "$p_total") |"
    done
  done
  SECTION=$(cat <<MD
## Profile

\`BENCH_PROFILE=$PROFILE make bench\`: user-space instructions per request of the
host process (${HOST_LIST}; under valgrind Spin falls back from its instance
pool to on-demand allocation), counted by callgrind over $PROFILE requests per
scenario on one connection, after a 20-request warm-up; the same database and
seed as the API benchmark. By where they ran: the components' wasm (code
wasmtime compiled at start-up, which has no object file), the host binary's
own code (HTTP, wasmtime's runtime, the Postgres client and pool), glibc
(malloc, memcpy) and the other libraries (libgcc's unwinder). Kernel time and
PostgreSQL are not in these counts (see the CPU table of ## API for those).
Instruction counts do not depend on the machine's load.

- Commit: $COMMIT, $DATE

$TABLE
MD
)
  echo
  echo "$SECTION"
  if [ -n "$ONLY" ]; then
    say "BENCH_ONLY is set: docs/benchmarks.md left unchanged"
  else
    write_section Profile "$SECTION"
  fi
  exit 0
fi

# ---------------------------------------------------------------- runs

ESTIMATE=0
for entry in "${SCENARIOS[@]}"; do
  IFS='|' read -r id _ _ _ _ <<<"$entry"
  selected "$id" && ESTIMATE=$((ESTIMATE + ${#HOSTS[@]} * (WARMUP + RUNS * DURATION) + 2))
done
ESTIMATE=$((ESTIMATE + 6 * (WARMUP + RUNS * DURATION)))
[ -n "$IDLE_BOARDS" ] || say "Measuring under ${HOST_LIST}: about $(( (ESTIMATE + 59) / 60 )) min (uptime: $(uptime | sed 's/.*load average/load average/'))"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# rss_reset / rss_peak_kib HOST: the serving process's peak RSS (VmHWM) since
# the reset. RSS_MAX_KIB[HOST]: the highest over the whole run.
declare -A RSS_MAX_KIB
rss_peak_kib() { awk '/^VmHWM/ {print $2}' "/proc/${SERVER_PID[$1]}/status"; }
rss_reset() {
  local kib
  kib=$(rss_peak_kib "$1")
  [ "$kib" -gt "${RSS_MAX_KIB[$1]:-0}" ] && RSS_MAX_KIB[$1]=$kib
  echo 5 >"/proc/${SERVER_PID[$1]}/clear_refs" 2>/dev/null || true
}

# CPU time (user + system, in clock ticks) of a process, and of PostgreSQL
# (the postmaster and all its children: backends, writers, autovacuum).
CLK_TCK=$(getconf CLK_TCK)
PG_PID=$(head -n 1 "$PGDATA_DIR/postmaster.pid")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local total=0 p
  for p in "$PG_PID" $(pgrep -P "$PG_PID"); do total=$((total + $(cpu_ticks "$p"))); done
  echo "$total"
}

# run_wrk SCRIPT GATEWAY SECONDS OUT: one wrk run in the background (so a
# Ctrl-C stops it through the trap).
run_wrk() {
  BENCH_GATEWAY=$2 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3s" --timeout 5s --latency \
    -s "scripts/bench/$1.lua" "$BENCH_ORIGIN" >"$4" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || die "wrk failed: $(cat "$4")"
  LOAD_PID=""
}

# run_pgbench CEILING SECONDS OUT
run_pgbench() {
  local files=()
  if [ "$1" = mix ]; then
    for w in "${MIX_WEIGHTS[@]}"; do files+=(-f "scripts/bench/pg/${w%@*}.sql@${w#*@}"); done
  else
    files=(-f "scripts/bench/pg/$1.sql")
  fi
  pgbench -n -M extended -c "$CONNECTIONS" -j "$THREADS" -T "$2" -D users="$USERS" -D tasks="$TASKS" \
    "${files[@]}" "$DB_URL" >"$3" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || die "pgbench failed: $(tail -n 5 "$3")"
  LOAD_PID=""
}

# ---------------------------------------------------------------- idle boards

if [ -n "$IDLE_BOARDS" ]; then
  # boards_open HOST / boards_close: N idle boards following HOST's change
  # feed with its session cookie (one session for all: a check costs the
  # same for any session — one statement, the session looked up by its key).
  boards_open() {
    node scripts/bench/idle-boards.mjs "${ORIGIN_OF[$1]}" "${COOKIE_OF[$1]}" "$IDLE_BOARDS" >"$WORK/boards.out" 2>&1 &
    BOARDS_PID=$!
    sleep 3 # every board has opened its stream
    kill -0 "$BOARDS_PID" 2>/dev/null || die "the idle boards did not start: $(cat "$WORK/boards.out")"
  }
  # Sets BOARDS_RESULT (the boards' IDLE_RESULT line). Not in a subshell:
  # only this shell can wait for the boards to print it.
  boards_close() {
    kill -TERM "$BOARDS_PID" 2>/dev/null
    wait "$BOARDS_PID" 2>/dev/null
    BOARDS_PID=""
    BOARDS_RESULT=$(grep '^IDLE_RESULT' "$WORK/boards.out") \
      || die "no result from the idle boards: $(cat "$WORK/boards.out")"
  }
  # Transactions PostgreSQL has ended in the app's database (each of the
  # app's statements is one: it runs without BEGIN). Counted by the server
  # at most every second per backend, so a window of tens of seconds is
  # accurate to a few per cent.
  xacts() { psql "$DB_URL" -tAc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
  rss_now_kib() { awk '/^VmRSS/ {print $2}' "/proc/${SERVER_PID[$1]}/status"; }
  # rps_of OUT: the req/s of one wrk run.
  rps_of() { grep '^BENCH_RESULT' "$1" | grep -oE 'rps=[0-9.]+' | cut -d= -f2; }
  median() { printf '%s' "$1" | sort -n | awk '{l[NR]=$0} END {print l[int((NR+1)/2)]}'; }
  # alternate_rps SCRIPT GATEWAY TAG HOST: after a warm-up, RUNS pairs of
  # wrk runs, each without then with the boards open, so that the machine's
  # drift over minutes (the same run moves by 5-10 % from one minute to
  # the next) falls on both sides alike. Sets WITHOUT and WITH, the medians
  # (req/s), CHANGE, the median of the pairs' changes (each pair's runs are
  # a minute apart at most: the fairest comparison), PAIRS, each pair's
  # req/s, and CLIENT_CPU, the boards' own client's CPU during the runs
  # with them (% of a core): on this one machine it takes from the app what
  # browsers elsewhere would not.
  alternate_rps() {
    local run out without="" with="" changes="" a b c0 client=0
    PAIRS=""
    run_wrk "$1" "$2" "$WARMUP" "$LOGS/idle.$3.warmup.txt"
    for run in $(seq 1 "$RUNS"); do
      is_write "$1" && psql_db -f scripts/bench/reset.sql >/dev/null
      out="$LOGS/idle.$3.without.run$run.txt"
      run_wrk "$1" "$2" "$DURATION" "$out"
      b=$(rps_of "$out")
      is_write "$1" && psql_db -f scripts/bench/reset.sql >/dev/null
      boards_open "$4"
      out="$LOGS/idle.$3.with.run$run.txt"
      c0=$(cpu_ticks "$BOARDS_PID")
      run_wrk "$1" "$2" "$DURATION" "$out"
      client=$((client + $(cpu_ticks "$BOARDS_PID") - c0))
      a=$(rps_of "$out")
      boards_close
      without+="$b"$'\n' with+="$a"$'\n' PAIRS+=" $(fmt_int "$b")/$(fmt_int "$a")"
      changes+="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", 100 * (a / b - 1) }')"$'\n'
      sleep 2 # the streams notice their boards have gone (a tick)
    done
    WITHOUT=$(median "$without") WITH=$(median "$with")
    CHANGE=$(median "$changes")
    CLIENT_CPU=$(awk -v t="$client" -v hz="$CLK_TCK" -v s="$((RUNS * DURATION))" \
      'BEGIN { printf "%.0f %% of a core", 100 * t / hz / s }')
  }

  IDLE_ONLY=${ONLY:-"6a 7"}
  IDLE_TABLE="| host | streams open | PostgreSQL transactions/s | per board and second | host process CPU | PostgreSQL CPU | host RSS (peak) | errors |
| --- | --: | --: | --: | --: | --: | --: | --: |"
  API_TABLE="| scenario | host | req/s, no board open | req/s, $IDLE_BOARDS idle boards | change (median of pairs) | boards' client CPU | pairs of runs, req/s without/with |
| --- | --- | --: | --: | --: | --: | --- |"
  say "Measuring $IDLE_BOARDS idle boards under ${HOST_LIST}: about $(( ${#HOSTS[@]} * (IDLE_SECONDS + 10 + $(wc -w <<<"$IDLE_ONLY") * (WARMUP + RUNS * (2 * DURATION + 7))) / 60 + 1 )) min"
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  for host in "${HOSTS[@]}"; do
    use_host "$host"
    say "$IDLE_BOARDS idle boards under ${HOST_NAME[$host]}, alone for $IDLE_SECONDS s"
    rss_reset "$host"
    boards_open "$host"
    app0=$(cpu_ticks "${SERVER_PID[$host]}") pg0=$(pg_ticks) x0=$(xacts)
    sleep "$IDLE_SECONDS"
    app1=$(cpu_ticks "${SERVER_PID[$host]}") pg1=$(pg_ticks) x1=$(xacts)
    rss=$(( $(rss_now_kib "$host") / 1024 )) peak=$(( $(rss_peak_kib "$host") / 1024 ))
    boards_close
    eval "$(echo "$BOARDS_RESULT" | cut -d' ' -f2- | tr ' ' '\n' | sed 's/^/b_/')"
    row=$(awk -v open="$b_open" -v boards="$IDLE_BOARDS" -v x="$((x1 - x0 - 1))" -v w="$IDLE_SECONDS" \
      -v app="$((app1 - app0))" -v pg="$((pg1 - pg0))" -v hz="$CLK_TCK" 'BEGIN {
        qps = x / w;
        printf "%d | %.0f | %.2f | %.1f %% of a core | %.1f %% of a core", open, qps, qps / boards, 100 * app / hz / w, 100 * pg / hz / w }')
    IDLE_TABLE+=$'\n'"| ${HOST_NAME[$host]} | $row | $rss MiB ($peak MiB) | $b_errors |"
    echo "    $row, RSS $rss MiB (peak $peak), errors $b_errors"
  done
  for id in $IDLE_ONLY; do
    entry=$(printf '%s\n' "${SCENARIOS[@]}" | grep "^$id|") || die "no scenario $id"
    IFS='|' read -r id label script gateway _ <<<"$entry"
    for host in "${HOSTS[@]}"; do
      use_host "$host"
      say "Scenario $id under ${HOST_NAME[$host]}, without and with $IDLE_BOARDS idle boards: $label"
      alternate_rps "$script" "$gateway" "$host.$id" "$host"
      change=$(awk -v c="$CHANGE" 'BEGIN { printf "%+.1f %%", c }')
      echo "    $WITHOUT req/s without, $WITH req/s with; change $change (median of pairs); boards' client $CLIENT_CPU; pairs:$PAIRS"
      API_TABLE+=$'\n'"| $id. $label | ${HOST_NAME[$host]} | $(fmt_int "$WITHOUT") | $(fmt_int "$WITH") | $change | $CLIENT_CPU |$PAIRS |"
    done
  done
  LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
  SECTION=$(cat <<MD
## Idle boards

\`BENCH_IDLE_BOARDS=$IDLE_BOARDS make bench\`: $IDLE_BOARDS open boards that nobody touches, each
following the change feed's stream as the UI does (\`GET /api/changes\`,
Server-Sent Events; \`scripts/bench/idle-boards.mjs\`), against one app under
${HOST_LIST}, on the API benchmark's database and seed. First the boards
alone for $IDLE_SECONDS s: streams open at the end, transactions PostgreSQL counted
per second in the app's database (\`xact_commit + xact_rollback\`; every
read is one statement, which the server counts three times: Spin's pool
resets the connection at each checkout — \`CLOSE ALL; … DISCARD
SEQUENCES\` — and the client prepares, then executes; the streams of a
process share their reads of the feed, and each checks its session once a
minute or when some session has ended), CPU time of the
host process and of PostgreSQL (all its processes), and the host process's
RSS. Then the API's throughput, $RUNS pairs of runs of ${DURATION} s each:
without, then with the boards open, pair after pair, so that the machine's
drift (a run moves by 5–10 % from one minute to the next) falls on both
alike; the change is the median of the pairs' changes, and the boards' own
client's CPU time during the runs with them is shown beside it (it shares
the machine with the app; browsers would not). All boards share one
session (a check costs one statement whatever the session).

- Machine: $(nproc) cores ($CPU), $MEM_GIB GiB memory, shared by the load
  generators, the app and the database; load average (1, 5, 15 min)
  $LOAD_BEFORE before, $LOAD_AFTER after.
- Commit: $COMMIT, $DATE

$IDLE_TABLE

$API_TABLE
MD
)
  echo
  echo "$SECTION"
  if [ -n "${BENCH_HOSTS:-}" ] || [ -n "$ONLY" ]; then
    say "BENCH_ONLY or BENCH_HOSTS is set: docs/benchmarks.md left unchanged"
  else
    write_section "Idle boards" "$SECTION"
  fi
  exit 0
fi

# Keyed by "host/id".
declare -A RESULT RUNS_RPS BAD SAMPLE RSS CPU_APP CPU_PG
declare -A CEILING CEILING_RUNS

for entry in "${SCENARIOS[@]}"; do
  IFS='|' read -r id label script gateway ceiling <<<"$entry"
  selected "$id" || continue
  for host in "${HOSTS[@]}"; do
    key=$host/$id
    is_write "$script" && psql_db -f scripts/bench/reset.sql >/dev/null
    : >"$WORK/$host.err" # the components' log lines of the previous scenario
    use_host "$host"

    say "Scenario $id under ${HOST_NAME[$host]}: $label"
    run_wrk "$script" "$gateway" "$WARMUP" "$LOGS/$host.$id.warmup.txt"
    lines=""
    bad=0
    peak=0
    requests=0
    app0=$(cpu_ticks "${SERVER_PID[$host]}")
    pg0=$(pg_ticks)
    for run in $(seq 1 "$RUNS"); do
      out="$LOGS/$host.$id.run$run.txt"
      rss_reset "$host"
      run_wrk "$script" "$gateway" "$DURATION" "$out"
      kib=$(rss_peak_kib "$host")
      [ "$kib" -gt "$peak" ] && peak=$kib
      result=$(grep '^BENCH_RESULT' "$out") || die "no result from wrk: $(cat "$out")"
      eval "$(echo "$result" | cut -d' ' -f2- | tr ' ' '\n' | sed 's/^/r_/')"
      bad=$((bad + r_non2xx + r_socket_errors))
      requests=$((requests + r_requests))
      if [ -z "${SAMPLE[$key]:-}" ]; then
        SAMPLE[$key]=$(sed -n 's/^BENCH_FIRST_ERROR //p' "$out" | head -n 1)
      fi
      printf '    run %s: %8s req/s   p50 %6s ms   p99 %6s ms   non-2xx %s, socket errors %s   RSS %s MiB\n' \
        "$run" "$r_rps" "$r_p50_ms" "$r_p99_ms" "$r_non2xx" "$r_socket_errors" $((kib / 1024))
      lines+="$r_rps $r_p50_ms $r_p99_ms"$'\n'
    done
    # CPU time per request over the runs, in µs (the host process; PostgreSQL).
    CPU_APP[$key]=$(awk -v t="$(($(cpu_ticks "${SERVER_PID[$host]}") - app0))" -v n="$requests" -v hz="$CLK_TCK" \
      'BEGIN { printf "%.0f", (n > 0 ? t / hz * 1e6 / n : 0) }')
    CPU_PG[$key]=$(awk -v t="$(($(pg_ticks) - pg0))" -v n="$requests" -v hz="$CLK_TCK" \
      'BEGIN { printf "%.0f", (n > 0 ? t / hz * 1e6 / n : 0) }')
    printf '    CPU per request: %s µs in the host process, %s µs in PostgreSQL\n' "${CPU_APP[$key]}" "${CPU_PG[$key]}"
    # The median run by throughput (its latencies too).
    RESULT[$key]=$(printf '%s' "$lines" | sort -n -k1,1 | awk '{l[NR]=$0} END {print l[int((NR+1)/2)]}')
    RUNS_RPS[$key]=$(printf '%s' "$lines" | awk '{printf "%s%s", (NR>1?", ":""), $1}')
    BAD[$key]=$bad
    RSS[$key]=$((peak / 1024))
  done

  # The database's ceiling for the same SQL, once per ceiling, on the same data.
  if [ -z "${CEILING[$ceiling]:-}" ]; then
    is_write "$ceiling" && psql_db -f scripts/bench/reset.sql >/dev/null
    say "Ceiling $ceiling: pgbench on the same SQL"
    run_pgbench "$ceiling" "$WARMUP" "$LOGS/pg-$ceiling.warmup.txt"
    tps_lines=""
    for run in $(seq 1 "$RUNS"); do
      out="$LOGS/pg-$ceiling.run$run.txt"
      run_pgbench "$ceiling" "$DURATION" "$out"
      tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")
      lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$out")
      failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
      [ -n "$tps" ] || die "no tps from pgbench: $(cat "$out")"
      [ "${failed:-0}" -eq 0 ] || die "pgbench had $failed failed transactions: $(cat "$out")"
      printf '    run %s: %8s tx/s   latency average %s ms\n' "$run" "$tps" "$lat"
      tps_lines+="$tps"$'\n'
    done
    CEILING[$ceiling]=$(printf '%s' "$tps_lines" | sort -n | awk '{l[NR]=$0} END {printf "%.1f", l[int((NR+1)/2)]}')
    CEILING_RUNS[$ceiling]=$(printf '%s' "$tps_lines" | awk '{printf "%s%.1f", (NR>1?", ":""), $1}')
  fi
done

for host in "${HOSTS[@]}"; do rss_reset "$host"; done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

rps_of() { local r; read -r r _ <<<"${RESULT[$1]}"; echo "$r"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' && echo 1 || echo 0; }
FIRST=${HOSTS[0]}

# The side-by-side table: per host req/s, p50, p99; then the ratio of the
# first host (Spin when present) to the runner, errors, peak RSS, the ceiling.
HEAD="| scenario |"
RULE="| --- |"
for host in "${HOSTS[@]}"; do
  HEAD+=" ${HOST_NAME[$host]}: req/s | p50 | p99 |"
  RULE+=" --: | --: | --: |"
done
[ "${#HOSTS[@]}" -gt 1 ] && { HEAD+=" ${HOST_NAME[$FIRST]} ÷ runner |"; RULE+=" --: |"; }
SLASHED=$(for h in "${HOSTS[@]}"; do printf '%s / ' "${HOST_NAME[$h]}"; done | sed 's# / $##')
HEAD+=" errors ($SLASHED) | peak RSS ($SLASHED) | DB ceiling (pgbench tx/s) | ${HOST_NAME[$FIRST]} of ceiling |"
RULE+=" --: | --: | --: | --: |"
TABLE="$HEAD"$'\n'"$RULE"
CPU_TABLE="| scenario |"
CPU_RULE="| --- |"
for host in "${HOSTS[@]}"; do
  CPU_TABLE+=" ${HOST_NAME[$host]}: host process | PostgreSQL |"
  CPU_RULE+=" --: | --: |"
done
CPU_TABLE+=$'\n'"$CPU_RULE"
RUNS_LIST=""
for id in "${ORDER[@]}"; do
  [ -n "${RESULT[$FIRST/$id]:-}" ] || continue
  row="| $id. ${LABEL[$id]} |"
  cpu_row="| $id. |"
  errors="" rss=""
  for host in "${HOSTS[@]}"; do
    read -r rps p50 p99 <<<"${RESULT[$host/$id]}"
    row+=" $(fmt_int "$rps") | $p50 ms | $p99 ms |"
    cpu_row+=" ${CPU_APP[$host/$id]} µs | ${CPU_PG[$host/$id]} µs |"
    errors+="${errors:+ / }${BAD[$host/$id]}"
    rss+="${rss:+ / }${RSS[$host/$id]}"
    RUNS_LIST+="- $id, ${HOST_NAME[$host]}: ${RUNS_RPS[$host/$id]} req/s"$'\n'
  done
  [ "${#HOSTS[@]}" -gt 1 ] && row+=" $(pct "$(rps_of "$FIRST/$id")" "$(rps_of "runner/$id")") |"
  c=${CEILING[${CEILING_OF[$id]}]}
  row+=" $errors | $rss MiB | $(fmt_int "$c") | $(pct "$(rps_of "$FIRST/$id")" "$c") |"
  TABLE+=$'\n'"$row"
  CPU_TABLE+=$'\n'"$cpu_row"
done

# Targets, each with its verdict under each host.
TARGETS=""
# target TEXT then "host ok value" lines on stdin
target() {
  local text=$1 host ok value verdicts=""
  while read -r host ok value; do
    verdicts+="${verdicts:+; }${HOST_NAME[$host]}: $([ "$ok" = 1 ] && echo "met" || echo "**missed**") ($value)"
  done
  TARGETS+="- $text — $verdicts"$'\n'
}
for pair in "1 3000" "2 1500" "3 1000"; do
  read -r id min <<<"$pair"
  [ -n "${RESULT[$FIRST/$id]:-}" ] || continue
  target "scenario $id ≥ $(fmt_int "$min") req/s" < <(for host in "${HOSTS[@]}"; do
    echo "$host $(ge "$(rps_of "$host/$id")" "$min") $(fmt_int "$(rps_of "$host/$id")")"
  done)
done
P99_LINES="" ERROR_LINES="" RSS_LINES=""
for host in "${HOSTS[@]}"; do
  worst_p99=0 worst_id="" errors=0 max_rss=0
  for id in "${ORDER[@]}"; do
    [ -n "${RESULT[$host/$id]:-}" ] || continue
    read -r _ _ p99 <<<"${RESULT[$host/$id]}"
    if [ "$(ge "$p99" "$worst_p99")" = 1 ]; then worst_p99=$p99; worst_id=$id; fi
    errors=$((errors + BAD[$host/$id]))
    [ "${RSS[$host/$id]}" -gt "$max_rss" ] && max_rss=${RSS[$host/$id]}
  done
  P99_LINES+="$host $(ge 20 "$worst_p99") worst $worst_p99 ms, scenario $worst_id"$'\n'
  ERROR_LINES+="$host $([ "$errors" -eq 0 ] && echo 1 || echo 0) $errors"$'\n'
  RSS_LINES+="$host $(ge 190 "$((RSS_MAX_KIB[$host] / 1024))") $((RSS_MAX_KIB[$host] / 1024)) MiB"$'\n'
done
if [ -n "$P99_LINES" ]; then
  target "p99 ≤ 20 ms on every scenario" <<<"${P99_LINES%$'\n'}"
  target "zero errors (non-2xx or socket errors in all runs)" <<<"${ERROR_LINES%$'\n'}"
  target "peak RSS of the serving process ≤ 200 MB" <<<"${RSS_LINES%$'\n'}"
fi
for id in 1 4; do # the scenarios that issue one SQL statement
  [ -n "${RESULT[$FIRST/$id]:-}" ] || continue
  c=${CEILING[${CEILING_OF[$id]}]}
  target "scenario $id (one SQL statement) ≥ 50 % of the pgbench ceiling" < <(for host in "${HOSTS[@]}"; do
    echo "$host $(ge "$(awk -v a="$(rps_of "$host/$id")" -v b="$c" 'BEGIN {print a / b}')" 0.5) $(pct "$(rps_of "$host/$id")" "$c")"
  done)
done

CEILINGS=""
for c in list_tasks get_task create_task create_user patch_task mix; do
  [ -n "${CEILING[$c]:-}" ] || continue
  what="\`scripts/bench/pg/$c.sql\`"
  [ "$c" = mix ] && what="the five, weighted as the mix"
  CEILINGS+="- $what: ${CEILING_RUNS[$c]} tx/s"$'\n'
done

if [[ " ${HOSTS[*]} " == *" spin "* ]]; then
  SPIN_LINE="- Hosts: **Spin $SPIN_VERSION** (\`$(basename "$SPIN") up -f spin.toml -L \"\"\`), the version
  SpinKube's containerd shim runs, so its column is what SpinKube users get;
  and the project's runner (\`runner up --quiet\`, a test and development
  host). Both forward the components' log lines (one JSON line per request)
  to a file, as a container runtime does; the hosts take turns scenario by
  scenario, the other one idle."
else
  SPIN_LINE="- Host: the project's runner only (\`runner up --quiet\`; no Spin was found:
  set SPIN_BIN). SpinKube runs Spin 3.6.3, which is slower than the runner
  (see the notes): these figures overstate what SpinKube users get."
fi

SECTION=$(cat <<MD
## API

\`make bench\` (\`scripts/bench.sh\`): release build, the app under ${HOST_LIST}, a throwaway
PostgreSQL $PG_VERSION seeded with $(fmt_int "$USERS") users and $(fmt_int "$TASKS") tasks (30 % todo, 20 % in
progress, 50 % done, spread evenly over the users), then VACUUM ANALYZE. wrk,
$THREADS threads, $CONNECTIONS connections, $RUNS runs of ${DURATION} s per scenario and host after a ${WARMUP} s
warm-up; the median run by throughput (its p50 and p99 too). Load generator,
app and database share the machine's cores.

$SPIN_LINE
- Machine: $(nproc) cores ($CPU), $MEM_GIB GiB memory; load average (1, 5,
  15 min) $LOAD_BEFORE before the runs, $LOAD_AFTER after. The machine is
  shared: req/s and latencies are only comparable between runs taken at a
  low load; the CPU per request and the instruction counts (## Profile) much less
  depend on it.
- Commit: $COMMIT, $DATE
- PostgreSQL: durable (\`fsync\`, \`synchronous_commit\` and \`full_page_writes\`
  on), \`shared_buffers\` 512MB, \`max_wal_size\` 8GB and \`checkpoint_timeout\`
  30min (no checkpoint during a run), autovacuum on. Data the benchmark wrote is
  deleted (and the tables vacuumed) before each write scenario and host.
- Errors: responses outside 2xx (counted by the Lua \`response()\` hook) plus
  socket errors and timeouts, over all runs. Peak RSS: the serving process's
  VmHWM (\`spin trigger http\` for Spin) during the scenario's runs (reset before
  each run).
- DB ceiling: the SQL the scenario issues (from \`components/*/src/store.rs\`),
  run by pgbench (\`-M extended -c $CONNECTIONS -j $THREADS\`, scripts in
  \`scripts/bench/pg/\`, random ids of the seeded data) on the same database; one
  pgbench transaction = the statements of one request. Gateway scenarios (6)
  issue the same SQL as their direct counterparts.
- Direct calls carry \`Authorization: Bearer <api_token>\`; gateway calls (6,
  and half of 7) carry the session cookie from \`POST /auth/login\` and, on
  writes, the app's own \`Origin\`, as the browser does (the token never
  reaches the browser).

$TABLE

CPU time per request (user + system, from \`/proc/<pid>/stat\`, over the
scenario's runs): the host process, and PostgreSQL (all its processes).

$CPU_TABLE

All runs:
$RUNS_LIST
Database ceilings, all runs:
$CEILINGS
Targets (2 cores shared by app, load generator and database):
$TARGETS
MD
)

echo
echo "$SECTION"
for key in "${!SAMPLE[@]}"; do
  [ -n "${SAMPLE[$key]}" ] && echo "First error response, $key: ${SAMPLE[$key]}"
done

if [ -n "$ONLY" ] || [ -n "${BENCH_HOSTS:-}" ]; then
  say "BENCH_ONLY or BENCH_HOSTS is set: docs/benchmarks.md left unchanged"
  exit 0
fi
write_section API "$SECTION"
