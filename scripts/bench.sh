#!/usr/bin/env bash
# `make bench`: the API benchmark. Measures the whole stack (runner, the three
# components, PostgreSQL) with wrk, and the database's own ceiling for the
# same SQL with pgbench, and writes the "## API" section of docs/benchmarks.md
# (other sections are kept).
#
#   1. builds the components and the runner (release);
#   2. starts a throwaway PostgreSQL (initdb in a temp dir, free port; as the
#      postgres user when root), durable (fsync, synchronous_commit on) and
#      tuned for the run (see PG_SETTINGS below), applies the migrations and
#      seeds BENCH_USERS users and BENCH_TASKS tasks (scripts/bench/seed.sql);
#   3. starts the app under the runner (--quiet; the components' JSON log lines
#      go to /dev/null) and signs in to the frontend for a session cookie;
#   4. runs each scenario with wrk (2 threads, 16 connections, Lua scripts in
#      scripts/bench/) after a warm-up, BENCH_RUNS times, and the SQL the
#      scenario issues with pgbench (scripts/bench/pg/, same concurrency);
#   5. prints the table (medians by throughput) and writes it to the doc.
#
# Environment:
#   BENCH_DURATION=10   seconds per run (wrk and pgbench)
#   BENCH_RUNS=3        runs per scenario; the median run (by req/s) is reported
#   BENCH_WARMUP=2      seconds of warm-up before each scenario (not reported)
#   BENCH_USERS=1000    seeded users
#   BENCH_TASKS=100000  seeded tasks
#   BENCH_ONLY="1 6a"   run only these scenarios (ids as in the table); a partial
#                       run prints its table but does not touch the doc
#   BENCH_KEEP_LOGS=1   keep wrk/pgbench outputs and the app's stderr in
#                       .local/bench/ (always kept there when a step fails)
#
# Everything it starts (runner, PostgreSQL, wrk, pgbench) is stopped and the
# temp dir removed on exit, failure or Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

DURATION=${BENCH_DURATION:-10}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-2}
USERS=${BENCH_USERS:-1000}
TASKS=${BENCH_TASKS:-100000}
ONLY=${BENCH_ONLY:-}
THREADS=2
CONNECTIONS=16
for n in "$DURATION" "$RUNS" "$WARMUP" "$USERS" "$TASKS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "BENCH_DURATION, BENCH_RUNS, BENCH_WARMUP, BENCH_USERS and BENCH_TASKS are whole numbers (got '$n')"
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

# PostgreSQL for the run. Durable as a production server would be (every
# commit waits for its WAL flush; full-page writes), with memory sized for the
# data and checkpoints pushed out of the runs; autovacuum stays on.
PG_SETTINGS=(
  "max_connections = 200"          # the runner's pool (64) + pgbench (16) + psql
  "shared_buffers = 512MB"         # the whole data set stays in memory
  "effective_cache_size = 4GB"
  "work_mem = 8MB"
  "maintenance_work_mem = 256MB"
  "random_page_cost = 1.1"         # SSD-backed
  "fsync = on"
  "synchronous_commit = on"
  "full_page_writes = on"
  "wal_buffers = 16MB"
  "max_wal_size = 8GB"             # no checkpoint forced by WAL volume mid-run
  "checkpoint_timeout = 30min"
  "log_min_messages = warning"
)

# ---------------------------------------------------------------- set-up

say "Checking prerequisites"
ensure_rust_target
ensure_postgres
ensure_apt pgbench postgresql-client
ensure_apt wrk wrk
ensure_apt curl curl
ensure_apt python3 python3

build_components
say "Building the runner (release)"
cargo build --quiet --release -p runner

