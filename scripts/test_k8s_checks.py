"""Proves the k8s checks can fail: each case breaks a rendered overlay the way a real
mistake would, and asserts scripts/k8s_check.py names the problem. Run by
scripts/check-k8s.sh (K8S_OUT: its rendered overlays); alone, it renders them itself.
SPINKUBE_SCHEMAS_DIR (or ../shared/schemas) holds the CRDs; without them the schema
cases are skipped, saying so.
"""

from __future__ import annotations

import base64
import copy
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
import k8s_check as kc  # noqa: E402

SPIN = tomllib.loads((ROOT / "spin.toml").read_text())
SCHEMAS = Path(os.environ.get("SPINKUBE_SCHEMAS_DIR") or ROOT.parent / "shared" / "schemas")
needs_crds = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="no CRD schemas (SPINKUBE_SCHEMAS_DIR, ../shared/schemas)")
OVERLAYS = ["dev", "prod", "public-api", "restore-drill"]
RELEASE = {"prod", "public-api", "restore-drill"}


def render(overlay_dir: Path) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(overlay_dir)], check=True, capture_output=True, text=True).stdout
    return [o for o in yaml.safe_load_all(out) if o]


@pytest.fixture(scope="session")
def tree(tmp_path_factory) -> Path:
    if os.environ.get("K8S_TREE"):
        return Path(os.environ["K8S_TREE"])
    tree = tmp_path_factory.mktemp("tree")
    kc.prepare_tree(tree)
    return tree


@pytest.fixture(scope="session")
def rendered(tree) -> dict[str, list[dict]]:
    out = os.environ.get("K8S_OUT")
    return {name: ([o for o in yaml.safe_load_all(Path(out, f"{name}.yaml").read_text()) if o] if out
                   else render(tree / "k8s" / "overlays" / name)) for name in OVERLAYS}


def find(objs, kind, name):
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"].startswith(name))


def put(secret: dict, key: str, value: str):
    secret["data"][key] = base64.b64encode(value.encode()).decode()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlays_pass_every_rule(rendered, overlay):
    results = kc.check(rendered[overlay], SPIN, release=overlay in RELEASE)
    assert {rule: problems for rule, problems in results.items() if problems} == {}


