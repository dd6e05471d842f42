#!/usr/bin/env bash
# Generates the Secrets of a Kubernetes overlay with random values:
#   OVERLAY/secrets/postgres.env  database owner (user, password, database) and
#                                 the application role's password (app_password)
#   OVERLAY/secrets/app.env       database_url (as the application role, for all
#                                 three SpinApps), api_token, and the first admin:
#                                 ui_username (an email) and ui_password
# The files are git-ignored (k8s/overlays/*/secrets/); nothing known is ever
# committed. An existing file is kept unless --force is given: Postgres takes
# the owner password only when it first initialises its volume
# (docs/deploy.md, "Rotating secrets").
#
# The first admin's email: --admin-email EMAIL, else admin@ the host the
# overlay's Ingress patch sets, else admin@example.com. Signing in with it and
# ui_password creates that admin while no admin has a password.
#
# usage: scripts/k8s-secrets.sh OVERLAY_DIR [--force] [--admin-email EMAIL]
#   e.g. scripts/k8s-secrets.sh k8s/overlays/prod --admin-email ops@example.org
set -euo pipefail
usage="usage: scripts/k8s-secrets.sh OVERLAY_DIR [--force] [--admin-email EMAIL]"
overlay="${1:?$usage}"
shift
force=""
admin_email=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) force=1; shift ;;
    --admin-email) admin_email="${2:?$usage}"; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[[ -f "$overlay/kustomization.yaml" ]] || { echo "$overlay is not a kustomize overlay" >&2; exit 1; }
if [[ -z "$admin_email" ]]; then
  # The value after the patch's "path: /spec/rules/0/host" line.
  host=$(awk '/path: \/spec\/rules\/0\/host/ { getline; if ($1 == "value:") { print $2; exit } }' \
    "$overlay/kustomization.yaml")
  admin_email="admin@${host:-example.com}"
fi
# One line of an env file, shaped like an email (the sign-in form asks for one).
if ! [[ "$admin_email" =~ ^[^[:space:]@]+@[^[:space:]@]+\.[^[:space:]@]+$ ]]; then
  echo "--admin-email: $admin_email is not an email address" >&2
  exit 2
fi
dir="$overlay/secrets"
if [[ -e "$dir/app.env" || -e "$dir/postgres.env" ]] && [[ -z "$force" ]]; then
  echo "$dir already holds secrets; pass --force to replace them" >&2
  exit 1
fi

# Hex: no character needs escaping in a URL or an env file. Lengths: 32 random
# bytes (64 hex characters) for the token, 24 characters for the first
# admin's password (the app refuses less than 32 bytes / 12 characters).
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
ui_username=$admin_email
ui_password=$(hex 12)
ENV
echo "wrote $dir/postgres.env and $dir/app.env (first sign-in as $admin_email, password: grep ui_password $dir/app.env)"