WORK=$(mktemp -d /tmp/mth-bench-XXXXXX)
chmod 755 "$WORK"
PGDATA_DIR="$WORK/pgdata"
LOGS="$ROOT/.local/bench"
rm -rf "$LOGS"
mkdir -p "$LOGS" "$WORK/data"
APP_PID=""
LOAD_PID=""
PG_STARTED=""
KEEP_LOGS=${BENCH_KEEP_LOGS:-}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
    kill -TERM "$LOAD_PID" 2>/dev/null
    wait "$LOAD_PID" 2>/dev/null
  fi
  if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
    say "Stopping the app"
    kill -TERM "$APP_PID" 2>/dev/null
    for _ in $(seq 1 70); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$APP_PID" 2>/dev/null
    wait "$APP_PID" 2>/dev/null
  fi
  [ -f "$WORK/app.err" ] && cp "$WORK/app.err" "$LOGS/app.stderr.log"
  if [ -n "$PG_STARTED" ]; then
    say "Stopping PostgreSQL"
    [ -f "$PGDATA_DIR/server.log" ] && cp "$PGDATA_DIR/server.log" "$LOGS/postgres.log"
    as_postgres pg_ctl stop -D "$PGDATA_DIR" -m fast --wait --silent >/dev/null 2>&1 \
      || as_postgres pg_ctl stop -D "$PGDATA_DIR" -m immediate --wait --silent >/dev/null 2>&1
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

say "Starting a throwaway PostgreSQL"
PG_PORT=$(free_port)
mkdir -p "$PGDATA_DIR"
if is_root; then chown postgres:postgres "$PGDATA_DIR"; fi
chmod 700 "$PGDATA_DIR"
as_postgres initdb --auth=trust --username=postgres --encoding=UTF8 --no-sync -D "$PGDATA_DIR" >/dev/null
{
  printf '\n# scripts/bench.sh\n'
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" "$PG_PORT" "$PGDATA_DIR"
  printf '%s\n' "${PG_SETTINGS[@]}"
} | as_postgres tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
as_postgres pg_ctl start -D "$PGDATA_DIR" --wait --silent -l "$PGDATA_DIR/server.log" \
  || die "PostgreSQL did not start: $(tail -n 5 "$PGDATA_DIR/server.log" 2>/dev/null)"
PG_STARTED=1
PG_VERSION=$(psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -tAc 'SHOW server_version' | cut -d' ' -f1)
psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qc "CREATE DATABASE microtaskhub"
DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/microtaskhub"
psql_db() { psql "$DB_URL" --no-psqlrc -q -v ON_ERROR_STOP=1 -v users="$USERS" -v tasks="$TASKS" "$@"; }

say "Applying migrations"
sh migrations/migrate.sh "$DB_URL"

say "Seeding $USERS users and $TASKS tasks"
psql_db -f scripts/bench/seed.sql >/dev/null
psql_db -tAc "COPY (SELECT md5('user-' || n)::uuid FROM generate_series(1, $USERS) n) TO STDOUT" >"$WORK/data/users.txt"
psql_db -tAc "COPY (SELECT md5('task-' || n)::uuid FROM generate_series(1, $TASKS) n) TO STDOUT" >"$WORK/data/tasks.txt"
[ "$(wc -l <"$WORK/data/tasks.txt")" -eq "$TASKS" ] || die "seeding failed"

say "Starting the app under the runner"
APP_PORT=$(free_port)
ORIGIN="http://127.0.0.1:$APP_PORT"
API_TOKEN=$(random_secret)
UI_PASSWORD=$(random_secret | head -c 16)
# Variables through the environment, as scripts/run.sh does.
SPIN_VARIABLE_DATABASE_URL="$DB_URL" SPIN_VARIABLE_DATABASE_HOST="127.0.0.1:$PG_PORT" \
SPIN_VARIABLE_API_TOKEN="$API_TOKEN" SPIN_VARIABLE_UI_USERNAME=admin \
SPIN_VARIABLE_UI_PASSWORD="$UI_PASSWORD" SPIN_VARIABLE_SESSION_SECRET="$(random_secret)" \
  target/release/runner up -f spin.toml --listen "127.0.0.1:$APP_PORT" --quiet \
  >/dev/null 2>"$WORK/app.err" &
