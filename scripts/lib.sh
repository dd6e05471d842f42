# Shared by the project's scripts (source it): progress output and idempotent
# installation of what the scripts need. Installs only what is missing.

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

# as_postgres CMD...: PostgreSQL refuses to run as root; run it as the
# 'postgres' user the Debian package creates.
as_postgres() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# random_secret: 32 random bytes, URL-safe.
random_secret() {
  head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

# build_app [--debug]: the three components (always release .wasm) and the runner.
build_components() {
  say "Building the components (wasm32-wasip2, release)"
  cargo build --quiet --target wasm32-wasip2 --release -p frontend -p user-service -p task-service
}