# Each: (overlay, rule, what breaks, what the checker must say).
BREAKS = {
    "frontend cut off from PgBouncer": ("prod", "network", lambda o: find(o, "NetworkPolicy", "pooler")["spec"]["ingress"][0]
                                        ["from"][0]["podSelector"]["matchExpressions"][0]["values"].remove("frontend"),
                                        "SpinApp/frontend must reach Pooler/postgres:5432, but the ingress"),
    "ACME solver unreachable (HTTPS never comes up)": ("prod", "network", lambda o: o.remove(find(o, "NetworkPolicy", "edge-to-acme")),
                                                       "the edge must reach cert-manager's HTTP-01 solver:8089"),
    "NodeLocal DNSCache not allowed": ("prod", "network", lambda o: find(o, "NetworkPolicy", "allow-dns")["spec"]["egress"][0]["to"].pop(),
                                       "cannot reach the NodeLocal DNSCache on port 53"),
    "the edge set in two places": ("prod", "network", lambda o: find(o, "NetworkPolicy", "edge-to-acme")["spec"]["ingress"][0]
                                   ["from"][0]["namespaceSelector"]["matchLabels"].update({"kubernetes.io/metadata.name": "ingress-nginx"}),
                                   "the edge policies name different peers"),
    "no default deny": ("prod", "network", lambda o: [o.remove(find(o, "NetworkPolicy", n)) for n in
                                                     ("default-deny", "edge-to-apps", "frontend")],
                        "a pod of another namespace may reach SpinApp/frontend:80"),
    "operator shut out of the instances": ("prod", "network", lambda o: find(o, "NetworkPolicy", "database")["spec"]["ingress"][0]["from"].pop(),
                                           "CloudNativePG operator must reach Cluster/microtaskhub-db:8000"),
    "migration Job cut off from the primary": ("prod", "network", lambda o: o.remove(find(o, "NetworkPolicy", "migrate")),
                                               "Job/microtaskhub-migrate must reach Cluster/microtaskhub-db:5432, but its egress"),
    "backups cut off (dev)": ("dev", "network", lambda o: find(o, "NetworkPolicy", "postgres")["spec"]["ingress"][0]["from"][1]
                              ["podSelector"]["matchExpressions"][0]["values"].remove("postgres-backup"),
                              "CronJob/postgres-backup must reach StatefulSet/postgres:5432"),
    "APIs open to the edge without public-api": ("prod", "network", lambda o: find(o, "NetworkPolicy", "edge-to-apps")["spec"]
                                                 ["podSelector"]["matchExpressions"][0]["values"].append("user-service"),
                                                 "the edge may reach SpinApp/user-service:80, which nothing needs"),
    "dev HPA beyond max_connections": ("dev", "connection-budget", lambda o: find(o, "HorizontalPodAutoscaler", "frontend")
                                       ["spec"].update(maxReplicas=4), "max_connections=600 is below the 717"),
    "PgBouncer too small for Spin's pools": ("prod", "connection-budget", lambda o: find(o, "Pooler", "postgres")["spec"]["pgbouncer"]
                                             ["parameters"].update(max_client_conn="500"), "832 > max_client_conn"),
    "PgBouncer pools beyond max_connections": ("prod", "connection-budget", lambda o: find(o, "Pooler", "postgres")["spec"]["pgbouncer"]
                                               ["parameters"].update(default_pool_size="60", max_db_connections="60"),
                                               "max_connections=100 is below the 135"),
    "weak and misplaced secrets": ("prod", "secrets", lambda o: [put(find(o, "Secret", "microtaskhub-secrets"), k, v) for k, v in
                                                               [("api_token", "short"), ("ui_username", "admin"),
                                                                ("database_url", "postgres://u:CHANGE_ME@postgres/x")]],
                                   "api_token is shorter than 32 bytes"),
    "previous token equal to the current": ("prod", "secrets", lambda o: put(s := find(o, "Secret", "microtaskhub-secrets"),
                                            "api_token_previous", base64.b64decode(s["data"]["api_token"]).decode()),
                                            "api_token_previous must be empty, or 32 bytes or more and not api_token"),
    "services without api_token_previous": ("prod", "spin-variables", lambda o: find(o, "SpinApp", "user-service")["spec"].update(
        variables=[v for v in find(o, "SpinApp", "user-service")["spec"]["variables"] if v["name"] != "api_token_previous"]),
        "SpinApp/user-service does not supply 'api_token_previous'"),
    "a secret for a SpinApp that does not use it": ("prod", "spin-variables", lambda o: find(o, "SpinApp", "frontend")["spec"]
                                                    ["variables"].append({"name": "session_secret", "value": "x"}),
                                                    "SpinApp/frontend receives secret 'session_secret'"),
    "missing Secret key": ("prod", "references", lambda o: find(o, "Secret", "microtaskhub-secrets")["data"].pop("ui_password"),
                           "names key 'ui_password' of Secret"),
    "managed role without its Secret": ("prod", "references", lambda o: o.remove(find(o, "Secret", "postgres-app")),
                                        "Cluster/microtaskhub-db spec.managed.roles[].passwordSecret.name names Secret 'postgres-app'"),
    "apps and role disagree on the password": ("prod", "service-urls", lambda o: put(find(o, "Secret", "postgres-app"), "password", "x" * 48),
                                               "is not the application role's"),
    "a *.spin.internal URL on Kubernetes": ("dev", "service-urls", lambda o: next(v for v in find(o, "SpinApp", "frontend")["spec"]
                                            ["variables"] if v["name"] == "task_service_url").update(value="http://task-service.spin.internal"),
                                            "task_service_url=http://task-service.spin.internal should be http://task-service"),
    "/ routed to the wrong app": ("prod", "routes", lambda o: find(o, "HTTPRoute", "microtaskhub")["spec"]["rules"][0]
                                  ["backendRefs"][0].update(name="task-service"), "spin.toml routes / to 'frontend'"),
    "no timeout for long-lived responses": ("prod", "routes", lambda o: find(o, "HTTPRoute", "microtaskhub")["spec"]["rules"][0].pop("timeouts"),
                                            "no request timeout"),
    "no certificate for the Gateway": ("prod", "routes", lambda o: find(o, "Gateway", "microtaskhub")["metadata"].pop("annotations"),
                                       "Gateway/microtaskhub has no cert-manager issuer annotation"),
    "HPA on the SpinApp kind": ("prod", "autoscaling", lambda o: find(o, "HorizontalPodAutoscaler", "task-service")["spec"]
                                ["scaleTargetRef"].update(kind="SpinApp"), "must scale the SpinApp's apps/v1 Deployment"),
    "readiness on another component's path": ("prod", "health-checks", lambda o: find(o, "SpinApp", "user-service")["spec"]["checks"]
                                              ["readiness"]["httpGet"].update(path="/tasks/health"), "readiness path /tasks/health"),
    "a version label in the Job's template": ("prod", "job-template", lambda o: find(o, "Job", "microtaskhub-migrate")["spec"]
                                              ["template"]["metadata"]["labels"].update({"app.kubernetes.io/version": "0.2.0"}),
                                              "pod template carries a version label"),
    "the Job mounting a hash-named Secret": ("prod", "job-template", lambda o: find(o, "Job", "microtaskhub-migrate")["spec"]["template"]
                                             ["spec"]["volumes"][3]["secret"].update(secretName=find(o, "Secret", "microtaskhub-secrets")
                                                                                     ["metadata"]["name"]),
                                             "whose name changes with its content"),
    "no Pod Security labels": ("prod", "namespace", lambda o: find(o, "Namespace", "microtaskhub")["metadata"]["labels"].pop(
        "pod-security.kubernetes.io/enforce"), "lacks pod-security.kubernetes.io/enforce=baseline"),
    "a pod without recommended labels": ("prod", "labels", lambda o: find(o, "SpinApp", "frontend")["spec"]["podLabels"].pop(
        "app.kubernetes.io/version"), "SpinApp/frontend pods lack app.kubernetes.io/version"),
    "an image by tag in production": ("prod", "release", lambda o: find(o, "SpinApp", "frontend")["spec"].update(
        image="ghcr.io/your-org/microtaskhub:0.1.0"), "ghcr.io/your-org/microtaskhub:0.1.0 is a placeholder or not pinned"),
}


