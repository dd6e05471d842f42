#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests (k8s/, applied with `kubectl apply -k k8s`).
# No cluster needed. Installs what it needs, idempotently:
#   - kubectl (with its built-in kustomize), from Debian's packages, if missing;
#   - a Python venv at .local/venv with pinned kubernetes-validate, checkov, pytest.
# Checks:
#   1. render      `kubectl kustomize k8s` renders
#   2. schemas     every object validates: built-in kinds against the Kubernetes
#                  $K8S_VERSION schemas (strict), SpinApp/SpinAppExecutor against
#                  the CRDs in ../shared/schemas/ (fails loudly when absent)
#   3. checkov     security scan; failures only if listed in k8s/checkov-skips.yaml
#   4. consistency cross-checks with spin.toml and migrations/ (scripts/k8s_consistency.py)
#   5. image       a kustomize `images:` override reaches all three SpinApps
#   6. self-tests  the checkers catch deliberately broken manifests (pytest)
# The last line is "N passed, N failed", summing the checks of every step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

K8S_VERSION="${K8S_VERSION:-1.31.0}"
SCHEMAS_DIR="${SPINKUBE_SCHEMAS_DIR:-$ROOT/../shared/schemas}"
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

# --- 1. render -------------------------------------------------------------------------
RENDERED="$OUT/rendered.yaml"
say "render: kubectl kustomize k8s"
if ! kubectl kustomize k8s >"$RENDERED" 2>"$OUT/render.log"; then
  sed 's/^/    /' "$OUT/render.log"
  say "render: FAILED (nothing else can be checked)"
  failed=$((failed + 1))
  finish
  exit 1
fi
passed=$((passed + 1))
say "render: ok ($(grep -c '^kind:' "$RENDERED") objects, $RENDERED)"

# --- 2. schemas ------------------------------------------------------------------------
if [[ ! -f "$SCHEMAS_DIR/core.spinkube.dev_spinapps.yaml" ]]; then
  say "ERROR: SpinKube CRD schemas not found in $SCHEMAS_DIR (expected core.spinkube.dev_spinapps.yaml):"
  say "       SpinApp and SpinAppExecutor cannot be validated, so this check FAILS."
fi
run_step schemas "$PY" scripts/k8s_validate.py "$RENDERED" \
  --kubernetes-version "$K8S_VERSION" --crd-dir "$SCHEMAS_DIR"

# --- 3. checkov ------------------------------------------------------------------------
run_step checkov "$PY" scripts/k8s_checkov.py "$RENDERED" \
  --skips k8s/checkov-skips.yaml --checkov "$VENV/bin/checkov"

# --- 4. consistency --------------------------------------------------------------------
run_step consistency "$PY" scripts/k8s_consistency.py "$RENDERED" \
  --spin-toml spin.toml --migrations migrations

# --- 5. image override -----------------------------------------------------------------
# The same thing `kustomize edit set image` writes: an `images:` entry. An overlay
# proves the SpinApp spec.image fieldSpec (k8s/kustomizeconfig/spinapp.yaml) works.
image_override() {
  local overlay="$OUT/image-overlay" want="registry.example.test/team/microtaskhub:9.9.9"
  rm -rf "$overlay"; mkdir -p "$overlay"
  cat >"$overlay/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../../k8s
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

# --- 6. self-tests ---------------------------------------------------------------------
run_step self-tests env K8S_RENDERED="$RENDERED" SPINKUBE_SCHEMAS_DIR="$SCHEMAS_DIR" K8S_VERSION="$K8S_VERSION" \
  "$PY" -m pytest -q -p no:cacheprovider scripts/test_k8s_checks.py

finish
