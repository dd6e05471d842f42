"""Proves the k8s checkers can fail: each test breaks the rendered manifest (or the
skip list) the way a real mistake would, and asserts the checker names the problem.

Run by scripts/check-k8s.sh (`python -m pytest scripts/test_k8s_checks.py`).
K8S_RENDERED may point at an already rendered prod overlay; otherwise the
tests render one themselves (a copy of k8s/ with generated secrets).
SPINKUBE_SCHEMAS_DIR names the SpinKube CRDs; without them, the tests that
need them are skipped (and say so).
"""

from __future__ import annotations

import base64
import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))

import k8s_checkov  # noqa: E402
import k8s_consistency as kc  # noqa: E402
import k8s_validate  # noqa: E402

import k8s_secrets_check  # noqa: E402

_default_schemas = ROOT.parent / "shared" / "schemas"
SCHEMAS = Path(os.environ.get("SPINKUBE_SCHEMAS_DIR") or
               (_default_schemas if (_default_schemas / "core.spinkube.dev_spinapps.yaml").is_file() else "/nonexistent"))
needs_crds = pytest.mark.skipif(not (SCHEMAS / "core.spinkube.dev_spinapps.yaml").is_file(),
                                reason="no SpinKube CRD schemas (SPINKUBE_SCHEMAS_DIR)")
K8S_VERSION = os.environ.get("K8S_VERSION", "1.31.0")


