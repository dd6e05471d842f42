#!/usr/bin/env bash
# with-app.sh COMMAND...: runs COMMAND against the real app, started the way
# a developer starts it: a throwaway PostgreSQL (`pg-harness start
# --throwaway` in a temporary directory, free port, trust auth),
# migrations/migrate.sh, and `runner up -f spin.toml` with test variables --
# or, with MTH_TEST_HOST=spin (or SPIN_BIN set and MTH_TEST_HOST unset), a real
# `$SPIN_BIN up -f spin.toml` (`spin` from the PATH when SPIN_BIN is unset),
# or, with MTH_TEST_HOST=spinkube, SpinKube's own engine through
# `$SPINKUBE_BIN up -f spin.toml` (spinkube-node: containerd with
# containerd-shim-spin; needs root).
# COMMAND finds the app in MTH_URL, the first admin in MTH_USERNAME and
# MTH_PASSWORD, and its host in HOST. The app's log goes to
# $APP_ARTIFACTS/app.log (default .local/app-artifacts). With APP_WITH_IDP=1,
# the app signs people in with an OpenID Connect provider too: oidc-provider
# from npm (tests/browser/idp.mjs) at MTH_IDP_URL. COMMAND may restart the
# app: `kill -USR1 $MTH_APP_SUPERVISOR`, then wait for a new line in
# $MTH_APP_RESTARTS (tests/browser/live.test.mjs). Everything started
# here is stopped and deleted on exit, failed or not; the exit status is
# COMMAND's. Used by the browser tests (tests/browser/run.sh) and the fuzzer
# (tests/fuzz/run.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/lib.sh

ARTIFACTS="${APP_ARTIFACTS:-$ROOT/.local/app-artifacts}"
mkdir -p "$ARTIFACTS"
ensure_apt curl curl
ensure_apt python3 python3
ensure_pg_harness

# The host: the same rules as the API suite (tests/src/host.rs).
case "${MTH_TEST_HOST:-}" in
  runner) HOST=runner ;;
  spin) HOST=spin; SPIN="${SPIN_BIN:-$(command -v spin || true)}"
        [ -n "$SPIN" ] || die "MTH_TEST_HOST=spin, but SPIN_BIN is unset and no spin is on the PATH" ;;
  spinkube) HOST=spinkube; SPIN="${SPINKUBE_BIN:-}"
        [ -n "$SPIN" ] || die "MTH_TEST_HOST=spinkube, but SPINKUBE_BIN is unset"
        is_root || die "MTH_TEST_HOST=spinkube needs root (it runs the app under containerd)"
        ensure_containerd ;;
  "") if [ -n "${SPIN_BIN:-}" ]; then HOST=spin; SPIN="$SPIN_BIN"; else HOST=runner; fi ;;
  *) die "MTH_TEST_HOST=$MTH_TEST_HOST: expected runner, spin or spinkube" ;;
esac

say "Building the components (the app runs under $HOST)"
build_components
if [ "$HOST" = runner ]; then cargo build --quiet -p runner; fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mth-app.XXXXXX")"
PGDATA_DIR="$TMP/pgdata"
app_pid=""
idp_pid=""
db_started=""
stop_app() {
  if [ -n "$app_pid" ]; then
    if [ "${HOST:-}" = spin ]; then kill -TERM -- "-$app_pid" 2>/dev/null || true; fi
    # spinkube-node removes its container on SIGTERM (a SIGKILL would leave
    # it running); wait lets it finish.
    kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
  fi
}
command_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM USR1
  if [ -n "$command_pid" ]; then kill -TERM "$command_pid" 2>/dev/null || true; fi
  stop_app
  if [ -n "$idp_pid" ]; then
    kill -TERM "$idp_pid" 2>/dev/null || true
    wait "$idp_pid" 2>/dev/null || true
  fi
  if [ -n "$db_started" ]; then
    pg_harness stop --dir "$PGDATA_DIR" --immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "Starting a throwaway PostgreSQL"
# The server's user (postgres, when root) must reach the data directory.
if is_root; then chown postgres:postgres "$TMP"; fi
db_started=1
DB_URL=$(pg_harness start --dir "$PGDATA_DIR" --throwaway --database microtaskhub --stop-with $$) \
  || { cat "$PGDATA_DIR/server.log" >&2 2>/dev/null; die "PostgreSQL did not start"; }
DB_HOST=$(url_host "$DB_URL")
sh migrations/migrate.sh "$DB_URL" >/dev/null

APP_PORT="$(free_port)"
export MTH_URL="http://127.0.0.1:$APP_PORT"

OIDC_VARIABLES=()
IDP_SECRET=""
if [ "${APP_WITH_IDP:-}" = 1 ]; then
  # The tests add the provider's accounts (tests/browser/idp.mjs).
  ensure_test_node_packages
  IDP_PORT="$(free_port)"
  export MTH_IDP_URL="http://127.0.0.1:$IDP_PORT"
  IDP_SECRET="$(random_secret)"
  say "Starting the identity provider on $MTH_IDP_URL"
  IDP_CONFIG="{\"port\": $IDP_PORT, \"client_id\": \"microtaskhub\", \"client_secret\": \"$IDP_SECRET\",
    \"redirect_uris\": [\"$MTH_URL/auth/oidc/callback\"], \"alg\": \"ES256\", \"accounts\": []}" \
    node tests/browser/idp.mjs >"$ARTIFACTS/idp.log" 2>&1 &
  idp_pid=$!
  for _ in $(seq 1 150); do
    curl -fsS "$MTH_IDP_URL/.well-known/openid-configuration" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "$MTH_IDP_URL/.well-known/openid-configuration" >/dev/null \
    || { cat "$ARTIFACTS/idp.log" >&2; die "the identity provider did not start"; }
  OIDC_VARIABLES=(--variable "oidc_issuer=$MTH_IDP_URL" --variable "oidc_client_id=microtaskhub"
    --variable "oidc_provider_name=Test IdP" --variable "oidc_outbound_host=$MTH_IDP_URL")
