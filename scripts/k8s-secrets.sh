#!/usr/bin/env bash
# Generates the Secrets of a Kubernetes overlay with random values:
#   OVERLAY/secrets/postgres.env  database owner (user, password, database) and
#                                 the application role's password (app_password)
#   OVERLAY/secrets/app.env       database_url (as the application role),
#                                 api_token, ui_username, ui_password, session_secret
# The files are git-ignored (k8s/overlays/*/secrets/); nothing known is ever
# committed. An existing file is kept unless --force is given: Postgres takes
# the owner password only when it first initialises its volume
# (docs/deploy.md, "Rotating secrets").
#
# usage: scripts/k8s-secrets.sh OVERLAY_DIR [--force]
#   e.g. scripts/k8s-secrets.sh k8s/overlays/prod
set -euo pipefail
overlay="${1:?usage: scripts/k8s-secrets.sh OVERLAY_DIR [--force]}"
force="${2:-}"
[[ -f "$overlay/kustomization.yaml" ]] || { echo "$overlay is not a kustomize overlay" >&2; exit 1; }
dir="$overlay/secrets"
if [[ -e "$dir/app.env" || -e "$dir/postgres.env" ]] && [[ "$force" != "--force" ]]; then
  echo "$dir already holds secrets; pass --force to replace them" >&2
  exit 1
fi

# Hex: no character needs escaping in a URL or an env file. Lengths: 32 random
# bytes (64 hex characters) for the token and the session key, 24 characters
# for the UI password (the app refuses less than 32 bytes / 12 characters).
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
owner_password=$(hex 24)
app_password=$(hex 24)

umask 077
mkdir -p "$dir"
cat >"$dir/postgres.env" <<ENV
user=microtaskhub
password=$owner_password
database=microtaskhub
app_password=$app_password
ENV
cat >"$dir/app.env" <<ENV
database_url=postgres://microtaskhub_app:$app_password@postgres:5432/microtaskhub
api_token=$(hex 32)
ui_username=admin
ui_password=$(hex 12)
session_secret=$(hex 32)
ENV
echo "wrote $dir/postgres.env and $dir/app.env (sign in as admin, password: grep ui_password $dir/app.env)"
