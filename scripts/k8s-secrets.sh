#!/usr/bin/env bash
# Generates and rotates the Secrets of a Kubernetes overlay, one file per
# credential, so that rotating one never touches the others:
#   OVERLAY/secrets/owner.env         the database owner (username, password)
#   OVERLAY/secrets/app-role.env      the application role microtaskhub_app (username, password)
#   OVERLAY/secrets/app.env           the SpinApps' variables: database_url (as the
#                                     application role), api_token, api_token_previous
#                                     (empty unless a rotation is under way), the
#                                     first admin: ui_username (an email) and ui_password,
#                                     and oidc_client_secret (the identity provider's client
#                                     secret, from OIDC_CLIENT_SECRET; empty: no provider)
#   OVERLAY/secrets/object-store.env  the backup bucket's keys (overlays that back up to
#                                     object storage): from OBJECT_STORE_ACCESS_KEY_ID and
#                                     OBJECT_STORE_SECRET_ACCESS_KEY
#   OVERLAY/secrets/registry.json     pull credentials of a private registry (overlays that
#                                     use components/private-registry): --registry SERVER
#                                     --registry-user USER, the token from REGISTRY_PASSWORD
# The files are git-ignored (k8s/overlays/*/secrets/); nothing known is ever
# committed. An existing file is never overwritten: the first run generates
# what is missing, --rotate replaces one credential (docs/deploy.md, "Rotating secrets").
#
# usage: scripts/k8s-secrets.sh OVERLAY_DIR [--admin-email EMAIL] [--registry SERVER --registry-user USER]
#        scripts/k8s-secrets.sh OVERLAY_DIR --rotate api_token|app_password|owner_password|ui_password
set -euo pipefail
usage="usage: scripts/k8s-secrets.sh OVERLAY_DIR [--admin-email EMAIL] [--registry SERVER --registry-user USER] | --rotate NAME"
overlay="${1:?$usage}"
shift
admin_email="" rotate="" registry="" registry_user=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --admin-email) admin_email="${2:?$usage}"; shift 2 ;;
    --rotate) rotate="${2:?$usage}"; shift 2 ;;
    --registry) registry="${2:?$usage}"; shift 2 ;;
    --registry-user) registry_user="${2:?$usage}"; shift 2 ;;
    --force) echo "--force is gone: it replaced every credential at once. Use --rotate NAME (docs/deploy.md)." >&2; exit 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
kustomization="$overlay/kustomization.yaml"
[[ -f "$kustomization" ]] || { echo "$overlay is not a kustomize overlay" >&2; exit 1; }
dir="$overlay/secrets"
umask 077
mkdir -p "$dir"

# Hex: no character needs escaping in a URL or an env file. 24 random bytes
# (48 hex characters) per password, 32 (64) for the token; the first admin's
# password has 24 characters (the app refuses less than 32 bytes / 12 characters).
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
get() { sed -n "s/^$2=//p" "$dir/$1"; }                     # get FILE KEY
set_value() { sed -i "s|^$2=.*|$2=$3|" "$dir/$1"; }          # set_value FILE KEY VALUE (hex, or a URL of hex)
uses() { grep -q "secrets/$1" "$kustomization"; }            # does the overlay read this file?

rotate_one() {
  case "$1" in
    api_token)
      # Three applies, each after the previous rollout has finished: the
      # services accept api_token and api_token_previous, and send api_token.
      local step
      step=$(sed -n 's/^# api_token rotation: //p' "$dir/app.env")
      case "$step" in
        "")
          set_value app.env api_token_previous "$(hex 32)"
          echo "# api_token rotation: accept" >>"$dir/app.env"
          echo "api_token rotation 1/3: the services now also accept a new token (api_token_previous). Apply, wait for the rollout, then run --rotate api_token again." ;;
        accept)
          local old new
          old=$(get app.env api_token); new=$(get app.env api_token_previous)
          set_value app.env api_token "$new"; set_value app.env api_token_previous "$old"
          sed -i 's/^# api_token rotation: accept$/# api_token rotation: switch/' "$dir/app.env"
          echo "api_token rotation 2/3: every component now sends the new token; the old one is still accepted. Apply, wait for the rollout, then run --rotate api_token once more." ;;
        switch)
          set_value app.env api_token_previous ""
          sed -i '/^# api_token rotation: /d' "$dir/app.env"
          echo "api_token rotation 3/3: the old token is no longer accepted. Apply." ;;
      esac ;;
    app_password)
      local new url
      new=$(hex 24)
      url=$(get app.env database_url)
      set_value app-role.env password "$new"
      set_value app.env database_url "$(printf '%s' "$url" | sed "s|^\(postgres://[^:]*:\)[^@]*@|\1$new@|")"
      echo "rotated the application role's password (app-role.env and database_url in app.env). Apply: the role gets it (CloudNativePG at once; the StatefulSet's migration Job when it runs) and the SpinApps roll." ;;
    owner_password)
      set_value owner.env password "$(hex 24)"
      if grep -q 'components/cloudnative-pg' "$kustomization"; then
        echo "rotated the database owner's password (owner.env). Apply: CloudNativePG sets it in the database."
      else
        echo "rotated the database owner's password (owner.env). Postgres reads it only when it initialises its volume: set it in the database first, then apply:"
        echo "  sed -n 's/^password=//p' $dir/owner.env | { read -r p; printf \"ALTER ROLE microtaskhub PASSWORD '%s';\\n\" \"\$p\"; } | kubectl -n NAMESPACE exec -i statefulset/postgres -- psql -q -U microtaskhub -d microtaskhub"
      fi ;;
    ui_password)
      set_value app.env ui_password "$(hex 12)"
      echo "rotated ui_password (app.env). It signs in the first admin only while no admin has a password (docs/deploy.md, \"The first admin\")." ;;
    *) echo "--rotate: unknown credential $1 (api_token, app_password, owner_password, ui_password)" >&2; exit 2 ;;
  esac
}