APP_PID=$!
for _ in $(seq 1 300); do
  curl -fsS "$ORIGIN/.well-known/spin/health" >/dev/null 2>&1 && break
  kill -0 "$APP_PID" 2>/dev/null || die "the app exited during start-up: $(tail -n 20 "$WORK/app.err")"
  sleep 0.1
done
curl -fsS "$ORIGIN/tasks/health" >/dev/null || die "task-service is not healthy: $(tail -n 20 "$WORK/app.err")"

COOKIE=$(curl -fsS -D - -o /dev/null -H "Origin: $ORIGIN" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$UI_PASSWORD\"}" "$ORIGIN/auth/login" \
  | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -n 1)
[ -n "$COOKIE" ] || die "signing in to the frontend gave no session cookie"

export BENCH_LUA_DIR="$ROOT/scripts/bench" BENCH_DATA="$WORK/data" BENCH_API_TOKEN="$API_TOKEN" \
  BENCH_COOKIE="$COOKIE" BENCH_ORIGIN="$ORIGIN"

# One request of each kind, directly and through the gateway, must succeed
# before anything is measured.
say "Checking each call once"
for script in list_tasks get_task create_task create_user patch_task; do
  for gw in 0 1; do
    BENCH_GATEWAY=$gw wrk -t1 -c1 -d1s -s "scripts/bench/$script.lua" "$ORIGIN" >"$WORK/check.out" 2>&1 \
      || die "wrk failed on $script: $(cat "$WORK/check.out")"
    grep -q 'BENCH_RESULT .* non2xx=0 socket_errors=0' "$WORK/check.out" \
      || die "$script (gateway=$gw) does not succeed: $(grep BENCH_ "$WORK/check.out")"
  done
done
psql_db -f scripts/bench/reset.sql >/dev/null

# ---------------------------------------------------------------- runs

# rss_reset / rss_peak_kib: the runner's peak RSS (VmHWM) since the reset.
# RSS_MAX_KIB: the highest VmHWM read over the whole run (read before each reset).
RSS_MAX_KIB=0
rss_peak_kib() { awk '/^VmHWM/ {print $2}' "/proc/$APP_PID/status"; }
rss_reset() {
  local kib
  kib=$(rss_peak_kib)
  [ "$kib" -gt "$RSS_MAX_KIB" ] && RSS_MAX_KIB=$kib
  echo 5 >"/proc/$APP_PID/clear_refs" 2>/dev/null || true
}