def render_overlay(tmp: Path, overlay: str) -> str:
    """`kubectl kustomize` of an overlay, in a copy of k8s/ with generated secrets."""
    for folder in ("k8s", "migrations"):
        shutil.copytree(ROOT / folder, tmp / folder, ignore=shutil.ignore_patterns("secrets"))
    for name in ("dev", "prod"):
        subprocess.run([str(ROOT / "scripts" / "k8s-secrets.sh"), str(tmp / "k8s" / "overlays" / name)],
                       check=True, capture_output=True)
    return subprocess.run(["kubectl", "kustomize", str(tmp / "k8s" / "overlays" / overlay)], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def rendered_objects(tmp_path_factory) -> list[dict]:
    path = os.environ.get("K8S_RENDERED")
    if path:
        text = Path(path).read_text()
    else:
        text = render_overlay(tmp_path_factory.mktemp("tree"), "prod")
    return [o for o in yaml.safe_load_all(text) if o]


@pytest.fixture
def objs(rendered_objects) -> list[dict]:
    return copy.deepcopy(rendered_objects)


@pytest.fixture(scope="session")
def spin() -> kc.SpinManifest:
    return kc.SpinManifest.load(ROOT / "spin.toml")


def find(objs, kind, name_prefix) -> dict:
    matches = [o for o in objs if o["kind"] == kind and o["metadata"]["name"].startswith(name_prefix)]
    assert matches, f"no {kind} {name_prefix}* in the rendered manifest"
    return matches[0]


def variable(app: dict, name: str) -> dict:
    return next(v for v in app["spec"]["variables"] if v["name"] == name)


def problems(objs, spin, rule, migrations: Path | None = ROOT / "migrations") -> list[str]:
    return kc.check(objs, spin, migrations)[rule]


def assert_reports(found: list[str], *fragments: str):
    assert found, "the checker reported nothing"
    text = "\n".join(found)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in:\n{text}"


# ----------------------------------------------------------------- the real manifests pass


def test_rendered_manifests_pass_every_rule(objs, spin):
    results = kc.check(objs, spin, ROOT / "migrations")
    assert {rule: p for rule, p in results.items() if p} == {}


@needs_crds
def test_rendered_manifests_pass_schema_validation(objs):
    results = k8s_validate.validate_objects(objs, K8S_VERSION, k8s_validate.CrdSchemas(SCHEMAS))
    assert [(label, errors) for label, errors in results if errors] == []
    assert any(label.startswith("SpinApp/") for label, _ in results)


# ----------------------------------------------------------------- consistency: broken on purpose


def test_missing_secret_key_is_reported(objs, spin):
    secret = find(objs, "Secret", "microtaskhub-secrets")
    del secret["data"]["api_token"]
    assert_reports(problems(objs, spin, "secret-and-configmap-refs"), "'api_token'", "SpinApp/frontend")


def test_missing_secret_is_reported(objs, spin):
    objs.remove(find(objs, "Secret", "postgres-credentials"))
    assert_reports(problems(objs, spin, "secret-and-configmap-refs"), "StatefulSet/postgres", "postgres-credentials")


def test_hpa_to_nonexistent_target_is_reported(objs, spin):
    find(objs, "HorizontalPodAutoscaler", "user-service")["spec"]["scaleTargetRef"]["name"] = "users"
    assert_reports(problems(objs, spin, "hpa-targets"), "'users'", "SpinApp/user-service enables autoscaling but 0 HPAs")


def test_hpa_on_spinapp_without_autoscaling_is_reported(objs, spin):
    app = find(objs, "SpinApp", "task-service")
    app["spec"]["enableAutoscaling"] = False
    assert_reports(problems(objs, spin, "hpa-targets"), "does not set enableAutoscaling")


def test_hpa_targeting_the_spinapp_kind_is_reported(objs, spin):
    ref = find(objs, "HorizontalPodAutoscaler", "task-service")["spec"]["scaleTargetRef"]
    ref.update(apiVersion="core.spinkube.dev/v1alpha1", kind="SpinApp")
    assert_reports(problems(objs, spin, "hpa-targets"), "no scale subresource")


def test_component_without_spinapp_is_reported(objs, spin):
    objs.remove(find(objs, "SpinApp", "task-service"))
    assert_reports(problems(objs, spin, "components-deployed"), "'task-service' is deployed by 0 SpinApps")


def test_component_deployed_twice_is_reported(objs, spin):
    del find(objs, "SpinApp", "frontend")["spec"]["components"]  # no list = every component
    assert_reports(problems(objs, spin, "components-deployed"), "'user-service' is deployed by 2 SpinApps")


def test_unknown_component_is_reported(objs, spin):
    find(objs, "SpinApp", "frontend")["spec"]["components"] = ["front-end"]
    assert_reports(problems(objs, spin, "components-deployed"), "'front-end'")


def test_missing_variable_is_reported(objs, spin):
    app = find(objs, "SpinApp", "user-service")
    app["spec"]["variables"] = [v for v in app["spec"]["variables"] if v["name"] not in ("database_host", "api_token")]
    assert_reports(problems(objs, spin, "spinapp-variables"), "'database_host'", "'api_token'")


def test_undeclared_variable_is_reported(objs, spin):
    find(objs, "SpinApp", "frontend")["spec"]["variables"].append({"name": "ui_pasword", "value": "x"})
    assert_reports(problems(objs, spin, "spinapp-variables"), "'ui_pasword'")


def test_spin_internal_service_url_is_reported(objs, spin):
    variable(find(objs, "SpinApp", "frontend"), "task_service_url")["value"] = "http://task-service.spin.internal"
    assert_reports(problems(objs, spin, "service-urls"), "spin.internal")


def test_service_url_at_the_wrong_service_is_reported(objs, spin):
    variable(find(objs, "SpinApp", "frontend"), "task_service_url")["value"] = (
        "http://user-service.microtaskhub.svc.cluster.local")
    assert_reports(problems(objs, spin, "service-urls"), "should name the Service of SpinApp task-service")


def test_database_host_not_matching_database_url_is_reported(objs, spin):
    variable(find(objs, "SpinApp", "task-service"), "database_host")["value"] = "postgres:5433"
    assert_reports(problems(objs, spin, "database-host"), "database_host='postgres:5433'")


def test_database_url_with_other_password_than_the_app_role_gets_is_reported(objs, spin):
    secret = find(objs, "Secret", "postgres-credentials")
    secret["data"]["app_password"] = base64.b64encode(b"something-else").decode()
    assert_reports(problems(objs, spin, "database-host"), "password does not match the app_password")


def test_apps_connecting_as_the_database_owner_is_reported(objs, spin):
    secret = find(objs, "Secret", "microtaskhub-secrets")
    url = base64.b64decode(secret["data"]["database_url"]).decode()
    owner = base64.b64decode(find(objs, "Secret", "postgres-credentials")["data"]["user"]).decode()
    secret["data"]["database_url"] = base64.b64encode(
        url.replace("microtaskhub_app:", f"{owner}:").encode()).decode()
    assert_reports(problems(objs, spin, "database-host"), "not as the application role", "database owner")


def test_secret_handed_to_a_spinapp_that_does_not_use_it_is_reported(objs, spin):
    secrets = find(objs, "Secret", "microtaskhub-secrets")["metadata"]["name"]
    find(objs, "SpinApp", "user-service")["spec"]["variables"].append({"name": "ui_password", "valueFrom": {
        "secretKeyRef": {"name": secrets, "key": "ui_password"}}})
    # Declared by spin.toml (so old deployments keep starting) but read by no component.
    find(objs, "SpinApp", "frontend")["spec"]["variables"].append({"name": "session_secret", "valueFrom": {
        "secretKeyRef": {"name": secrets, "key": "ui_password"}}})
    assert_reports(problems(objs, spin, "spinapp-variables"),
                   "SpinApp/user-service receives secret 'ui_password'",
                   "SpinApp/frontend receives secret 'session_secret'")


def test_frontend_without_the_database_is_reported(objs, spin):
    app = find(objs, "SpinApp", "frontend")
    app["spec"]["variables"] = [v for v in app["spec"]["variables"] if v["name"] not in ("database_url", "database_host")]
    assert_reports(problems(objs, spin, "spinapp-variables"),
                   "SpinApp/frontend does not supply 'database_host'", "SpinApp/frontend does not supply 'database_url'")


def test_no_spinapp_receives_session_secret(objs):
    for app in (o for o in objs if o["kind"] == "SpinApp"):
        assert "session_secret" not in {v["name"] for v in app["spec"].get("variables") or []}
    assert "session_secret" not in find(objs, "Secret", "microtaskhub-secrets")["data"]


def test_health_path_the_component_does_not_serve_is_reported(objs, spin):
    checks = find(objs, "SpinApp", "user-service")["spec"]["checks"]
    checks["readiness"]["httpGet"]["path"] = "/tasks/health"
    checks["liveness"]["httpGet"]["path"] = "/health"
    assert_reports(problems(objs, spin, "health-checks"), "readiness path /tasks/health", "liveness path /health")


def test_missing_health_check_is_reported(objs, spin):
    del find(objs, "SpinApp", "frontend")["spec"]["checks"]["readiness"]
    assert_reports(problems(objs, spin, "health-checks"), "no readiness")


def test_ingress_backend_that_does_not_exist_is_reported(objs, spin):
    paths = find(objs, "Ingress", "microtaskhub")["spec"]["rules"][0]["http"]["paths"]
    wrong_port = copy.deepcopy(paths[0])
    wrong_port["backend"]["service"]["port"]["number"] = 8080
    paths.append(wrong_port)
    paths[0]["backend"]["service"]["name"] = "users"
    assert_reports(problems(objs, spin, "ingress-backends"), "'users'", "port 8080")


def test_ingress_path_to_the_wrong_component_is_reported(objs, spin):
    paths = find(objs, "Ingress", "microtaskhub")["spec"]["rules"][0]["http"]["paths"]
    paths[0]["backend"]["service"]["name"] = "task-service"  # / -> task-service
    assert_reports(problems(objs, spin, "ingress-backends"), "routes / to 'frontend'")


def test_frontend_blocked_from_postgres_is_reported(objs, spin):
    policy = find(objs, "NetworkPolicy", "postgres")
    policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"].remove("frontend")
    assert_reports(problems(objs, spin, "network-policies"),
                   "SpinApp/frontend must reach StatefulSet/postgres on port 5432, but NetworkPolicies block it")


def test_frontend_egress_to_postgres_blocked_is_reported(objs, spin):
    policy = find(objs, "NetworkPolicy", "frontend")
    policy["spec"]["egress"] = [r for r in policy["spec"]["egress"] if r["ports"][0]["port"] != 5432]
    assert_reports(problems(objs, spin, "network-policies"),
                   "SpinApp/frontend must reach StatefulSet/postgres on port 5432, but its egress policies block it")


def test_api_to_api_traffic_blocked_is_reported(objs, spin):
    policy = find(objs, "NetworkPolicy", "user-service")
    policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"] = ["frontend"]
    assert_reports(problems(objs, spin, "network-policies"), "SpinApp/task-service must reach SpinApp/user-service")


@pytest.mark.parametrize("peer, client", [(1, "Job/microtaskhub-migrate"), (2, "CronJob/postgres-backup")])
def test_database_client_blocked_from_postgres_is_reported(objs, spin, peer, client):
    policy = find(objs, "NetworkPolicy", "postgres")
    del policy["spec"]["ingress"][0]["from"][peer]
    assert_reports(problems(objs, spin, "network-policies"), f"{client} must reach StatefulSet/postgres")


def test_missing_default_deny_is_reported(objs, spin):
    objs.remove(find(objs, "NetworkPolicy", "default-deny"))
    objs.remove(find(objs, "NetworkPolicy", "frontend"))
    assert_reports(problems(objs, spin, "network-policies"), "a pod in another namespace may reach SpinApp/frontend")


def test_egress_blocked_is_reported(objs, spin):
    policy = find(objs, "NetworkPolicy", "task-service")
    del policy["spec"]["egress"][1]  # task-service -> user-service
    assert_reports(problems(objs, spin, "network-policies"),
                   "SpinApp/task-service must reach SpinApp/user-service on port 80, but its egress policies block it")


def test_egress_wider_than_needed_is_reported(objs, spin):
    policy = find(objs, "NetworkPolicy", "database-clients")
    policy["spec"]["egress"].append(copy.deepcopy(find(objs, "NetworkPolicy", "frontend")["spec"]["egress"][1]))
    assert_reports(problems(objs, spin, "network-policies"),
                   "Job/microtaskhub-migrate may open connections to SpinApp/user-service")


def test_pod_without_egress_policy_is_reported(objs, spin):
    objs.remove(find(objs, "NetworkPolicy", "default-deny"))
    objs.remove(find(objs, "NetworkPolicy", "allow-dns"))
    find(objs, "NetworkPolicy", "frontend")["spec"]["policyTypes"] = ["Ingress"]
    assert_reports(problems(objs, spin, "network-policies"), "SpinApp/frontend has no egress policy")


def test_hpa_maxima_beyond_max_connections_are_reported(objs, spin):
    find(objs, "HorizontalPodAutoscaler", "user-service")["spec"]["maxReplicas"] = 10
    assert_reports(problems(objs, spin, "connection-budget"), "user-service (10+3 pods x 64)",
                   "max_connections=850")


def test_frontend_pools_count_in_the_connection_budget(objs, spin, capsys):
    assert problems(objs, spin, "connection-budget") == []
    assert "frontend (4+1 pods x 64)" in capsys.readouterr().out
    # Its old maximum, from before it used the database, no longer fits.
    find(objs, "HorizontalPodAutoscaler", "frontend")["spec"]["maxReplicas"] = 6
    assert_reports(problems(objs, spin, "connection-budget"), "frontend (6+2 pods x 64)", "= 1037")


def test_max_connections_left_at_the_default_is_reported(objs, spin):
    container = find(objs, "StatefulSet", "postgres")["spec"]["template"]["spec"]["containers"][0]
    del container["args"]
    assert_reports(problems(objs, spin, "connection-budget"), "max_connections=100")


def test_migration_missing_from_configmap_is_reported(objs, spin, tmp_path):
    for f in (ROOT / "migrations").iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "9999_added_later.sql").write_text("SELECT 1;\n")
    (tmp_path / "migrate.sh").write_text("#!/bin/sh\n# edited\n")
    assert_reports(problems(objs, spin, "migrations-configmap", tmp_path),
                   "lacks 9999_added_later.sql", "migrate.sh differs")


