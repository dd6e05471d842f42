#!/bin/sh
# One logical backup: pg_dump in its custom format (compressed, restorable
# object by object with pg_restore) into DIR, named by its UTC time, written
# under a temporary name first so that a half-written dump is never taken
# for a backup; then only the KEEP newest dumps are kept.
# Run by the backup CronJob (cronjob.yaml); tested with a throwaway
# PostgreSQL by tests/tests/backup.rs.
#
# usage: backup.sh DATABASE_URL DIR [KEEP]
set -eu
url="${1:?usage: backup.sh DATABASE_URL DIR [KEEP]}"
dir="${2:?usage: backup.sh DATABASE_URL DIR [KEEP]}"
keep="${3:-14}"

file="$dir/microtaskhub-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --file="$file.partial" "$url"
mv "$file.partial" "$file"
echo "wrote $file ($(wc -c < "$file") bytes)"

# Names sort by time; drop all but the newest $keep.
ls -1 "$dir"/microtaskhub-*.dump | sort -r | tail -n +"$((keep + 1))" | while read -r old; do
  rm -f -- "$old"
  echo "removed $old"
done
