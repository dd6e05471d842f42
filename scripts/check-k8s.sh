#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests: k8s/base and every overlay in
# k8s/overlays/ (each applied with `kubectl apply -k k8s/overlays/<name>`).
# No cluster needed. Installs what it needs, idempotently:
#   - kubectl (with its built-in kustomize), from Debian's packages, if missing;
#   - a Python venv at .local/venv with pinned kubernetes-validate, checkov, pytest.
# The overlays' secrets are git-ignored, so the checks render a copy of k8s/
# and migrations/ in which scripts/k8s-secrets.sh generated fresh ones.
# Checks:
#   1. committed   no placeholder secret in a committed file, no secrets/*.env tracked
#   2. render      `kubectl kustomize` renders every overlay
#   3. secrets     no placeholder value in any rendered object
#   4. schemas     every object validates: built-in kinds against the Kubernetes
#                  $K8S_VERSION schemas (strict), SpinApp/SpinAppExecutor against
#                  the SpinKube CRDs in $SPINKUBE_SCHEMAS_DIR (default: ../shared/schemas
#                  when present; when absent, one line says so and only that part is skipped)
#   5. checkov     security scan; failures only if listed in k8s/checkov-skips.yaml
#   6. consistency cross-checks with spin.toml and migrations/ (scripts/k8s_consistency.py),
#                  the Postgres connection budget included
#   7. image       a kustomize `images:` override reaches all three SpinApps
#   8. wit-imports the built components import exactly the WIT interfaces docs/deploy.md
#                  lists with the minimum shim/operator versions (skipped, saying so,
#                  when the components are not built)
#   9. self-tests  the checkers catch deliberately broken manifests (pytest)
# The last line is "N passed, N failed", summing the checks of every step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

K8S_VERSION="${K8S_VERSION:-1.31.0}"
# Where an operator gets them: the CRDs of the spin-operator release in use
# (spin-operator.crds.yaml of its GitHub release), or from a cluster with
# `kubectl get crd spinapps.core.spinkube.dev spinappexecutors.core.spinkube.dev -o yaml`.
SCHEMAS_DIR="${SPINKUBE_SCHEMAS_DIR:-}"
if [[ -z "$SCHEMAS_DIR" && -f "$ROOT/../shared/schemas/core.spinkube.dev_spinapps.yaml" ]]; then
  SCHEMAS_DIR="$ROOT/../shared/schemas"
fi
VENV="$ROOT/.local/venv"
OUT="$ROOT/.local/k8s-check"
PY_PINS=(kubernetes-validate==1.37.0 checkov==3.3.30 pytest==8.4.2)
SPIN_IMAGE=ghcr.io/your-org/microtaskhub

passed=0
failed=0
say() { printf '==> %s\n' "$*"; }

# Adds a step's closing summary ("N passed, N failed", or pytest's "N failed,
# N passed in 1.2s") to the totals; a step that failed without one counts as
# one failed check, and so does a failed step whose summary shows no failure.
tally() { # tally STATUS LOGFILE
  local status=$1 log=$2 line p=0 f=0
  line="$(grep -E '^[0-9]+ (passed|failed)' "$log" | tail -n 1 || true)"
  if [[ $line =~ ([0-9]+)\ passed ]]; then p=${BASH_REMATCH[1]}; fi
  if [[ $line =~ ([0-9]+)\ failed ]]; then f=${BASH_REMATCH[1]}; fi
  if [[ -z "$line" ]]; then
    if [[ $status -eq 0 ]]; then p=1; else f=1; fi
  elif [[ $status -ne 0 && $f -eq 0 ]]; then
    f=1
  fi
  passed=$((passed + p)); failed=$((failed + f))
}

# run_step NAME COMMAND...: runs a check, shows its output, counts it, never aborts.
run_step() {
  local name=$1; shift
  local log="$OUT/$name.log" status=0
  say "$name"
  "$@" >"$log" 2>&1 || status=$?
  sed 's/^/    /' "$log"
  tally "$status" "$log"
  if [[ $status -ne 0 ]]; then say "$name: FAILED"; else say "$name: ok"; fi
}

finish() {
  echo
  if [[ $failed -ne 0 ]]; then say "k8s checks FAILED"; else say "k8s checks passed"; fi
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}

# --- tools ---------------------------------------------------------------------------
mkdir -p "$OUT"
if ! command -v kubectl >/dev/null 2>&1; then
  say "installing kubectl (Debian package)"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get install -y -qq kubectl >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq kubectl; }
fi
say "kubectl: $(kubectl version --client 2>/dev/null | tr '\n' ' ')"