def test_job_not_running_migrate_sh_is_reported(objs, spin):
    job = find(objs, "Job", "microtaskhub-migrate")
    job["spec"]["template"]["spec"]["containers"][0]["command"] = ["psql", "-f", "/migrations/0001_initial_schema.sql"]
    assert_reports(problems(objs, spin, "migrations-configmap"), "does not run migrate.sh")


def test_missing_recommended_label_is_reported(objs, spin):
    del find(objs, "SpinApp", "frontend")["spec"]["podLabels"]["app.kubernetes.io/version"]
    del find(objs, "Service", "postgres")["metadata"]["labels"]["app.kubernetes.io/part-of"]
    assert_reports(problems(objs, spin, "recommended-labels"), "SpinApp/frontend spec.podLabels", "Service/postgres")


def test_executor_missing_from_namespace_is_reported(objs, spin):
    objs.remove(find(objs, "SpinAppExecutor", "containerd-shim-spin"))
    assert_reports(problems(objs, spin, "spinapp-image-and-executor"), "containerd-shim-spin")


def test_two_images_are_reported(objs, spin):
    find(objs, "SpinApp", "frontend")["spec"]["image"] = "ghcr.io/your-org/frontend:0.1.0"
    assert_reports(problems(objs, spin, "spinapp-image-and-executor"), "2 images")