fi
export MTH_USERNAME="admin@example.com"
MTH_PASSWORD="$(random_secret | head -c 20)"
export MTH_PASSWORD
# Secrets travel in the environment (SPIN_VARIABLE_*), not on the command
# line, so they do not show up in the process list.
export SPIN_VARIABLE_DATABASE_URL="$DB_URL" SPIN_VARIABLE_API_TOKEN="$(random_secret)" \
  SPIN_VARIABLE_UI_PASSWORD="$MTH_PASSWORD" SPIN_VARIABLE_SESSION_SECRET="$(random_secret)" \
  SPIN_VARIABLE_OIDC_CLIENT_SECRET="$IDP_SECRET"

# Starts the app (app_pid) and waits until it answers /health.
start_app() {
  say "Starting the app on $MTH_URL under $HOST"
  if [ "$HOST" = runner ]; then
    target/debug/runner up -f spin.toml --listen "127.0.0.1:$APP_PORT" \
      --variable "database_host=$DB_HOST" --variable "ui_username=$MTH_USERNAME" ${OIDC_VARIABLES[@]+"${OIDC_VARIABLES[@]}"} \
      >>"$ARTIFACTS/app.log" 2>&1 &
  elif [ "$HOST" = spinkube ]; then
    # spinkube-node hands the container only the variables given as
    # --variable, not the SPIN_VARIABLE_* of its own environment: here the
    # secrets must go on the command line. They are throwaway ones, made for
    # this run only. (It has no --log-dir: the shim logs to its output.)
    "$SPIN" up -f spin.toml --listen "127.0.0.1:$APP_PORT" \
      --variable "database_host=$DB_HOST" --variable "ui_username=$MTH_USERNAME" \
      --variable "database_url=$SPIN_VARIABLE_DATABASE_URL" --variable "api_token=$SPIN_VARIABLE_API_TOKEN" \
      --variable "ui_password=$SPIN_VARIABLE_UI_PASSWORD" --variable "session_secret=$SPIN_VARIABLE_SESSION_SECRET" \
      --variable "oidc_client_secret=$IDP_SECRET" ${OIDC_VARIABLES[@]+"${OIDC_VARIABLES[@]}"} \
      >>"$ARTIFACTS/app.log" 2>&1 &
  else
    # Its own process group (setsid), so the cleanup stops `spin up` and the
    # `spin trigger http` it starts; component logs stay out of the repo,
    # and so does the `spinup-*` directory it unpacks the app into (in
    # TMPDIR: removed with $TMP even if Spin is killed).
    mkdir -p "$TMP/spin-tmp"
    # --state-dir "": the `default` key-value store in memory, as SpinKube
    # keeps it (see tests/src/host.rs).
    TMPDIR="$TMP/spin-tmp" setsid "$SPIN" up -f spin.toml --listen "127.0.0.1:$APP_PORT" --log-dir "$TMP/spin-logs" --state-dir "" \
      --variable "database_host=$DB_HOST" --variable "ui_username=$MTH_USERNAME" ${OIDC_VARIABLES[@]+"${OIDC_VARIABLES[@]}"} \
      >>"$ARTIFACTS/app.log" 2>&1 &
  fi
  app_pid=$!
  # Spin compiles the components first: allow up to 3 minutes on a busy machine.
  for _ in $(seq 1 900); do
    curl -fsS "$MTH_URL/health" >/dev/null 2>&1 && break
    if ! kill -0 "$app_pid" 2>/dev/null; then
      cat "$ARTIFACTS/app.log" >&2
      die "the app exited during start-up"
    fi
    sleep 0.2
  done
  curl -fsS "$MTH_URL/health" >/dev/null || { cat "$ARTIFACTS/app.log" >&2; die "the app did not answer /health"; }
}
# `kill -USR1 $MTH_APP_SUPERVISOR` (a test): the app stops and starts again,
# on the same port and database; then a line is added to $MTH_APP_RESTARTS.
restart_app() {
  say "Restarting the app"
  stop_app
  start_app
  echo restarted >>"$MTH_APP_RESTARTS"
}
export MTH_APP_SUPERVISOR=$$ MTH_APP_RESTARTS="$TMP/restarts"
: >"$MTH_APP_RESTARTS"
: >"$ARTIFACTS/app.log"
start_app
trap restart_app USR1

export HOST
# In the background, so that a restart (a trap) runs while it goes on; wait
# returns early for a trap, and then is waited on again. Its input stays
# this script's (a background command's would be /dev/null).
"$@" <&0 &
command_pid=$!
while :; do
  status=0
  wait "$command_pid" || status=$?
  kill -0 "$command_pid" 2>/dev/null || break
done
command_pid=""
exit "$status"