venv_ok() {
  [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" - "${PY_PINS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    if version(name) != wanted:
        sys.exit(1)
PY
}
if ! venv_ok; then
  say "setting up $VENV (${PY_PINS[*]})"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PINS[@]}"
  venv_ok || { echo "the venv at $VENV does not hold ${PY_PINS[*]}" >&2; exit 1; }
fi
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"

# --- 1. committed placeholders -----------------------------------------------------------
run_step committed "$PY" scripts/k8s_secrets_check.py committed --root "$ROOT"

# --- the tree to render: a copy with freshly generated secrets --------------------------
TREE="$OUT/tree"
rm -rf "$TREE" && mkdir -p "$TREE"
cp -a k8s migrations "$TREE/"
rm -rf "$TREE"/k8s/overlays/*/secrets
OVERLAYS=()
for dir in "$TREE"/k8s/overlays/*/; do
  name=$(basename "$dir")
  OVERLAYS+=("$name")
  # An overlay built on another one (public-api on prod) has no secretGenerator.
  if grep -q '^secretGenerator:' "$dir/kustomization.yaml"; then
    scripts/k8s-secrets.sh "$dir" >/dev/null
  fi
done
say "overlays: ${OVERLAYS[*]}"

# --- 2. render ---------------------------------------------------------------------------
rendered_ok=()
for overlay in "${OVERLAYS[@]}"; do
  RENDERED="$OUT/rendered-$overlay.yaml"
  if kubectl kustomize "$TREE/k8s/overlays/$overlay" >"$RENDERED" 2>"$OUT/render-$overlay.log"; then
    passed=$((passed + 1))
    rendered_ok+=("$overlay")
    say "render $overlay: ok ($(grep -c '^kind:' "$RENDERED") objects, $RENDERED)"
  else
    sed 's/^/    /' "$OUT/render-$overlay.log"
    failed=$((failed + 1))
    say "render $overlay: FAILED (nothing else can be checked for it)"
  fi
done

SCHEMA_ARGS=(--crd-dir "$SCHEMAS_DIR")
if [[ -z "$SCHEMAS_DIR" ]]; then
  say "SKIP SpinKube CRD schema check: no SPINKUBE_SCHEMAS_DIR and no ../shared/schemas; SpinApp/SpinAppExecutor not schema-validated (docs/deploy.md says where to get the CRDs)"
  SCHEMA_ARGS=(--skip-custom-resources)
fi

for overlay in "${rendered_ok[@]}"; do
  RENDERED="$OUT/rendered-$overlay.yaml"
  # --- 3. placeholders in what would be applied ------------------------------------------
  run_step "placeholders-$overlay" "$PY" scripts/k8s_secrets_check.py rendered "$RENDERED"
  # --- 4. schemas ------------------------------------------------------------------------
  run_step "schemas-$overlay" "$PY" scripts/k8s_validate.py "$RENDERED" \
    --kubernetes-version "$K8S_VERSION" "${SCHEMA_ARGS[@]}"
  # --- 5. checkov ------------------------------------------------------------------------
  run_step "checkov-$overlay" "$PY" scripts/k8s_checkov.py "$RENDERED" \
    --skips k8s/checkov-skips.yaml --checkov "$VENV/bin/checkov"
  # --- 6. consistency --------------------------------------------------------------------
  run_step "consistency-$overlay" "$PY" scripts/k8s_consistency.py "$RENDERED" \
    --spin-toml spin.toml --migrations migrations
done

# --- 7. image override -------------------------------------------------------------------
# The same thing `kustomize edit set image` writes: an `images:` entry. An overlay
# proves the SpinApp spec.image fieldSpec (k8s/base/kustomizeconfig/spinapp.yaml) works.
image_override() {
  local overlay="$TREE/k8s/overlays-extra/image-override" want="registry.example.test/team/microtaskhub:9.9.9"
  rm -rf "$overlay"; mkdir -p "$overlay"
  cat >"$overlay/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../overlays/prod
images:
  - name: $SPIN_IMAGE
    newName: registry.example.test/team/microtaskhub
    newTag: 9.9.9
EOF
  kubectl kustomize "$overlay" | "$PY" -c '
import sys, yaml
want = sys.argv[1]
apps = [o for o in yaml.safe_load_all(sys.stdin) if o and o.get("kind") == "SpinApp"]
images = {o["metadata"]["name"]: o["spec"]["image"] for o in apps}
print("SpinApp images after override:", images)
sys.exit(0 if apps and set(images.values()) == {want} else 1)
' "$want"
}
run_step image-override image_override

# --- 8. WIT imports against the documented minimum versions ------------------------------
wasm_dir="$ROOT/target/wasm32-wasip2/release"
if [[ -f "$wasm_dir/frontend.wasm" && -f "$wasm_dir/user_service.wasm" && -f "$wasm_dir/task_service.wasm" ]]; then
  # --workspace: the features `cargo test --workspace` built with, so nothing rebuilds.
  run_step wit-imports cargo test --quiet --workspace --test wit_imports
else
  say "SKIP wit-imports: the components are not built (make build)"
fi

# --- 9. self-tests -----------------------------------------------------------------------
run_step self-tests env K8S_RENDERED="$OUT/rendered-prod.yaml" K8S_TREE="$TREE" \
  SPINKUBE_SCHEMAS_DIR="$SCHEMAS_DIR" K8S_VERSION="$K8S_VERSION" \
  "$PY" -m pytest -q -p no:cacheprovider scripts/test_k8s_checks.py

finish
