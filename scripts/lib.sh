# Shared by the project's scripts (source it): progress output and idempotent
# installation of what the scripts need. Installs only what is missing.

_LIB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# ensure_rust_target: the wasm32-wasip2 target the components are built for.
ensure_rust_target() {
  command -v cargo >/dev/null || die "cargo is not installed (install Rust with rustup)"
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    say "Installing the Rust target wasm32-wasip2"
    rustup target add wasm32-wasip2
  fi
}

_apt_updated=""
# ensure_apt COMMAND PACKAGE: installs Debian's PACKAGE when COMMAND is missing.
ensure_apt() {
  local cmd=$1 package=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if is_root && command -v apt-get >/dev/null; then
    say "Installing $package (Debian package)"
    if [ -z "$_apt_updated" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
      _apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
    command -v "$cmd" >/dev/null 2>&1 || die "installed $package but '$cmd' is still not on PATH"
  else
    die "'$cmd' is missing: install the Debian package '$package' (sudo apt-get install $package)"
  fi
}

# ensure_postgres: the server binaries (initdb, pg_ctl) and psql.
# containerd for SpinKube's node (../shared/tools/spinkube-node), started
# once, in a session of its own. The node starts one itself when none runs,
# but inside its own process group: the test harness stops an app by killing
# that group, which then took containerd down under every other app of the
# run ("connection refused" on containerd.sock). Started here, it outlives
# every app, and the node finds it running.
ensure_containerd() {
  ensure_apt containerd containerd
  if ! ctr version >/dev/null 2>&1; then
    local cache="${XDG_CACHE_HOME:-$HOME/.cache}/spinkube-node"
    mkdir -p "$cache/bin"
    # The node's shim lives in $cache/bin; containerd looks for it on its PATH.
    PATH="$cache/bin:$PATH" setsid nohup containerd >>"$cache/containerd.log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 300); do
      ctr version >/dev/null 2>&1 && break
      [ "$i" -lt 300 ] || die "containerd did not start within 60 s (see $cache/containerd.log)"
      sleep 0.2
    done
  fi
  # Containers left by nodes that were killed outright (named app-<pid>-…):
  # a node that meets one it cannot remove exits at once, without a word.
  local c pid
  for c in $(ctr -n spinkube-node container ls -q 2>/dev/null); do
    pid=${c#app-}; pid=${pid%%-*}
    kill -0 "$pid" 2>/dev/null && continue
    ctr -n spinkube-node task kill -s SIGKILL "$c" >/dev/null 2>&1 || true
    ctr -n spinkube-node task delete --force "$c" >/dev/null 2>&1 || true
    ctr -n spinkube-node container rm "$c" >/dev/null 2>&1 || true
  done
}

ensure_postgres() {
  if ! command -v initdb >/dev/null 2>&1; then
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$bin" ] || ensure_apt initdb postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$bin" ] && export PATH="$bin:$PATH"
  fi
  command -v initdb >/dev/null || die "PostgreSQL's initdb not found: install the Debian package 'postgresql'"
  ensure_apt psql postgresql-client
}

# random_secret: 32 random bytes, URL-safe.
# find_spin: the Spin CLI the benchmarks measure, if this machine has one —
# $SPIN_BIN, else `spin` on the PATH, else ../shared/tools/spin next to the
# repo; nothing (and the caller says it skips Spin) otherwise.
find_spin() {
  if [ -n "${SPIN_BIN:-}" ]; then
    [ -x "$SPIN_BIN" ] || command -v "$SPIN_BIN" >/dev/null || die "SPIN_BIN=$SPIN_BIN is not an executable"
    echo "$SPIN_BIN"
  elif command -v spin >/dev/null 2>&1; then
    command -v spin
  elif [ -x "$_LIB_ROOT/../shared/tools/spin" ]; then
    echo "$(cd "$_LIB_ROOT/../shared/tools" && pwd)/spin"
  fi
}

random_secret() {
  head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

# free_port: a TCP port on 127.0.0.1 that is free now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# url_host URL: host:port of postgres://user:pw@host:port/db (port 5432 if
# none), as allowed_outbound_hosts (the database_host variable) wants it.
url_host() {
  local host
  host=$(printf '%s' "$1" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#')
  case "$host" in *:*) echo "$host" ;; *) echo "$host:5432" ;; esac
}

# build_components: the three components, release .wasm, as spin.toml's
# manifest loads them. The one definition of this build: the Makefile, the
# scripts and the Rust tests' hints all point here.
build_components() {
  say "Building the components (wasm32-wasip2, release)"
  cargo build --quiet --target wasm32-wasip2 --release -p frontend -p user-service -p task-service
}

# ensure_pg_harness: PostgreSQL and the pg-harness command (crates/pg-harness),
# the project's one way to run PostgreSQL: the same code the Rust tests start
# their servers with.
ensure_pg_harness() {
  ensure_postgres
  cargo build --quiet -p pg-harness || die "could not build pg-harness (crates/pg-harness)"
}

# ensure_test_node_packages: the npm packages the tests use, pinned in
# tests/browser/package-lock.json — playwright-core (the browser tests),
# axe-core (their accessibility scan) and oidc-provider (the identity
# provider of the browser and API tests) —
# installed with `npm ci` when one is missing or the lock file changed.
ensure_test_node_packages() {
  local dir="$_LIB_ROOT/tests/browser"
  if [ ! -d "$dir/node_modules/playwright-core" ] || [ ! -d "$dir/node_modules/oidc-provider" ] \
    || [ ! -d "$dir/node_modules/axe-core" ] \
    || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "Installing the test packages (npm ci in tests/browser)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in tests/browser"
  fi
}

# pg_harness start|stop|url --dir DIR ...: see `target/debug/pg-harness --help`.
pg_harness() {
  "$_LIB_ROOT/target/debug/pg-harness" "$@"
}
