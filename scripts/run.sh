#!/usr/bin/env bash
# `make run`: builds MicroTaskHub, provides a database, and starts the app.
#
#   - PostgreSQL: a local server whose data lives in .local/pgdata (kept between
#     runs), unless DATABASE_URL points at one; migrations are applied.
#   - Secrets: generated once into .local/secrets.env (git-ignored).
#   - The app: under `spin up` when the Spin CLI is installed, else under the
#     project's runner (runner/), listening on $LISTEN (default 127.0.0.1:3000).
# Ctrl-C stops the app and the database this script started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

LISTEN="${LISTEN:-127.0.0.1:3000}"
DB_PORT="${DB_PORT:-54329}"
LOCAL="$ROOT/.local"
PGDATA_DIR="$LOCAL/pgdata"
mkdir -p "$LOCAL"

ensure_rust_target
ensure_apt curl curl
build_components
if command -v spin >/dev/null 2>&1; then
  # --state-dir "": Spin's `default` key-value store (a cache) in memory,
  # as SpinKube keeps it; the component logs stay where `spin up` puts them.
  RUN=(spin up -f spin.toml --listen "$LISTEN" --state-dir "" --log-dir "$ROOT/.spin/logs")
else
  say "Building the runner (the Spin CLI is not installed)"
  cargo build --quiet --release -p runner
  RUN=("$ROOT/target/release/runner" up -f spin.toml --listen "$LISTEN")
fi

started_db=""
stop_db() {
  if [ -n "$started_db" ]; then
    say "Stopping PostgreSQL"
    pg_harness stop --dir "$PGDATA_DIR" || true
  fi
}
app_pid=""
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$app_pid" ]; then kill -TERM "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  stop_db
}
trap cleanup INT TERM EXIT

if [ -n "${DATABASE_URL:-}" ]; then
  say "Using the database at DATABASE_URL"
  db_url="$DATABASE_URL"
else
  ensure_pg_harness
  # Durable (the data is kept), and left running if it already was: only a
  # server this script started is stopped on the way out.
  if pg_harness url --dir "$PGDATA_DIR" >/dev/null 2>&1; then
    say "PostgreSQL is already running (.local/pgdata)"
  else
    [ -f "$PGDATA_DIR/PG_VERSION" ] || say "Creating a local PostgreSQL cluster in .local/pgdata"
    say "Starting PostgreSQL on 127.0.0.1:$DB_PORT"
    started_db=1
  fi
  db_url=$(pg_harness start --dir "$PGDATA_DIR" --port "$DB_PORT" --database microtaskhub) \
    || die "PostgreSQL did not start; see .local/pgdata/server.log"
fi
db_host=$(url_host "$db_url")

say "Applying migrations"
sh migrations/migrate.sh "$db_url"

if [ ! -f "$LOCAL/secrets.env" ]; then
  say "Generating local secrets in .local/secrets.env"
  umask 077
  {
    echo "UI_USERNAME=admin@example.com"
    echo "UI_PASSWORD=$(random_secret | head -c 16)"
    echo "API_TOKEN=$(random_secret)"
    echo "SESSION_SECRET=$(random_secret)"
  } > "$LOCAL/secrets.env"
fi
. "$LOCAL/secrets.env"

# Variables reach Spin and the runner through the environment, so secrets do
# not show up in the process list.
export SPIN_VARIABLE_DATABASE_URL="$db_url" SPIN_VARIABLE_DATABASE_HOST="$db_host" \
  SPIN_VARIABLE_API_TOKEN="$API_TOKEN" SPIN_VARIABLE_UI_USERNAME="$UI_USERNAME" \
  SPIN_VARIABLE_UI_PASSWORD="$UI_PASSWORD" SPIN_VARIABLE_SESSION_SECRET="$SESSION_SECRET"

say "Starting MicroTaskHub: ${RUN[*]}"
"${RUN[@]}" &
app_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://$LISTEN/.well-known/spin/health" >/dev/null 2>&1 && break
  kill -0 "$app_pid" 2>/dev/null || die "the app exited during start-up (see above)"
  sleep 0.2
done
cat <<MSG

  MicroTaskHub is running at  http://$LISTEN/
  Sign in with                email: $UI_USERNAME   password: $UI_PASSWORD
                              (the first admin; invite the team from the Team page)
  API access                  sign in, open Account (http://$LISTEN/account), create a
                              personal API token (your password again, an expiry), then
                              curl -H "Authorization: Bearer mth_pat_…" http://$LISTEN/tasks
  Stop with                   Ctrl-C

MSG
wait "$app_pid"