def test_selector_matching_no_pod_is_reported(objs, spin):
    find(objs, "PodDisruptionBudget", "task-service")["spec"]["selector"]["matchLabels"] = {"app": "task-service"}
    assert_reports(problems(objs, spin, "selectors-match-pods"), "PodDisruptionBudget/task-service selects no pod")


def test_malformed_object_fails_the_rule_instead_of_crashing(objs, spin):
    del find(objs, "HorizontalPodAutoscaler", "user-service")["spec"]["scaleTargetRef"]
    assert_reports(problems(objs, spin, "hpa-targets"), "could not evaluate")


# ----------------------------------------------------------------- schema validation


def schema_errors(objs, crd_dir=SCHEMAS) -> dict[str, list[str]]:
    results = k8s_validate.validate_objects(objs, K8S_VERSION, k8s_validate.CrdSchemas(Path(crd_dir)))
    return {label.split(" ")[0]: errors for label, errors in results if errors}


def test_missing_crd_directory_fails_loudly(objs, tmp_path):
    errors = schema_errors(objs, tmp_path / "no-such-dir")
    assert set(errors) == {"SpinApp/frontend", "SpinApp/task-service", "SpinApp/user-service",
                           "SpinAppExecutor/containerd-shim-spin"}
    assert "is missing" in errors["SpinApp/frontend"][0]