@pytest.mark.parametrize("case", BREAKS)
def test_the_checker_reports(rendered, case):
    overlay, rule, mutate, expected = BREAKS[case]
    objs = copy.deepcopy(rendered[overlay])
    mutate(objs)
    found = "\n".join(kc.check(objs, SPIN, release=overlay in RELEASE)[rule])
    assert expected in found, f"{case}: {expected!r} not in:\n{found}"


def test_the_committed_prod_overlay_is_refused_until_pinned(tmp_path):
    kc.prepare_tree(tmp_path)  # secrets, then the committed kustomization back: the placeholder image, by tag
    (tmp_path / "k8s/overlays/prod/kustomization.yaml").write_text((ROOT / "k8s/overlays/prod/kustomization.yaml").read_text())
    found = "\n".join(kc.check(render(tmp_path / "k8s/overlays/prod"), SPIN, release=True)["release"])
    assert "ghcr.io/your-org/microtaskhub:0.1.0 is a placeholder or not pinned by digest" in found
    assert "postgres:17-alpine" in found and "ghcr.io/cloudnative-pg/postgresql:17 " in found


def test_migrations_must_all_be_packed(rendered, tmp_path):
    for f in (ROOT / "migrations").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "9999_later.sql").write_text("SELECT 1;\n")
    assert "lacks 9999_later.sql" in "\n".join(kc.check(rendered["dev"], SPIN, tmp_path)["migrations"])


