#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests: every overlay in k8s/overlays/,
# rendered as `kubectl apply -k` would. No cluster needed. Installs what it needs:
# kubectl (Debian package) if missing, and a venv at .local/venv with pinned
# kubernetes-validate, check-jsonschema, checkov and pytest.
#
# The overlays' secrets are git-ignored, so the checks render a copy of k8s/ and
# migrations/ in which scripts/k8s-secrets.sh generated fresh ones, and in which
# the production overlay pins its images by (made-up) digests, as an operator
# must before deploying. Per overlay, scripts/k8s_check.py checks:
#   schemas   built-in kinds against Kubernetes $K8S_VERSION (kubernetes-validate,
#             strict); custom resources against the CRDs in $SPINKUBE_SCHEMAS_DIR,
#             default ../shared/schemas (SpinKube, CloudNativePG + Barman Cloud,
#             Gateway API); without them one SKIP line, and only that is skipped
#   rules     secrets, labels, Pod Security, references, spin.toml variables, routes,
#             health checks, autoscaling, NetworkPolicies (exactly the traffic needed),
#             connection budget, migrations, the Job's stable template, and for
#             production overlays images pinned by digest
# then checkov (findings accepted only by a checkov.io/skip annotation with its
# reason), the WIT imports of the built components, and the self-tests
# (scripts/test_k8s_checks.py). The last line is "N passed, N failed".
#
#   scripts/check-k8s.sh                    the repository's overlays (make test)
#   scripts/check-k8s.sh --release OVERLAY  your overlay as it is, with your secrets,
#                                           before `kubectl apply -k OVERLAY`
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
K8S_VERSION="${K8S_VERSION:-1.31.0}"
RELEASE_OVERLAYS="prod public-api restore-drill"   # production: images pinned by digest
VENV="$ROOT/.local/venv"
OUT="$ROOT/.local/k8s-check"
PY_PINS=(kubernetes-validate==1.37.0 check-jsonschema==0.39.0 checkov==3.3.30 pytest==8.4.2)
SCHEMAS="${SPINKUBE_SCHEMAS_DIR:-}"
[[ -z "$SCHEMAS" && -d "$ROOT/../shared/schemas" ]] && SCHEMAS="$(cd "$ROOT/../shared/schemas" && pwd)"
passed=0 failed=0
say() { printf '==> %s\n' "$*"; }

# run_step NAME COMMAND...: shows the output, adds its "N passed, N failed" (or
# pytest's "N failed, N passed") to the totals; a failure without one counts once.
run_step() {
  local name=$1 log="$OUT/$1.log" status=0 p=0 f=0 line
  shift
  "$@" >"$log" 2>&1 || status=$?
  sed 's/^/    /' "$log"
  line="$(grep -E '^[0-9]+ (passed|failed)' "$log" | tail -n 1 || true)"
  [[ $line =~ ([0-9]+)\ passed ]] && p=${BASH_REMATCH[1]}
  [[ $line =~ ([0-9]+)\ failed ]] && f=${BASH_REMATCH[1]}
  if [[ $status -ne 0 && $f -eq 0 ]]; then f=1; fi
  if [[ -z $line && $status -eq 0 ]]; then p=1; fi
  passed=$((passed + p)) failed=$((failed + f))
  say "$name: $([[ $status -eq 0 ]] && echo ok || echo FAILED)"
}

# --- tools ---------------------------------------------------------------------------
mkdir -p "$OUT"
if ! command -v kubectl >/dev/null 2>&1; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get install -y -qq kubectl >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq kubectl; }
fi
if ! "$VENV/bin/python" -c 'import sys; from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))' "${PY_PINS[@]}" 2>/dev/null; then
  say "setting up $VENV (${PY_PINS[*]})"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PINS[@]}"
fi
export PATH="$VENV/bin:$PATH"
SCHEMA_ARGS=()
if [[ -n "$SCHEMAS" ]]; then
  SCHEMA_ARGS=(--schemas "$SCHEMAS")
  [[ "${CI:-}" == true ]] && SCHEMA_ARGS+=(--require-all-crds)
else
  say "SKIP custom resources' schemas: no SPINKUBE_SCHEMAS_DIR and no ../shared/schemas (docs/deploy.md, \"Checking the manifests offline\")"
fi

# --- an operator's own overlay, as it is -----------------------------------------------
if [[ "${1:-}" == --release ]]; then
  overlay="${2:?usage: scripts/check-k8s.sh --release OVERLAY}"
  kubectl kustomize "$overlay" >"$OUT/release.yaml"
  run_step release python scripts/k8s_check.py overlay --release "$OUT/release.yaml" "${SCHEMA_ARGS[@]}" \
    --kubernetes-version "$K8S_VERSION"
  echo "$passed passed, $failed failed"
  exit $((failed > 0))
fi

run_step committed python scripts/k8s_check.py committed "$ROOT"

# --- the tree to render: generated secrets, production images pinned -------------------
TREE="$OUT/tree"
rm -rf "$TREE" && python scripts/k8s_check.py tree "$TREE"

# --- every overlay ---------------------------------------------------------------------
plain=() release=()
for dir in "$TREE"/k8s/overlays/*/; do
  overlay=$(basename "$dir") rendered="$OUT/$(basename "$dir").yaml"
  if ! kubectl kustomize "$dir" >"$rendered" 2>"$OUT/render.log"; then
    sed 's/^/    /' "$OUT/render.log"; failed=$((failed + 1)); say "render $overlay: FAILED"; continue
  fi
  passed=$((passed + 1))
  say "render $overlay: $(grep -c '^kind:' "$rendered") objects ($rendered)"
  if [[ " $RELEASE_OVERLAYS " == *" $overlay "* ]]; then release+=(--release "$rendered"); else plain+=("$rendered"); fi
  # Digests: enforced for production by the release rule; dev runs tags on purpose.
  run_step "checkov-$overlay" checkov --file "$rendered" --framework kubernetes --quiet --compact \
    --skip-download --skip-check CKV_K8S_43
done
run_step rules python scripts/k8s_check.py overlay "${plain[@]}" "${release[@]}" "${SCHEMA_ARGS[@]}" --kubernetes-version "$K8S_VERSION"

# --- WIT imports against the documented minimum versions -----------------------------------
wasm="$ROOT/target/wasm32-wasip2/release"
if [[ -f $wasm/frontend.wasm && -f $wasm/user_service.wasm && -f $wasm/task_service.wasm ]]; then
  run_step wit-imports cargo test --quiet --workspace --test wit_imports
else
  say "SKIP wit-imports: the components are not built (make build)"
fi

# --- the checkers catch what they claim to ---------------------------------------------
run_step self-tests env K8S_TREE="$TREE" K8S_OUT="$OUT" SPINKUBE_SCHEMAS_DIR="$SCHEMAS" K8S_VERSION="$K8S_VERSION" \
  python -m pytest -q -p no:cacheprovider scripts/test_k8s_checks.py

echo
say "k8s checks $([[ $failed -eq 0 ]] && echo passed || echo FAILED)"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