@needs_crds
def test_unknown_spinapp_field_fails(objs):
    find(objs, "SpinApp", "user-service")["spec"]["replica"] = 2
    find(objs, "SpinApp", "frontend")["spec"]["checks"]["readiness"]["httpGet"]["port"] = 80
    errors = schema_errors(objs)
    assert "'replica' was unexpected" in errors["SpinApp/user-service"][0]
    assert "'port' was unexpected" in errors["SpinApp/frontend"][0]


@needs_crds
def test_wrong_type_in_spinapp_fails(objs):
    find(objs, "SpinApp", "frontend")["spec"]["replicas"] = "2"
    assert "is not of type 'integer'" in schema_errors(objs)["SpinApp/frontend"][0]


@needs_crds
def test_spinapp_without_image_fails(objs):
    del find(objs, "SpinApp", "task-service")["spec"]["image"]
    assert "'image' is a required property" in schema_errors(objs)["SpinApp/task-service"][0]


@needs_crds
def test_unknown_builtin_field_fails_in_strict_mode(objs):
    find(objs, "StatefulSet", "postgres")["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    assert "livenesProbe" in schema_errors(objs)["StatefulSet/postgres"][0]


@needs_crds
def test_unknown_kind_fails(objs):
    objs.append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    objs.append({"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "d"}})
    errors = schema_errors(objs)
    assert "Widget/w" in errors and "Deploymnet/d" in errors


# ----------------------------------------------------------------- checkov skip list


def finding(check_id, resource):
    return {"check_id": check_id, "check_name": "a check", "resource": resource}


def test_checkov_finding_not_in_skip_list_fails():
    report = {"results": {"failed_checks": [finding("CKV_K8S_40", "StatefulSet.microtaskhub.postgres"),
                                            finding("CKV_K8S_22", "Job.microtaskhub.microtaskhub-migrate")]}}
    skips = [{"id": "CKV_K8S_40", "resources": ["StatefulSet/postgres"], "reason": "uid 70"}]
    uncovered, stale, skipped = k8s_checkov.evaluate(report, skips)
    assert uncovered == ["CKV_K8S_22 a check -- Job/microtaskhub-migrate"] and stale == [] and skipped == 1


def test_checkov_skip_for_other_resource_does_not_cover():
    report = {"results": {"failed_checks": [finding("CKV_K8S_40", "Job.microtaskhub.other")]}}
    skips = [{"id": "CKV_K8S_40", "resources": ["StatefulSet/postgres"], "reason": "uid 70"}]
    uncovered, stale, _ = k8s_checkov.evaluate(report, skips)
    assert len(uncovered) == 1 and len(stale) == 1


def test_checkov_skip_without_reason_fails(tmp_path):
    path = tmp_path / "skips.yaml"
    path.write_text("skips:\n  - id: CKV_K8S_40\n    reason: ''\n")
    _, problems_found = k8s_checkov.load_skips(path)
    assert problems_found == ["skip entry 0 (CKV_K8S_40) has no reason"]


def test_project_skip_list_has_reasons():
    skips, problems_found = k8s_checkov.load_skips(ROOT / "k8s" / "checkov-skips.yaml")
    assert skips and problems_found == []


# ----------------------------------------------------------------- placeholder secrets


def test_placeholder_in_a_rendered_secret_fails(objs):
    secret = find(objs, "Secret", "microtaskhub-secrets")
    secret["data"]["database_url"] = base64.b64encode(
        b"postgres://microtaskhub_app:CHANGE_ME@postgres:5432/microtaskhub").decode()
    secret["data"]["api_token"] = base64.b64encode(b"too-short").decode()
    secret["data"]["ui_password"] = base64.b64encode(b"elevenchars").decode()
    secret["data"]["ui_username"] = base64.b64encode(b"admin").decode()  # the default before accounts
    found = k8s_secrets_check.check_rendered(objs, yaml.safe_dump_all(objs))
    assert_reports(found, "key database_url holds a placeholder", "key api_token is shorter than 32 bytes",
                   "key ui_password is shorter than 12 characters", "key ui_username is not an email address")


def test_rendered_generated_secrets_pass(objs):
    assert k8s_secrets_check.check_rendered(objs, yaml.safe_dump_all(objs)) == []


def test_committed_placeholders_and_tracked_secret_files_fail(tmp_path):
    (tmp_path / "k8s" / "overlays" / "prod" / "secrets").mkdir(parents=True)
    (tmp_path / "k8s" / "overlays" / "prod" / "secrets" / "app.env").write_text("api_token=0123\n")
    (tmp_path / "k8s" / "base.yaml").write_text("password: CHANGE_ME_password\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "k8s"], check=True)
    found = k8s_secrets_check.check_committed(tmp_path)
    assert_reports(found, "k8s/overlays/prod/secrets/app.env is tracked", "k8s/base.yaml:1 holds a placeholder")


def test_the_project_commits_no_placeholders():
    assert k8s_secrets_check.check_committed(ROOT) == []


def test_generated_secrets_are_random_and_long_enough(tmp_path):
    overlay = tmp_path / "o"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("kind: Kustomization\n")
    generate = [str(ROOT / "scripts" / "k8s-secrets.sh"), str(overlay)]
    subprocess.run(generate, check=True, capture_output=True)
    first = (overlay / "secrets" / "app.env").read_text()
    pg = dict(line.split("=", 1) for line in (overlay / "secrets" / "postgres.env").read_text().splitlines())
    assert subprocess.run(generate, capture_output=True).returncode != 0, "refuses to overwrite"
    subprocess.run(generate + ["--force"], check=True, capture_output=True)
    assert (overlay / "secrets" / "app.env").read_text() != first
    values = dict(line.split("=", 1) for line in first.splitlines())
    assert set(values) == {"database_url", "api_token", "ui_username", "ui_password"}  # no session_secret
    assert len(values["api_token"]) >= 32
    assert len(values["ui_password"]) >= 12
    assert values["ui_username"] == "admin@example.com"  # the overlay patches no Ingress host
    assert f"microtaskhub_app:{pg['app_password']}@" in values["database_url"]
    assert oct((overlay / "secrets" / "app.env").stat().st_mode & 0o777) == "0o600"


def test_generated_first_admin_is_an_email(tmp_path):
    generate = [str(ROOT / "scripts" / "k8s-secrets.sh")]
    for name in ("dev", "prod"):
        overlay = tmp_path / name
        overlay.mkdir()
        shutil.copy(ROOT / "k8s" / "overlays" / name / "kustomization.yaml", overlay)
        subprocess.run(generate + [str(overlay)], check=True, capture_output=True)
    def admin(name):
        env = (tmp_path / name / "secrets" / "app.env").read_text()
        return dict(line.split("=", 1) for line in env.splitlines())["ui_username"]
    # admin@ the host each overlay's Ingress patch sets.
    assert admin("dev") == "admin@microtaskhub-dev.example.com"
    assert admin("prod") == "admin@microtaskhub.example.com"
    subprocess.run(generate + [str(tmp_path / "prod"), "--force", "--admin-email", "ops@corp.example"],
                   check=True, capture_output=True)
    assert admin("prod") == "ops@corp.example"
    refused = subprocess.run(generate + [str(tmp_path / "prod"), "--force", "--admin-email", "admin"],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "not an email address" in refused.stderr
    assert admin("prod") == "ops@corp.example"


# ----------------------------------------------------------------- overlays


def test_public_api_is_opt_in(tmp_path, spin):
    prod = [o for o in yaml.safe_load_all(render_overlay(tmp_path / "a", "prod")) if o]
    public = [o for o in yaml.safe_load_all(render_overlay(tmp_path / "b", "public-api")) if o]
    paths = {name: [p["path"] for p in find(objs, "Ingress", "microtaskhub")["spec"]["rules"][0]["http"]["paths"]]
             for name, objs in (("prod", prod), ("public", public))}
    assert paths == {"prod": ["/"], "public": ["/users", "/tasks", "/"]}
    assert {r: p for r, p in kc.check(public, spin, ROOT / "migrations").items() if p} == {}
    # The prod policies would block the controller from the APIs the public overlay routes to.
    ingress = find(public, "Ingress", "microtaskhub")
    prod_with_public_routes = [ingress if o["kind"] == "Ingress" else o for o in prod]
    assert_reports(kc.check(prod_with_public_routes, spin)["network-policies"],
                   "must reach SpinApp/user-service on port 80, but NetworkPolicies block it")


def test_tls_and_https_redirect_by_default(objs):
    ingress = find(objs, "Ingress", "microtaskhub")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    assert annotations.get("cert-manager.io/cluster-issuer")
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]


def test_validate_can_skip_custom_resources_only(tmp_path, objs, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump_all(objs))
    assert k8s_validate.main([str(path), "--kubernetes-version", K8S_VERSION, "--skip-custom-resources"]) == 0
    assert "skip SpinApp/frontend" in capsys.readouterr().out
    find(objs, "StatefulSet", "postgres")["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    path.write_text(yaml.safe_dump_all(objs))
    assert k8s_validate.main([str(path), "--kubernetes-version", K8S_VERSION, "--skip-custom-resources"]) == 1