def test_a_malformed_object_fails_its_rule_instead_of_crashing(rendered):
    objs = copy.deepcopy(rendered["prod"])
    del find(objs, "HorizontalPodAutoscaler", "user-service")["spec"]["scaleTargetRef"]
    assert "could not evaluate" in kc.check(objs, SPIN)["autoscaling"][0]


PUBLIC_API_PATHS = {"/users", "/tasks", "/labels", "/views", "/export", "/import", "/imports", "/"}


def test_public_api_opens_the_apis_on_either_way_in(rendered, tree, tmp_path):
    paths = {r[1] for r in kc.routes(kc.Manifest(rendered["public-api"], SPIN))}
    assert paths == PUBLIC_API_PATHS and {r[1] for r in kc.routes(kc.Manifest(rendered["prod"], SPIN))} == {"/"}
    overlay = tree / "k8s" / "overlays-extra" / "dev-public-api"  # the same component on the Ingress overlay
    overlay.mkdir(parents=True, exist_ok=True)
    (overlay / "kustomization.yaml").write_text("resources: [../../overlays/dev]\ncomponents: [../../components/public-api]\n")
    objs = render(overlay)
    assert {r[1] for r in kc.routes(kc.Manifest(objs, SPIN))} == PUBLIC_API_PATHS
    assert {r: p for r, p in kc.check(objs, SPIN).items() if p} == {}


def test_the_restore_drill_reads_backups_and_writes_none(rendered):
    drill = rendered["restore-drill"]
    cluster = find(drill, "Cluster", "microtaskhub-db")
    assert "recovery" in cluster["spec"]["bootstrap"] and "plugins" not in cluster["spec"]
    assert not [o for o in drill if o["kind"] in ("ScheduledBackup", "Gateway", "HTTPRoute")]
    assert find(drill, "Namespace", "microtaskhub")["metadata"]["name"] == "microtaskhub-drill"


# ----------------------------------------------------------------- schemas (tools, strict)


@needs_crds
def test_custom_resources_are_validated_strictly(rendered):
    objs = copy.deepcopy(rendered["prod"])
    find(objs, "Cluster", "microtaskhub-db")["spec"]["instance"] = 3
    find(objs, "Pooler", "postgres")["spec"]["pgbouncer"]["poolMode"] = "statement"
    find(objs, "HTTPRoute", "microtaskhub")["spec"]["rules"][0]["timeouts"]["request"] = "1 hour"
    find(objs, "SpinApp", "frontend")["spec"]["replicas"] = "2"
    find(objs, "Job", "microtaskhub-migrate")["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    objs.append({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Database", "metadata": {"name": "x"}, "spec": {}})
    problems = "\n".join(kc.validate({"prod": objs}, SCHEMAS, "1.31.0")[0]["prod"])
    for expected in ("('instance' was unexpected)", "'statement' is not one of", "'1 hour' does not match",
                     "'2' is not of type 'integer'", "livenesProbe", "'cluster' is a required property"):
        assert expected in problems, f"{expected!r} not in:\n{problems}"


@needs_crds
def test_a_point_in_time_restore_validates(rendered):
    objs = copy.deepcopy(rendered["restore-drill"])
    find(objs, "Cluster", "microtaskhub-db")["spec"]["bootstrap"]["recovery"]["recoveryTarget"] = {
        "targetTime": "2026-05-04 10:00:00.000000+00"}
    assert kc.validate({"drill": objs}, SCHEMAS, "1.31.0")[0]["drill"] == []


def test_without_crds_custom_resources_are_skipped_not_passed(rendered, tmp_path):
    problems, skipped = kc.validate({"prod": rendered["prod"]}, tmp_path, "1.31.0", require_all=False)
    assert problems["prod"] == [] and {"SpinApp", "Cluster", "Gateway"} <= set(skipped)
    problems, _ = kc.validate({"prod": rendered["prod"]}, tmp_path, "1.31.0", require_all=True)
    assert any("no CRD" in p and "Cluster" in p for p in problems["prod"])


# ----------------------------------------------------------------- committed files, generated secrets


