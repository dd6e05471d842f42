#!/usr/bin/env bash
# Benchmarks the runner (release build) with wrk: (a) a trivial component
# request, (b) a request doing one Postgres query on a throwaway cluster.
# Writes the "## Runner" section of docs/benchmarks.md (other sections kept).
#
#   scripts/bench-runner.sh            # 3 runs of 10 s per scenario
#   RUNS=1 DURATION=5s scripts/bench-runner.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=16
THREADS=2

ensure_rust_target
ensure_pg_harness
ensure_apt wrk wrk
ensure_apt curl curl
ensure_apt python3 python3

say "Building the runner and its test components (release)"
cargo build --quiet --release -p runner
scripts/build-test-components.sh >/dev/null

WORK=$(mktemp -d /tmp/runner-bench-XXXXXX)
RUNNER_PID=""
cleanup() {
    [ -n "$RUNNER_PID" ] && kill "$RUNNER_PID" 2>/dev/null && wait "$RUNNER_PID" 2>/dev/null || true
    pg_harness stop --dir "$WORK/data" --immediate >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

say "Starting a throwaway PostgreSQL"
# The server's user (postgres, when root) must reach the data directory.
if is_root; then chown postgres: "$WORK"; fi
DB_URL=$(pg_harness start --dir "$WORK/data" --throwaway --set max_connections=200 --stop-with $$) \
    || die "PostgreSQL did not start: $(tail -n 5 "$WORK/data/server.log" 2>/dev/null)"

say "Starting the runner"
PORT=$(free_port)
target/release/runner up -f runner/tests/fixtures/bench.toml --listen "127.0.0.1:$PORT" --quiet \
    --variable "db_url=$DB_URL" --variable "db_host=$(url_host "$DB_URL")" >"$WORK/runner.log" 2>&1 &
RUNNER_PID=$!
for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$PORT/.well-known/spin/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/" >/dev/null
curl -fsS -H "x-probe: pg:select-one" "http://127.0.0.1:$PORT/" | grep -q 'Int32(1)' \
    || { cat "$WORK/runner.log"; die "pg probe failed"; }

# wrk's --latency output → "rps p50 p99" (latencies in ms).
parse() {
    awk '
    function ms(v) { if (v ~ /us$/) { sub(/us$/,"",v); return v/1000 }
                     if (v ~ /ms$/) { sub(/ms$/,"",v); return v+0 }
                     if (v ~ /s$/)  { sub(/s$/,"",v);  return v*1000 } return v }
    $1=="50%" { p50=ms($2) } $1=="99%" { p99=ms($2) }
    $1=="Requests/sec:" { rps=$2 }
    /Non-2xx or 3xx responses/ { bad=$NF }
    END { printf "%s %s %s %s\n", rps, p50, p99, (bad==""?0:bad) }'
}

declare -A RESULTS
run_scenario() { # name header
    local name=$1 header=$2 i
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s ${header:+-H "$header"} "http://127.0.0.1:$PORT/" >/dev/null # warm-up
    for i in $(seq 1 "$RUNS"); do
        local line
        line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency ${header:+-H "$header"} \
            "http://127.0.0.1:$PORT/" | parse)
        echo "   $name run $i: $line (req/s p50ms p99ms non2xx)"
        RESULTS[$name]+="$line;"
    done
}

say "(a) trivial component"
run_scenario trivial ""
say "(b) one Postgres query"
run_scenario postgres "x-probe: pg:select-one"

RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$RUNNER_PID/status")

summary() { # name → "median-rps p50 p99 non2xx" over runs (median by rps)
    echo "${RESULTS[$1]}" | tr ';' '\n' | sed '/^$/d' | sort -n -k1 | awk '
        { l[NR]=$0 } END { print l[int((NR+1)/2)] }'
}
read -r A_RPS A_P50 A_P99 A_BAD <<<"$(summary trivial)"
read -r B_RPS B_P50 B_P99 B_BAD <<<"$(summary postgres)"
all_runs() { echo "${RESULTS[$1]}" | tr ';' '\n' | sed '/^$/d' | awk '{printf "%s%s", (NR>1?", ":""), $1}'; }

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
MEM=$(free -g | awk '/Mem:/ {print $2 " GiB"}')
COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet -- runner wit || echo "+dirty")
DATE=$(date -u +%Y-%m-%d)

SECTION=$(cat <<MD
## Runner

\`scripts/bench-runner.sh\` (release build, request logging off, guest output dropped):
wrk, $THREADS threads, $CONNECTIONS connections, $RUNS runs of $DURATION per scenario, on the
same machine as the runner and PostgreSQL 15. Median run by throughput.

- Machine: $(nproc) cores ($CPU), $MEM memory
- Commit: $COMMIT, $DATE

| scenario | req/s (median) | p50 | p99 | all runs, req/s | target |
| --- | --- | --- | --- | --- | --- |
| (a) trivial component (echo, one variable read) | $A_RPS | ${A_P50} ms | ${A_P99} ms | $(all_runs trivial) | ≥ 8,000 req/s |
| (b) one Postgres query (\`SELECT 1\`, pooled) | $B_RPS | ${B_P50} ms | ${B_P99} ms | $(all_runs postgres) | ≥ 3,000 req/s, p99 < 10 ms |

Peak RSS of the runner (VmHWM) after all runs: $((RSS_KB / 1024)) MiB (target < 150 MB).
Non-2xx responses: (a) $A_BAD, (b) $B_BAD.
MD
)

DOC=docs/benchmarks.md
mkdir -p docs
[ -f "$DOC" ] || printf '# Benchmarks\n' >"$DOC"
# Replace only our section: from "## Runner" up to the next "## " heading.
python3 - "$DOC" "$SECTION" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read()
pattern = re.compile(r"^## Runner\n.*?(?=^## |\Z)", re.S | re.M)
extra = ""
m = pattern.search(text)
if m:
    # Keep hand-written notes under "### Notes" in our section.
    notes = re.search(r"^### Notes\n.*", m.group(0), re.S | re.M)
    if notes:
        extra = "\n" + notes.group(0).rstrip() + "\n"
    text = text[:m.start()] + section + extra + ("\n" if text[m.end():] else "") + text[m.end():]
else:
    text = text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
say "Written to $DOC"
echo "$SECTION"