if [[ -n "$rotate" ]]; then
  [[ -f "$dir/app.env" && -f "$dir/owner.env" && -f "$dir/app-role.env" ]] \
    || { echo "$dir holds no generated secrets yet: run without --rotate first" >&2; exit 1; }
  grep -q '^api_token_previous=' "$dir/app.env" || echo "api_token_previous=" >>"$dir/app.env"
  rotate_one "$rotate"
  exit 0
fi

# Secrets of a release before one file per credential (postgres.env holding
# user, password, database and app_password): keep their values.
if [[ -f "$dir/postgres.env" && ! -e "$dir/owner.env" ]]; then
  old() { sed -n "s/^$1=//p" "$dir/postgres.env"; }
  printf 'username=%s\npassword=%s\n' "$(old user)" "$(old password)" >"$dir/owner.env"
  printf 'username=microtaskhub_app\npassword=%s\n' "$(old app_password)" >"$dir/app-role.env"
  grep -q '^api_token_previous=' "$dir/app.env" || echo "api_token_previous=" >>"$dir/app.env"
  rm -f "$dir/postgres.env"
  echo "converted $dir/postgres.env into owner.env and app-role.env (same values)"
fi

if [[ ! -e "$dir/owner.env" ]]; then
  printf 'username=microtaskhub\npassword=%s\n' "$(hex 24)" >"$dir/owner.env"
  echo "wrote $dir/owner.env"
fi
if [[ ! -e "$dir/app-role.env" ]]; then
  printf 'username=microtaskhub_app\npassword=%s\n' "$(hex 24)" >"$dir/app-role.env"
  echo "wrote $dir/app-role.env"
fi
if [[ ! -e "$dir/app.env" ]]; then
  if [[ -z "$admin_email" ]]; then
    # admin@ the host name the overlay's patches set (Ingress host or Gateway hostname).
    host=$(awk '/path: .*\/host(name)?$/ { getline; if ($1 == "value:") { print $2; exit } }' "$kustomization")
    admin_email="admin@${host:-example.com}"
  fi
  if ! [[ "$admin_email" =~ ^[^[:space:]@]+@[^[:space:]@]+\.[^[:space:]@]+$ ]]; then
    echo "--admin-email: $admin_email is not an email address" >&2
    exit 2
  fi
  cat >"$dir/app.env" <<ENV
database_url=postgres://microtaskhub_app:$(get app-role.env password)@postgres:5432/microtaskhub
api_token=$(hex 32)
api_token_previous=
ui_username=$admin_email
ui_password=$(hex 12)
ENV
  echo "wrote $dir/app.env (first sign-in as $admin_email, password: grep ui_password $dir/app.env)"
fi
# The identity provider's client secret (docs/deploy.md, "Sign-in with your
# identity provider"): added to an app.env that predates it, set from
# OIDC_CLIENT_SECRET when given.
grep -q '^oidc_client_secret=' "$dir/app.env" || echo "oidc_client_secret=" >>"$dir/app.env"
if [[ -n "${OIDC_CLIENT_SECRET:-}" ]]; then
  [[ "$OIDC_CLIENT_SECRET" != *"|"* ]] || { echo "OIDC_CLIENT_SECRET must not contain |" >&2; exit 1; }
  set_value app.env oidc_client_secret "$OIDC_CLIENT_SECRET"
  echo "set oidc_client_secret in $dir/app.env"
fi
if uses object-store.env && [[ ! -e "$dir/object-store.env" ]]; then
  if [[ -n "${OBJECT_STORE_ACCESS_KEY_ID:-}" && -n "${OBJECT_STORE_SECRET_ACCESS_KEY:-}" ]]; then
    printf 'ACCESS_KEY_ID=%s\nACCESS_SECRET_KEY=%s\n' "$OBJECT_STORE_ACCESS_KEY_ID" "$OBJECT_STORE_SECRET_ACCESS_KEY" >"$dir/object-store.env"
    echo "wrote $dir/object-store.env"
  else
    echo "missing $dir/object-store.env: run again with OBJECT_STORE_ACCESS_KEY_ID and OBJECT_STORE_SECRET_ACCESS_KEY set (the backup bucket's keys)" >&2
  fi
fi
if uses registry.json && [[ ! -e "$dir/registry.json" ]]; then
  if [[ -n "$registry" && -n "$registry_user" ]]; then
    token="${REGISTRY_PASSWORD:-}"
    if [[ -z "$token" && -t 0 ]]; then read -r -s -p "token for $registry_user@$registry: " token; echo; fi
    [[ -n "$token" ]] || { echo "no registry token (REGISTRY_PASSWORD)" >&2; exit 2; }
    auth=$(printf '%s:%s' "$registry_user" "$token" | base64 -w0)
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$registry" "$auth" >"$dir/registry.json"
    echo "wrote $dir/registry.json"
  else
    echo "missing $dir/registry.json: run again with --registry SERVER --registry-user USER (the token from REGISTRY_PASSWORD), or drop components/private-registry for a public image" >&2
  fi
fi