def test_committed_placeholders_and_tracked_secrets_fail(tmp_path):
    (tmp_path / "k8s/overlays/prod/secrets").mkdir(parents=True)
    (tmp_path / "k8s/overlays/prod/secrets/app.env").write_text("api_token=0123\n")
    (tmp_path / "k8s/base.yaml").write_text("password: CHANGE_ME_password\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "k8s"], check=True)
    found = "\n".join(kc.committed(tmp_path))
    assert "secrets/app.env is tracked" in found and "k8s/base.yaml:1 holds a placeholder" in found
    assert kc.committed(ROOT) == []


def secrets(overlay: Path) -> dict[str, dict[str, str]]:
    return {f.name: dict(line.split("=", 1) for line in f.read_text().splitlines() if not line.startswith("#"))
            for f in (overlay / "secrets").glob("*.env")}


def k8s_secrets(overlay: Path, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPTS / "k8s-secrets.sh"), str(overlay), *args], capture_output=True, text=True,
                          env=os.environ | env)


def test_secrets_are_generated_once_and_rotated_one_at_a_time(tmp_path):
    overlay = tmp_path / "prod"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text((ROOT / "k8s/overlays/prod/kustomization.yaml").read_text())
    k8s_secrets(overlay)
    first = secrets(overlay)
    assert first["app.env"]["ui_username"] == "admin@microtaskhub.example.com"  # the Gateway's hostname
    assert first["app.env"]["api_token_previous"] == "" and len(first["app.env"]["api_token"]) == 64
    assert f"microtaskhub_app:{first['app-role.env']['password']}@postgres:5432/" in first["app.env"]["database_url"]
    assert oct((overlay / "secrets/app.env").stat().st_mode & 0o777) == "0o600"
    k8s_secrets(overlay)
    assert secrets(overlay) == first, "never overwrites"
    assert k8s_secrets(overlay, "--force").returncode != 0
    old = first["app.env"]["api_token"]
    steps = []
    for _ in range(3):  # accept the new token, send it, retire the old one
        k8s_secrets(overlay, "--rotate", "api_token")
        steps.append((secrets(overlay)["app.env"]["api_token"], secrets(overlay)["app.env"]["api_token_previous"]))
    new = steps[0][1]
    assert steps == [(old, new), (new, old), (new, "")] and new != old
    assert {k: v for k, v in secrets(overlay).items() if k != "app.env"} == \
        {k: v for k, v in first.items() if k != "app.env"}, "rotating the token touches nothing else"
    k8s_secrets(overlay, "--rotate", "app_password")
    after = secrets(overlay)
    assert after["owner.env"] == first["owner.env"] and after["app.env"]["api_token"] == new
    assert f":{after['app-role.env']['password']}@" in after["app.env"]["database_url"] != first["app.env"]["database_url"]
    assert k8s_secrets(overlay, "--rotate", "owner_password").returncode == 0
    assert secrets(overlay)["owner.env"]["password"] != first["owner.env"]["password"]


def test_old_secrets_are_converted_with_their_values(tmp_path):
    overlay = tmp_path / "dev"
    (overlay / "secrets").mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("kind: Kustomization\n")
    (overlay / "secrets/postgres.env").write_text("user=microtaskhub\npassword=" + "a" * 48 +
                                                  "\ndatabase=microtaskhub\napp_password=" + "b" * 48 + "\n")
    (overlay / "secrets/app.env").write_text("api_token=" + "c" * 64 + "\n")
    k8s_secrets(overlay)
    got = secrets(overlay)
    assert got["owner.env"] == {"username": "microtaskhub", "password": "a" * 48}
    assert got["app-role.env"] == {"username": "microtaskhub_app", "password": "b" * 48}
    assert got["app.env"] == {"api_token": "c" * 64, "api_token_previous": "", "oidc_client_secret": ""}
    # The identity provider's client secret, given later, lands in app.env alone.
    k8s_secrets(overlay, OIDC_CLIENT_SECRET="s" * 40)
    assert secrets(overlay)["app.env"] == got["app.env"] | {"oidc_client_secret": "s" * 40}