# run_wrk SCRIPT GATEWAY SECONDS OUT: one wrk run in the background (so a
# Ctrl-C stops it through the trap).
run_wrk() {
  BENCH_GATEWAY=$2 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3s" --timeout 5s --latency \
    -s "scripts/bench/$1.lua" "$ORIGIN" >"$4" 2>&1 &
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

declare -A LABEL RESULT RUNS_RPS CEILING CEILING_RUNS CEILING_OF BAD SAMPLE RSS
is_write() { [[ "$1" == create_* || "$1" == patch_* || "$1" == mix ]]; }

for entry in "${SCENARIOS[@]}"; do
  IFS='|' read -r id label script gateway ceiling <<<"$entry"
  LABEL[$id]=$label
  CEILING_OF[$id]=$ceiling
  selected "$id" || continue
  is_write "$script" && psql_db -f scripts/bench/reset.sql >/dev/null

  say "Scenario $id: $label"
  run_wrk "$script" "$gateway" "$WARMUP" "$LOGS/$id.warmup.txt"
  lines=""
  bad=0
  peak=0
  for run in $(seq 1 "$RUNS"); do
    out="$LOGS/$id.run$run.txt"
    rss_reset
    run_wrk "$script" "$gateway" "$DURATION" "$out"
    kib=$(rss_peak_kib)
    [ "$kib" -gt "$peak" ] && peak=$kib
    result=$(grep '^BENCH_RESULT' "$out") || die "no result from wrk: $(cat "$out")"
    eval "$(echo "$result" | cut -d' ' -f2- | tr ' ' '\n' | sed 's/^/r_/')"
    bad=$((bad + r_non2xx + r_socket_errors))
    if [ -z "${SAMPLE[$id]:-}" ]; then
      SAMPLE[$id]=$(sed -n 's/^BENCH_FIRST_ERROR //p' "$out" | head -n 1)
    fi
    printf '    run %s: %8s req/s   p50 %6s ms   p99 %6s ms   non-2xx %s, socket errors %s   RSS %s MiB\n' \
      "$run" "$r_rps" "$r_p50_ms" "$r_p99_ms" "$r_non2xx" "$r_socket_errors" $((kib / 1024))
    lines+="$r_rps $r_p50_ms $r_p99_ms"$'\n'
  done
  # The median run by throughput (its latencies too).
  RESULT[$id]=$(printf '%s' "$lines" | sort -n -k1,1 | awk '{l[NR]=$0} END {print l[int((NR+1)/2)]}')
  RUNS_RPS[$id]=$(printf '%s' "$lines" | awk '{printf "%s%s", (NR>1?", ":""), $1}')
  BAD[$id]=$bad
  RSS[$id]=$((peak / 1024))

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

rss_reset
RSS_TOTAL_MIB=$((RSS_MAX_KIB / 1024))

# ---------------------------------------------------------------- report

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
MEM_GIB=$(awk '/^MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
COMMIT=$(git rev-parse --short HEAD)
DIRTY=$(git status --porcelain -- components crates runner migrations spin.toml Cargo.lock static wit \
  | awk '{print $2}' | cut -d/ -f1-2 | sort -u | paste -sd, - | sed 's/,/, /g')
[ -n "$DIRTY" ] && COMMIT="$COMMIT + uncommitted changes in $DIRTY"
DATE=$(date -u +%Y-%m-%d)

fmt_int() { printf '%.0f' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "–" }'; }

TABLE="| scenario | req/s (median) | p50 | p99 | errors | peak RSS | DB ceiling (pgbench tx/s) | of ceiling | all runs, req/s |
| --- | --: | --: | --: | --: | --: | --: | --: | --- |"
for id in "${ORDER[@]}"; do
  [ -n "${RESULT[$id]:-}" ] || continue
  read -r rps p50 p99 <<<"${RESULT[$id]}"
  c=${CEILING[${CEILING_OF[$id]}]}
  TABLE+=$'\n'"| $id. ${LABEL[$id]} | $(fmt_int "$rps") | $p50 ms | $p99 ms | ${BAD[$id]} | ${RSS[$id]} MiB | $(fmt_int "$c") | $(pct "$rps" "$c") | ${RUNS_RPS[$id]} |"
done

# Targets, each with its verdict.
TARGETS=""
target() { # text ok
  TARGETS+="- $( [ "$2" = 1 ] && echo "met" || echo "**missed**"): $1"$'\n'
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' && echo 1 || echo 0; }
rps_of() { read -r r _ <<<"${RESULT[$1]}"; echo "$r"; }
for pair in "1 3000" "2 1500" "3 1000"; do
  read -r id min <<<"$pair"
  [ -n "${RESULT[$id]:-}" ] && target "scenario $id ≥ $(fmt_int "$min") req/s ($(fmt_int "$(rps_of "$id")"))" "$(ge "$(rps_of "$id")" "$min")"
done
worst_p99=0; worst_id=""; errors=0; max_rss=0
for id in "${ORDER[@]}"; do
  [ -n "${RESULT[$id]:-}" ] || continue
  read -r _ _ p99 <<<"${RESULT[$id]}"
  if [ "$(ge "$p99" "$worst_p99")" = 1 ]; then worst_p99=$p99; worst_id=$id; fi
  errors=$((errors + BAD[$id]))
  [ "${RSS[$id]}" -gt "$max_rss" ] && max_rss=${RSS[$id]}
done
if [ -n "$worst_id" ]; then
  target "p99 ≤ 20 ms on every scenario (worst: $worst_p99 ms, scenario $worst_id)" "$(ge 20 "$worst_p99")"
  target "zero errors (non-2xx or socket errors in all runs: $errors)" "$([ "$errors" -eq 0 ] && echo 1 || echo 0)"
  target "peak RSS of the runner ≤ 200 MB (highest in a scenario: $max_rss MiB; whole run: $RSS_TOTAL_MIB MiB)" "$(ge 190 "$RSS_TOTAL_MIB")"
fi
for id in 1 4; do # the scenarios that issue one SQL statement
  [ -n "${RESULT[$id]:-}" ] || continue
  c=${CEILING[${CEILING_OF[$id]}]}
  target "scenario $id (one SQL statement) ≥ 50 % of the pgbench ceiling ($(pct "$(rps_of "$id")" "$c"))" \
    "$(ge "$(awk -v a="$(rps_of "$id")" -v b="$c" 'BEGIN {print a / b}')" 0.5)"
done

CEILINGS=""
for c in list_tasks get_task create_task create_user patch_task mix; do
  [ -n "${CEILING[$c]:-}" ] || continue
  what="\`scripts/bench/pg/$c.sql\`"
  [ "$c" = mix ] && what="the five, weighted as the mix"
  CEILINGS+="- $what: ${CEILING_RUNS[$c]} tx/s"$'\n'
done

SECTION=$(cat <<MD
## API

\`make bench\` (\`scripts/bench.sh\`): release build, the app under the runner
(\`--quiet\`, the components' JSON log lines to /dev/null), a throwaway
PostgreSQL $PG_VERSION seeded with $(fmt_int "$USERS") users and $(fmt_int "$TASKS") tasks (30 % todo, 20 % in
progress, 50 % done, spread evenly over the users), then VACUUM ANALYZE. wrk,
$THREADS threads, $CONNECTIONS connections, $RUNS runs of ${DURATION} s per scenario after a ${WARMUP} s
warm-up; the median run by throughput (its p50 and p99 too). Load generator,
app and database share the machine's cores.

- Machine: $(nproc) cores ($CPU), $MEM_GIB GiB memory
- Commit: $COMMIT, $DATE
- PostgreSQL: durable (\`fsync\`, \`synchronous_commit\` and \`full_page_writes\`
  on), \`shared_buffers\` 512MB, \`max_wal_size\` 8GB and \`checkpoint_timeout\`
  30min (no checkpoint during a run), autovacuum on. Data the benchmark wrote is
  deleted (and the tables vacuumed) before each write scenario.
- Errors: responses outside 2xx (counted by the Lua \`response()\` hook) plus
  socket errors and timeouts, over all runs. Peak RSS: the runner's VmHWM
  during the scenario's runs (reset before each run).
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

Peak RSS of the runner over the whole run: $RSS_TOTAL_MIB MiB.

Database ceilings, all runs:
$CEILINGS
Targets (2 cores shared by app, load generator and database):
$TARGETS
MD
)

echo
echo "$SECTION"
[ -n "$(printf '%s' "${SAMPLE[*]:-}" | tr -d ' ')" ] && {
  echo; echo "First error response per scenario:"
  for id in "${ORDER[@]}"; do [ -n "${SAMPLE[$id]:-}" ] && echo "  $id: ${SAMPLE[$id]}"; done
}

if [ -n "$ONLY" ]; then
  say "BENCH_ONLY is set: docs/benchmarks.md left unchanged"
  exit 0
fi
DOC=docs/benchmarks.md
[ -f "$DOC" ] || printf '# Benchmarks\n' >"$DOC"
# Replace only our section, from "## API" up to the next "## " heading; a
# hand-written "### Notes" subsection at its end is kept.
python3 - "$DOC" "$SECTION" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read()
pattern = re.compile(r"^## API\n.*?(?=^## |\Z)", re.S | re.M)
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
say "Written to $DOC (section ## API)"
