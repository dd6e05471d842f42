#!/bin/sh
# Restores a dump written by backup.sh into DATABASE_URL, replacing what is
# there: every object of the dump is dropped (if present) and recreated, in
# one transaction, so a failed restore leaves the database as it was.
# Run as the database owner, with the apps stopped (docs/deploy.md, "Restore").
# Tested with a throwaway PostgreSQL by tests/tests/backup.rs.
#
# usage: restore.sh DATABASE_URL DUMP_FILE
set -eu
url="${1:?usage: restore.sh DATABASE_URL DUMP_FILE}"
file="${2:?usage: restore.sh DATABASE_URL DUMP_FILE}"

pg_restore --clean --if-exists --single-transaction --exit-on-error --dbname="$url" "$file"
echo "restored $file"
