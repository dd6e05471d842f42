#!/bin/sh
# Applies migrations/NNNN_*.sql in order, each once, tracked in schema_migrations.
# One psql session holds an advisory lock for the whole run, so two runs (two
# developers, two Job pods) cannot interleave. Used by `make run`, the test
# harness and the Kubernetes migration Job alike.
#
# usage: migrate.sh DATABASE_URL [MIGRATIONS_DIR]
set -eu
url="${1:?usage: migrate.sh DATABASE_URL [MIGRATIONS_DIR]}"
dir="${2:-$(dirname "$0")}"

script=$(mktemp)
trap 'rm -f "$script"' EXIT
{
  # printf, not echo: dash's echo would interpret the backslashes of psql's
  # meta-commands.
  printf '%s\n' "SELECT pg_advisory_lock(7277001);"
  printf '%s\n' "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'));"
  for file in "$dir"/[0-9]*.sql; do
    [ -e "$file" ] || continue
    version=$(basename "$file" .sql)
    printf '%s\n' \
      "SELECT NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '$version') AS pending \\gset" \
      "\\if :pending" \
      "\\echo applying $version" \
      "BEGIN;" \
      "\\i '$file'" \
      "INSERT INTO schema_migrations (version) VALUES ('$version');" \
      "COMMIT;" \
      "\\endif"
  done
  printf '%s\n' "SELECT pg_advisory_unlock(7277001);"
} > "$script"

psql "$url" --quiet --no-psqlrc -v ON_ERROR_STOP=1 --tuples-only --output=/dev/null -f "$script"
