#!/usr/bin/env python3
"""Cross-checks the rendered Kubernetes manifests against each other and spin.toml.

Schema validation says each object is well-formed; this says they fit together
the way the spin-operator and Spin will use them. Each rule below reports the
problems it finds; a rule with none passes.

usage: k8s_consistency.py RENDERED.yaml [--spin-toml spin.toml] [--migrations migrations/]
Prints one line per rule (and its problems), then "N passed, N failed";
exits 1 on any failure.

What the spin-operator does, that the rules rely on (spinframework/spin-operator,
internal/controller): for a SpinApp named X it creates an apps/v1 Deployment X
and a ClusterIP Service X (port 80 -> container port 80, "http-app"), labels
the pods core.spinkube.dev/app-name=X plus spec.podLabels, leaves the
Deployment's replicas alone when spec.enableAutoscaling is true, retains only
spec.components (all components when absent), passes spec.variables to Spin
as application variables, and looks spec.executor up in the SpinApp's namespace.
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from k8s_common import load_objects, report

SPIN_API = "core.spinkube.dev/v1alpha1"
APP_NAME_LABEL = "core.spinkube.dev/app-name"
SPINAPP_SERVICE_PORT = 80  # the operator's Service port and container port
SPIN_HOST_HEALTH = "/.well-known/spin/health"  # served by Spin's HTTP trigger itself
RECOMMENDED_LABELS = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
]
INGRESS_CONTROLLER_NAMESPACE = "ingress-nginx"
TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "CronJob")
# The role the apps connect as (k8s/base/database/app-role.sql,
# migrations/0003_app_role_privileges.sql): DML on the app's tables only.
APP_ROLE = "microtaskhub_app"
# Spin 3.6.3 keeps one Postgres pool per address per process, of this size
# (factor-outbound-pg); a connection is held from Connection::open to its drop.
SPIN_PG_POOL_SIZE = 64
# Postgres' default superuser_reserved_connections, and what the budget keeps
# free beyond the apps: the migration Job, the backup CronJob, an operator's psql.
PG_SUPERUSER_RESERVED = 3
PG_HEADROOM = 10


def pod_template(o: dict) -> dict:
    """The pod template of a workload (a CronJob's is one level deeper)."""
    spec = o.get("spec", {})
    if o.get("kind") == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {})

RULES = [
    "namespace",
    "recommended-labels",
    "components-deployed",
    "spinapp-image-and-executor",
    "spinapp-variables",
    "secret-and-configmap-refs",
    "service-urls",
    "database-host",
    "ingress-backends",
    "hpa-targets",
    "health-checks",
    "selectors-match-pods",
    "network-policies",
    "migrations-configmap",
    "connection-budget",
]


# --------------------------------------------------------------------------- model


class Manifest:
    def __init__(self, objects: list[dict]):
        self.objects = [o for o in objects if o]
        ns = [o for o in self.objects if o.get("kind") == "Namespace"]
        self.namespace = ns[0]["metadata"]["name"] if len(ns) == 1 else None

    def of_kind(self, kind: str, api_version: str | None = None) -> list[dict]:
        return [
            o for o in self.objects
            if o.get("kind") == kind and (api_version is None or o.get("apiVersion") == api_version)
        ]

    def get(self, kind: str, name: str, namespace: str | None) -> dict | None:
        for o in self.of_kind(kind):
            if o["metadata"].get("name") == name and o["metadata"].get("namespace") == namespace:
                return o
        return None

    @property
    def spinapps(self) -> list[dict]:
        return self.of_kind("SpinApp", SPIN_API)

    def named_spinapps(self) -> list[tuple[str, dict]]:
        return [(app["metadata"]["name"], app) for app in self.spinapps]

    def spinapp(self, name: str, namespace: str | None) -> dict | None:
        for app in self.spinapps:
            if app["metadata"]["name"] == name and app["metadata"].get("namespace") == namespace:
                return app
        return None

    def services(self) -> dict[tuple[str | None, str], list[int]]:
        """(namespace, name) -> ports of every Service, rendered or created by the operator."""
        result = {}
        for svc in self.of_kind("Service"):
            ports = [p.get("port") for p in svc.get("spec", {}).get("ports", [])]
            result[(svc["metadata"].get("namespace"), svc["metadata"]["name"])] = ports
        for app in self.spinapps:
            result.setdefault((app["metadata"].get("namespace"), app["metadata"]["name"]), [SPINAPP_SERVICE_PORT])
        return result

    def secret_data(self, name: str, namespace: str | None) -> dict[str, str] | None:
        secret = self.get("Secret", name, namespace)
        if secret is None:
            return None
        data = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (secret.get("data") or {}).items()}
        data.update(secret.get("stringData") or {})
        return data

    def pods(self) -> list[dict]:
        """Every pod the manifests will produce: {source, namespace, labels, ports, template}."""
        pods = []
        for o in self.objects:
            if o.get("kind") in WORKLOAD_KINDS:
                template = pod_template(o)
                ports = [
                    p.get("containerPort")
                    for c in template.get("spec", {}).get("containers", [])
                    for p in c.get("ports", [])
                ]
                pods.append({
                    "source": f"{o['kind']}/{o['metadata']['name']}",
                    "namespace": o["metadata"].get("namespace"),
                    "labels": dict(template.get("metadata", {}).get("labels") or {}),
                    "ports": ports,
                    "spinapp": None,
                })
        for name, app in self.named_spinapps():
            labels = dict(app.get("spec", {}).get("podLabels") or {})
            labels[APP_NAME_LABEL] = name
            labels[f"core.spinkube.dev/app.{name}.status"] = "ready"
            pods.append({
                "source": f"SpinApp/{name}",
                "namespace": app["metadata"].get("namespace"),
                "labels": labels,
                "ports": [SPINAPP_SERVICE_PORT],
                "spinapp": app,
            })
        return pods


class SpinManifest:
    def __init__(self, data: dict):
        self.data = data
        self.variables: dict[str, dict] = data.get("variables", {})
        self.components: dict[str, dict] = data.get("component", {})
        self.routes: list[tuple[str, str]] = []  # (route, component id)
        for trigger in data.get("trigger", {}).get("http", []):
            component = trigger.get("component")
            if isinstance(component, dict):  # inline component: no id to deploy by
                continue
            self.routes.append((trigger["route"], component))

    @classmethod
    def load(cls, path: Path) -> "SpinManifest":
        with path.open("rb") as f:
            return cls(tomllib.load(f))

    def required_without_default(self) -> set[str]:
        return {n for n, v in self.variables.items() if v.get("required") and "default" not in v}

    def variables_used_by(self, component: str) -> set[str]:
        """App variables a component's templates reference (variables and allowed_outbound_hosts)."""
        comp = self.components.get(component, {})
        texts = list((comp.get("variables") or {}).values()) + list(comp.get("allowed_outbound_hosts") or [])
        return {name for text in texts for name in TEMPLATE.findall(str(text))}

    def outbound_variables(self, component: str) -> set[str]:
        comp = self.components.get(component, {})
        return {n for h in comp.get("allowed_outbound_hosts") or [] for n in TEMPLATE.findall(str(h))}

    def component_for_path(self, path: str) -> str | None:
        """The component Spin's router would pick for a request path (most specific route)."""
        best = None  # (score, component)
        for route, component in self.routes:
            score = route_match(route, path)
            if score is not None and (best is None or score > best[0]):
                best = (score, component)
        return best[1] if best else None


def route_match(route: str, path: str) -> int | None:
    """A specificity score when a Spin route matches the path, else None."""
    wildcard = route.endswith("/...")
    base = route[: -len("/...")] if wildcard else route
    route_segments = [s for s in base.split("/") if s]
    path_segments = [s for s in path.split("?")[0].split("/") if s]
    if wildcard:
        if len(path_segments) < len(route_segments):
            return None
    elif len(path_segments) != len(route_segments):
        return None
    for r, p in zip(route_segments, path_segments):
        if not r.startswith(":") and r != p:
            return None
    return len(route_segments) * 2 + (0 if wildcard else 1)


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against a label set."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def ref(o: dict) -> str:
    return f"{o.get('kind')}/{o.get('metadata', {}).get('name')}"


# --------------------------------------------------------------------------- rules


def rule_namespace(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    if m.namespace is None:
        return ["expected exactly one Namespace object"]
    for o in m.objects:
        if o["kind"] == "Namespace":
            continue
        ns = o["metadata"].get("namespace")
        if ns != m.namespace:
            problems.append(f"{ref(o)} is in namespace {ns!r}, not {m.namespace!r}")
    return problems


def rule_recommended_labels(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    for o in m.objects:
        missing = [k for k in RECOMMENDED_LABELS if not (o["metadata"].get("labels") or {}).get(k)]
        if missing:
            problems.append(f"{ref(o)} lacks labels {', '.join(missing)}")
    for pod in m.pods():
        missing = [k for k in RECOMMENDED_LABELS if not pod["labels"].get(k)]
        if missing:
            where = "spec.podLabels" if pod["spinapp"] else "pod template"
            problems.append(f"{pod['source']} {where} lacks labels {', '.join(missing)}")
    return problems


def deployed_components(app: dict, spin: SpinManifest) -> list[str]:
    components = app.get("spec", {}).get("components")
    return list(components) if components else list(spin.components)


def rule_components_deployed(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    deployers: dict[str, list[str]] = {c: [] for c in spin.components}
    for app in m.spinapps:
        for component in deployed_components(app, spin):
            if component not in spin.components:
                problems.append(f"SpinApp/{app['metadata']['name']} retains {component!r}, which spin.toml does not define")
            else:
                deployers[component].append(app["metadata"]["name"])
    for component, apps in deployers.items():
        if len(apps) != 1:
            problems.append(
                f"component {component!r} is deployed by {len(apps)} SpinApps ({', '.join(apps) or 'none'}), expected exactly one"
            )
    return problems


def rule_spinapp_image_and_executor(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    images = {app["spec"].get("image") for app in m.spinapps}
    if len(images) > 1:
        problems.append(f"the SpinApps use {len(images)} images ({', '.join(sorted(map(str, images)))}), expected one")
    for app in m.spinapps:
        ns = app["metadata"].get("namespace")
        executor = app["spec"].get("executor")
        if not executor or m.get("SpinAppExecutor", executor, ns) is None:
            problems.append(
                f"SpinApp/{app['metadata']['name']} uses executor {executor!r}, which is not a SpinAppExecutor "
                f"in namespace {ns} (the operator only looks there)"
            )
        spec = app["spec"]
        if spec.get("enableAutoscaling") and "replicas" in spec:
            problems.append(f"SpinApp/{app['metadata']['name']} sets both enableAutoscaling and replicas")
    return problems


def rule_spinapp_variables(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    for name, app in m.named_spinapps():
        supplied = {}
        for var in app["spec"].get("variables") or []:
            if var["name"] in supplied:
                problems.append(f"SpinApp/{name} sets variable {var['name']} twice")
            supplied[var["name"]] = var
            if ("value" in var) == ("valueFrom" in var):
                problems.append(f"SpinApp/{name} variable {var['name']} needs exactly one of value / valueFrom")
            if var["name"] not in spin.variables:
                problems.append(f"SpinApp/{name} sets {var['name']!r}, which spin.toml's [variables] does not declare")
        needed: dict[str, str] = {}
        for component in deployed_components(app, spin):
            for var in spin.variables_used_by(component):
                spec = spin.variables.get(var)
                if spec is None:
                    problems.append(f"spin.toml component {component} references undeclared variable {var!r}")
                    continue
                needed.setdefault(var, f"referenced by component {component}")
        for var in spin.required_without_default():
            needed.setdefault(var, "required by spin.toml with no default (Spin will not start without it)")
        for var, why in sorted(needed.items()):
            if var not in supplied:
                problems.append(f"SpinApp/{name} does not supply {var!r} ({why})")
        # Least privilege: no secret the SpinApp's own components do not use.
        used = {v for c in deployed_components(app, spin) for v in spin.variables_used_by(c)}
        for var in sorted(supplied):
            if (spin.variables.get(var) or {}).get("secret") and var not in used:
                problems.append(
                    f"SpinApp/{name} receives secret {var!r}, which none of its components "
                    f"({', '.join(deployed_components(app, spin))}) uses"
                )
    return problems


def _key_refs(m: Manifest):
    """(owner, kind, name, key|None, namespace) for every Secret/ConfigMap reference."""
    for app in m.spinapps:
        ns = app["metadata"].get("namespace")
        for var in app["spec"].get("variables") or []:
            source = var.get("valueFrom") or {}
            for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                if field in source and not source[field].get("optional"):
                    yield (f"SpinApp/{app['metadata']['name']} variable {var['name']}", kind,
                           source[field].get("name"), source[field].get("key"), ns)
        for secret in app["spec"].get("imagePullSecrets") or []:
            yield (f"SpinApp/{app['metadata']['name']} imagePullSecrets", "Secret", secret.get("name"), None, ns)
    for o in m.objects:
        if o.get("kind") not in WORKLOAD_KINDS:
            continue
        ns = o["metadata"].get("namespace")
        pod = pod_template(o).get("spec", {})
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            for env in c.get("env") or []:
                source = env.get("valueFrom") or {}
                for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    if field in source and not source[field].get("optional"):
                        yield (f"{ref(o)} container {c['name']} env {env['name']}", kind,
                               source[field].get("name"), source[field].get("key"), ns)
            for env_from in c.get("envFrom") or []:
                for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                    if field in env_from and not env_from[field].get("optional"):
                        yield (f"{ref(o)} container {c['name']} envFrom", kind, env_from[field].get("name"), None, ns)
        for vol in pod.get("volumes") or []:
            for field, kind, name_field in (("secret", "Secret", "secretName"), ("configMap", "ConfigMap", "name")):
                if field in vol and not vol[field].get("optional"):
                    name = vol[field].get(name_field)
                    items = vol[field].get("items") or [None]
                    for item in items:
                        yield (f"{ref(o)} volume {vol['name']}", kind, name, item and item.get("key"), ns)


def rule_secret_and_configmap_refs(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    for owner, kind, name, key, ns in _key_refs(m):
        target = m.get(kind, name, ns)
        if target is None:
            problems.append(f"{owner} references {kind} {name!r}, which is not rendered in namespace {ns}")
            continue
        keys = set(target.get("data") or {}) | set(target.get("stringData") or {}) | set(target.get("binaryData") or {})
        if key is not None and key not in keys:
            problems.append(f"{owner} references key {key!r} of {kind} {name!r}, which has only {sorted(keys)}")
    return problems


def _component_deployer(m: Manifest, spin: SpinManifest, component: str, ns: str | None) -> str | None:
    for app in m.spinapps:
        if app["metadata"].get("namespace") == ns and component in deployed_components(app, spin):
            return app["metadata"]["name"]
    return None


def _url_service(url: str, own_ns: str | None = None) -> tuple[str | None, str | None, int | None]:
    """(service, namespace, port) of an in-cluster URL, else (None, None, None).

    A bare name (http://user-service, postgres:5432) is a Service of the pod's
    own namespace, `own_ns` (the pod's resolv.conf search path finds it).
    """
    if "://" not in url:
        url = "tcp://" + url
    parts = urlsplit(url)
    host = parts.hostname or ""
    labels = host.split(".")
    if len(labels) == 1 and host:
        labels = [host, own_ns or "", "svc"]
    if len(labels) >= 3 and labels[2] == "svc" and (len(labels) == 3 or ".".join(labels[3:]) == "cluster.local"):
        try:
            port = parts.port
        except ValueError:
            return labels[0], labels[1], -1
        if port is None:
            port = {"http": 80, "https": 443, "postgres": 5432, "postgresql": 5432}.get(parts.scheme)
        return labels[0], labels[1], port
    return None, None, None


def rule_service_urls(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    """*_service_url variables: in-cluster, at the Service of the SpinApp running that component."""
    problems = []
    services = m.services()
    for name, app in m.named_spinapps():
        ns = app["metadata"].get("namespace")
        for var in app["spec"].get("variables") or []:
            if not var["name"].endswith("_url") or "value" not in var:
                continue
            value = var["value"]
            if ".spin.internal" in value:
                problems.append(
                    f"SpinApp/{name} {var['name']}={value}: *.spin.internal only works inside one Spin process"
                )
                continue
            service, svc_ns, port = _url_service(value, ns)
            if service is None:
                problems.append(f"SpinApp/{name} {var['name']}={value} is not an in-cluster Service URL")
                continue
            if (svc_ns, service) not in services:
                problems.append(f"SpinApp/{name} {var['name']}={value}: no Service {service} in namespace {svc_ns}")
            elif port not in services[(svc_ns, service)]:
                problems.append(f"SpinApp/{name} {var['name']}={value}: Service {service} has no port {port}")
            component = var["name"][: -len("_url")].replace("_", "-")
            if component in spin.components:
                deployer = _component_deployer(m, spin, component, ns)
                if deployer != service or svc_ns != ns:
                    problems.append(
                        f"SpinApp/{name} {var['name']}={value} should name the Service of SpinApp "
                        f"{deployer} (which runs {component}): http://{deployer}"
                    )
    return problems


def _var_value(m: Manifest, app: dict, var_name: str) -> str | None:
    for var in app["spec"].get("variables") or []:
        if var["name"] != var_name:
            continue
        if "value" in var:
            return var["value"]
        key_ref = (var.get("valueFrom") or {}).get("secretKeyRef")
        if key_ref:
            data = m.secret_data(key_ref["name"], app["metadata"].get("namespace")) or {}
            return data.get(key_ref["key"])
    return None


def rule_database_host(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    """database_host == host:port of database_url, which is a rendered Service whose pods have the credentials."""
    problems = []
    services = m.services()
    for name, app in m.named_spinapps():
        url = _var_value(m, app, "database_url")
        host = _var_value(m, app, "database_host")
        if host is not None and ":" not in host:
            host += ":5432"
        uses_db = any("database_host" in spin.outbound_variables(c) for c in deployed_components(app, spin))
        if url is None:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            problems.append(f"SpinApp/{name} database_url has scheme {parts.scheme!r}, expected postgres")
            continue
        try:
            netloc = f"{parts.hostname}:{parts.port or 5432}"
        except ValueError:
            problems.append(f"SpinApp/{name} database_url has an invalid port")
            continue
        if uses_db and host != netloc:
            problems.append(
                f"SpinApp/{name} database_host={host!r} but database_url points at {netloc!r}: "
                "Spin would refuse the connection (allowed_outbound_hosts)"
            )
        service, svc_ns, port = _url_service(url, app["metadata"].get("namespace"))
        if service is None or (svc_ns, service) not in services or port not in services[(svc_ns, service)]:
            problems.append(f"SpinApp/{name} database_url host {netloc} is not a rendered Service and port")
            continue
        # Least privilege: the apps connect as the DML-only role, with the
        # password the migration Job gives that role, to the database the
        # Postgres behind that Service was initialised with.
        if parts.username != APP_ROLE:
            problems.append(
                f"SpinApp/{name} database_url connects as {parts.username!r}, not as the application role "
                f"{APP_ROLE!r} (DML only; the migration Job owns the schema)"
            )
        app_passwords = _job_app_passwords(m, svc_ns)
        if not app_passwords:
            problems.append(f"no migration Job in namespace {svc_ns} mounts an app_password to create role {APP_ROLE}")
        elif parts.password not in app_passwords:
            problems.append(
                f"SpinApp/{name} database_url password does not match the app_password the migration Job sets"
            )
        svc = m.get("Service", service, svc_ns)
        for pod in m.pods():
            if svc and pod["namespace"] == svc_ns and selector_matches({"matchLabels": svc["spec"].get("selector")}, pod["labels"]):
                expected = _postgres_credentials(m, pod)
                if expected.get("database") is not None and parts.path.lstrip("/") != expected["database"]:
                    problems.append(
                        f"SpinApp/{name} database_url database does not match what {pod['source']} is initialised with"
                    )
                if expected.get("user") is not None and parts.username == expected["user"]:
                    problems.append(f"SpinApp/{name} database_url connects as the database owner of {pod['source']}")
    return problems


def _job_app_passwords(m: Manifest, ns: str | None) -> set[str]:
    """app_password values of the Secrets that migration Jobs mount."""
    migration_maps = {c["metadata"]["name"] for c in m.of_kind("ConfigMap") if "migrate.sh" in (c.get("data") or {})}
    found = set()
    for job in m.of_kind("Job"):
        if job["metadata"].get("namespace") != ns:
            continue
        volumes = pod_template(job).get("spec", {}).get("volumes") or []
        if not any((v.get("configMap") or {}).get("name") in migration_maps for v in volumes):
            continue
        for v in volumes:
            secret = v.get("secret")
            if secret:
                value = (m.secret_data(secret["secretName"], ns) or {}).get("app_password")
                if value:
                    found.add(value)
    return found


def _postgres_credentials(m: Manifest, pod: dict) -> dict[str, str | None]:
    """user/password/database a postgres image pod is given (POSTGRES_X or POSTGRES_X_FILE from a Secret)."""
    kind, name = pod["source"].split("/", 1)
    workload = m.get(kind, name, pod["namespace"])
    spec = (workload or {}).get("spec", {}).get("template", {}).get("spec", {})
    mounts = {}
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    result: dict[str, str | None] = {}
    for c in spec.get("containers", []):
        for mount in c.get("volumeMounts") or []:
            mounts[mount["mountPath"].rstrip("/")] = volumes.get(mount["name"])
        for env in c.get("env") or []:
            field = {"POSTGRES_USER": "user", "POSTGRES_PASSWORD": "password", "POSTGRES_DB": "database"}.get(
                env["name"].removesuffix("_FILE")
            )
            if not field:
                continue
            if env["name"].endswith("_FILE"):
                directory, _, filename = env.get("value", "").rpartition("/")
                volume = mounts.get(directory)
                if volume and "secret" in volume:
                    data = m.secret_data(volume["secret"]["secretName"], pod["namespace"]) or {}
                    items = {i["path"]: i["key"] for i in volume["secret"].get("items") or []}
                    result[field] = data.get(items.get(filename, filename))
            elif "value" in env:
                result[field] = env["value"]
            elif (env.get("valueFrom") or {}).get("secretKeyRef"):
                key_ref = env["valueFrom"]["secretKeyRef"]
                result[field] = (m.secret_data(key_ref["name"], pod["namespace"]) or {}).get(key_ref["key"])
    if "user" in result and "database" not in result:
        result["database"] = result["user"]
    return result


def rule_ingress_backends(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    services = m.services()
    for ing in m.of_kind("Ingress"):
        ns = ing["metadata"].get("namespace")
        for rule in ing["spec"].get("rules") or []:
            for p in (rule.get("http") or {}).get("paths") or []:
                backend = p["backend"].get("service") or {}
                name, port = backend.get("name"), (backend.get("port") or {}).get("number")
                where = f"Ingress/{ing['metadata']['name']} path {p.get('path')}"
                if (ns, name) not in services:
                    problems.append(f"{where} -> Service {name!r}, which neither a manifest nor a SpinApp creates")
                    continue
                if port not in services[(ns, name)]:
                    problems.append(f"{where} -> port {port} of Service {name}, which has {services[(ns, name)]}")
                app = m.spinapp(name, ns)
                if app is not None:
                    component = spin.component_for_path(p.get("path", "/"))
                    if component not in deployed_components(app, spin):
                        problems.append(
                            f"{where} -> SpinApp {name}, but spin.toml routes {p.get('path')} to {component!r}"
                        )
    return problems


def rule_hpa_targets(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    targeted: dict[str, int] = {}
    for hpa in m.of_kind("HorizontalPodAutoscaler"):
        ns = hpa["metadata"].get("namespace")
        target = hpa["spec"]["scaleTargetRef"]
        where = f"HorizontalPodAutoscaler/{hpa['metadata']['name']}"
        kind, name, api = target.get("kind"), target.get("name"), target.get("apiVersion")
        app = m.spinapp(name, ns)
        if kind == "Deployment" and api == "apps/v1" and app is not None:
            if not app["spec"].get("enableAutoscaling"):
                problems.append(
                    f"{where} scales Deployment {name}, but SpinApp {name} does not set enableAutoscaling "
                    "(the operator would fight the HPA over replicas)"
                )
            requests = (app["spec"].get("resources") or {}).get("requests") or {}
            for metric in hpa["spec"].get("metrics") or []:
                resource = (metric.get("resource") or {}).get("name")
                if metric.get("type") == "Resource" and resource not in requests:
                    problems.append(f"{where} scales on {resource}, but SpinApp {name} requests no {resource}")
            targeted[name] = targeted.get(name, 0) + 1
        elif kind == "SpinApp":
            problems.append(f"{where} targets the SpinApp itself, which has no scale subresource")
        elif m.get(kind, name, ns) is None:
            problems.append(f"{where} targets {api} {kind} {name!r}, which neither a manifest nor a SpinApp creates")
    for name, app in m.named_spinapps():
        if app["spec"].get("enableAutoscaling") and targeted.get(name, 0) != 1:
            problems.append(f"SpinApp/{name} enables autoscaling but {targeted.get(name, 0)} HPAs scale it")
    return problems


def rule_health_checks(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    for name, app in m.named_spinapps():
        components = deployed_components(app, spin)
        checks = app["spec"].get("checks") or {}
        for probe in ("readiness", "liveness"):
            path = ((checks.get(probe) or {}).get("httpGet") or {}).get("path")
            if not path:
                problems.append(f"SpinApp/{name} has no {probe} httpGet check")
                continue
            if probe == "liveness" and path == SPIN_HOST_HEALTH:
                continue  # answered by the Spin host in every Spin process
            component = spin.component_for_path(path)
            if component not in components:
                problems.append(
                    f"SpinApp/{name} {probe} path {path} is routed by spin.toml to {component!r}, "
                    f"not to a component this SpinApp runs ({', '.join(components)})"
                )
    return problems


def rule_selectors_match_pods(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    problems = []
    pods = m.pods()

    def matching(selector, ns):
        return [p for p in pods if p["namespace"] == ns and selector_matches(selector, p["labels"])]

    for svc in m.of_kind("Service"):
        selector = svc["spec"].get("selector")
        if selector and not matching({"matchLabels": selector}, svc["metadata"].get("namespace")):
            problems.append(f"Service/{svc['metadata']['name']} selects no pod")
    for kind in ("PodDisruptionBudget",):
        for o in m.of_kind(kind):
            if not matching(o["spec"].get("selector"), o["metadata"].get("namespace")):
                problems.append(f"{ref(o)} selects no pod")
    for o in m.objects:
        if o.get("kind") in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"):
            labels = o["spec"]["template"]["metadata"].get("labels") or {}
            if not selector_matches(o["spec"].get("selector"), labels):
                problems.append(f"{ref(o)} selector does not match its own pod template")
            if o["kind"] == "StatefulSet" and m.get("Service", o["spec"].get("serviceName"), o["metadata"].get("namespace")) is None:
                problems.append(f"{ref(o)} serviceName {o['spec'].get('serviceName')!r} is not a rendered Service")
    for pol in m.of_kind("NetworkPolicy"):
        selector = pol["spec"].get("podSelector")
        if selector and (selector.get("matchLabels") or selector.get("matchExpressions")):
            if not matching(selector, pol["metadata"].get("namespace")):
                problems.append(f"{ref(pol)} podSelector selects no pod")
    return problems


def _selecting_policies(m: Manifest, pod: dict, direction: str) -> list[dict]:
    """The NetworkPolicies that restrict `direction` ("Ingress" or "Egress") of a pod."""
    def types(p: dict) -> list[str]:
        declared = p["spec"].get("policyTypes")
        return declared or (["Ingress"] + (["Egress"] if p["spec"].get("egress") else []))
    return [
        p for p in m.of_kind("NetworkPolicy")
        if p["metadata"].get("namespace") == pod["namespace"]
        and direction in types(p)
        and selector_matches(p["spec"].get("podSelector") or {}, pod["labels"])
    ]


def _peer_lists(policies: list[dict], direction: str, port: int):
    """The peer lists (None: any peer) of the policies' rules that open `port`."""
    for pol in policies:
        for rule in pol["spec"].get(direction.lower()) or []:
            ports = rule.get("ports")
            if ports and not any(p.get("port") in (port, None) for p in ports):
                continue
            yield rule.get("from" if direction == "Ingress" else "to")


def _allowed_sources(m: Manifest, dst: dict, port: int, sources: list[dict]) -> set[str]:
    """Which sources NetworkPolicies let reach dst on port (Kubernetes semantics: allow-lists, unioned)."""
    policies = _selecting_policies(m, dst, "Ingress")
    if not policies:
        return {s["source"] for s in sources}
    allowed = set()
    for peers in _peer_lists(policies, "Ingress", port):
        for src in sources:
            if peers is None or any(_peer_matches(peer, src, dst["namespace"]) for peer in peers):
                allowed.add(src["source"])
    return allowed


def _peer_matches(peer: dict, src: dict, policy_ns: str) -> bool:
    if "ipBlock" in peer:
        return False
    ns_selector, pod_selector = peer.get("namespaceSelector"), peer.get("podSelector")
    if ns_selector is not None:
        ns_labels = {"kubernetes.io/metadata.name": src["namespace"]}
        if not selector_matches(ns_selector, ns_labels):
            return False
    elif src["namespace"] != policy_ns:
        return False
    return pod_selector is None or selector_matches(pod_selector, src["labels"])


def rule_network_policies(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    """Who may reach whom is exactly what the app needs, no more and no less.

    Needed: the ingress controller -> every Ingress backend; component A -> component B
    when A's allowed_outbound_hosts name a variable pointing at B's Service; components
    using `postgres://{{ database_host }}` and the migration Job -> the database.
    """
    problems = []
    pods = m.pods()
    ns = m.namespace
    controller = {"source": f"ingress controller (namespace {INGRESS_CONTROLLER_NAMESPACE})",
                  "namespace": INGRESS_CONTROLLER_NAMESPACE, "labels": {"app.kubernetes.io/name": "ingress-nginx"}}
    outsider = {"source": "a pod in another namespace", "namespace": "elsewhere", "labels": {}}
    sources = pods + [controller, outsider]
    needed: dict[str, set[str]] = {p["source"]: set() for p in pods}
    services = {s["metadata"]["name"]: s for s in m.of_kind("Service")}

    def pods_behind(service_name: str) -> list[dict]:
        app = m.spinapp(service_name, ns)
        if app is not None:
            return [p for p in pods if p["spinapp"] is app]
        svc = services.get(service_name)
        if svc is None or not svc["spec"].get("selector"):
            return []
        return [p for p in pods if selector_matches({"matchLabels": svc["spec"]["selector"]}, p["labels"])]

    for ing in m.of_kind("Ingress"):
        for rule in ing["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                for dst in pods_behind(path["backend"]["service"]["name"]):
                    needed[dst["source"]].add(controller["source"])
    db_pods: list[dict] = []
    for src in pods:
        app = src["spinapp"]
        if app is None:
            continue
        for component in deployed_components(app, spin):
            for var in spin.outbound_variables(component):
                value = _var_value(m, app, var)
                if var == "database_host":
                    value = "postgres://" + (value or "")
                service, _, _ = _url_service(value or "", ns)
                for dst in pods_behind(service or ""):
                    needed[dst["source"]].add(src["source"])
                    if var == "database_host":
                        db_pods.append(dst)
    migration_maps = {c["metadata"]["name"] for c in m.of_kind("ConfigMap") if "migrate.sh" in (c.get("data") or {})}
    for job in m.of_kind("Job") + m.of_kind("CronJob"):
        spec = pod_template(job).get("spec", {})
        volumes = spec.get("volumes") or []
        commands = " ".join(" ".join(c.get("command") or []) + " ".join(c.get("args") or [])
                            for c in spec.get("containers") or [])
        migrates = any((v.get("configMap") or {}).get("name") in migration_maps for v in volumes)
        if migrates or "backup.sh" in commands or "pg_dump" in commands:
            for dst in db_pods:  # the migration Job and the backups talk to the database the apps use
                needed[dst["source"]].add(f"{job['kind']}/{job['metadata']['name']}")
    for dst in pods:
        port = dst["ports"][0] if dst["ports"] else None
        if port is None:
            continue
        allowed = _allowed_sources(m, dst, port, sources) - {dst["source"]}
        want = needed[dst["source"]]
        for src in sorted(want - allowed):
            problems.append(f"{src} must reach {dst['source']} on port {port}, but NetworkPolicies block it")
        for src in sorted(allowed - want):
            problems.append(f"{src} may reach {dst['source']} on port {port}, which nothing needs")
        # Egress: the source's own policies must let the connection out too.
        for src in pods:
            if src is dst:
                continue
            out = _egress_allows(m, src, dst, port)
            if src["source"] in want and out is False:
                problems.append(f"{src['source']} must reach {dst['source']} on port {port}, but its egress policies block it")
            if src["source"] not in want and out is True:
                problems.append(f"{src['source']} may open connections to {dst['source']} on port {port}, which nothing needs")
    for src in pods:
        if _egress_allows(m, src, None, 0) is None:
            problems.append(f"{src['source']} has no egress policy: it may connect anywhere")
    return problems


def _egress_allows(m: Manifest, src: dict, dst: dict | None, port: int) -> bool | None:
    """Whether src's egress policies let it reach dst on port; None when no egress policy selects src."""
    policies = _selecting_policies(m, src, "Egress")
    if not policies:
        return None
    return dst is not None and any(
        peers is None or any(_peer_matches(peer, dst, src["namespace"]) for peer in peers)
        for peers in _peer_lists(policies, "Egress", port)
    )


def rule_connection_budget(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    """Postgres' max_connections covers every Spin pool the HPAs may create, plus a reserve.

    Each pod of a SpinApp whose components connect to Postgres (allowed_outbound_hosts
    `postgres://{{ database_host }}`) holds up to SPIN_PG_POOL_SIZE connections. Pods:
    the HPA's maxReplicas (else spec.replicas, default 1), plus the Deployment's
    rolling-update surge (25 %, rounded up), since old and new pods overlap.
    """
    problems = []
    postgres = [o for o in m.of_kind("StatefulSet")
                if any("postgres" in (c.get("image") or "") for c in pod_template(o).get("spec", {}).get("containers", []))]
    if len(postgres) != 1:
        return [f"expected one Postgres StatefulSet, found {len(postgres)}"]
    max_connections = 100  # Postgres' default
    reserved = PG_SUPERUSER_RESERVED
    for c in pod_template(postgres[0])["spec"]["containers"]:
        args = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
        for arg in args:
            if arg.startswith("max_connections="):
                max_connections = int(arg.split("=", 1)[1])
            if arg.startswith("superuser_reserved_connections="):
                reserved = int(arg.split("=", 1)[1])
    hpas = {h["spec"]["scaleTargetRef"].get("name"): h for h in m.of_kind("HorizontalPodAutoscaler")}
    total, terms = 0, []
    for name, app in m.named_spinapps():
        if not any("database_host" in spin.outbound_variables(c) for c in deployed_components(app, spin)):
            continue
        hpa = hpas.get(name)
        replicas = hpa["spec"]["maxReplicas"] if hpa else app["spec"].get("replicas", 1)
        surge = -(-replicas // 4)
        total += (replicas + surge) * SPIN_PG_POOL_SIZE
        terms.append(f"{name} ({replicas}+{surge} pods x {SPIN_PG_POOL_SIZE})")
    needed = total + reserved + PG_HEADROOM
    print(f"     connection budget: {' + '.join(terms) or 'no SpinApp uses Postgres'} = {total}, "
          f"+ {reserved} superuser reserved + {PG_HEADROOM} headroom = {needed} "
          f"{'<=' if needed <= max_connections else '>'} max_connections {max_connections}")
    if needed > max_connections:
        problems.append(
            f"Postgres max_connections={max_connections} is below what the SpinApps may open: "
            f"{' + '.join(terms)} = {total}, + {reserved} reserved + {PG_HEADROOM} headroom = {needed}"
        )
    return problems


def rule_migrations_configmap(m: Manifest, spin: SpinManifest, migrations: Path | None) -> list[str]:
    """The Job's ConfigMap holds exactly migrations/migrate.sh + every NNNN_*.sql, byte for byte."""
    if migrations is None:
        return []
    problems = []
    expected = {p.name: p.read_text() for p in sorted(migrations.glob("[0-9]*.sql"))}
    expected["migrate.sh"] = (migrations / "migrate.sh").read_text()
    maps = [c for c in m.of_kind("ConfigMap") if "migrate.sh" in (c.get("data") or {})]
    if len(maps) != 1:
        return [f"expected one ConfigMap holding migrate.sh, found {len(maps)}"]
    cm = maps[0]
    data = cm.get("data") or {}
    for name, text in expected.items():
        if name not in data:
            problems.append(f"{ref(cm)} lacks {name} (add it to migrations/kustomization.yaml)")
        elif data[name] != text:
            problems.append(f"{ref(cm)} {name} differs from migrations/{name}")
    for name in sorted(set(data) - set(expected)):
        problems.append(f"{ref(cm)} holds {name}, which is not a migration in {migrations}")
    jobs = [
        j for j in m.of_kind("Job")
        if any((v.get("configMap") or {}).get("name") == cm["metadata"]["name"]
               for v in pod_template(j)["spec"].get("volumes") or [])
    ]
    if not jobs:
        problems.append(f"no Job mounts {ref(cm)}")
    for job in jobs:
        commands = " ".join(
            " ".join(c.get("command") or []) + " " + " ".join(c.get("args") or [])
            for c in pod_template(job)["spec"]["containers"]
        )
        if "migrate.sh" not in commands:
            problems.append(f"{ref(job)} mounts the migrations but does not run migrate.sh")
    return problems


RULE_FUNCS = {
    "namespace": rule_namespace,
    "recommended-labels": rule_recommended_labels,
    "components-deployed": rule_components_deployed,
    "spinapp-image-and-executor": rule_spinapp_image_and_executor,
    "spinapp-variables": rule_spinapp_variables,
    "secret-and-configmap-refs": rule_secret_and_configmap_refs,
    "service-urls": rule_service_urls,
    "database-host": rule_database_host,
    "ingress-backends": rule_ingress_backends,
    "hpa-targets": rule_hpa_targets,
    "health-checks": rule_health_checks,
    "selectors-match-pods": rule_selectors_match_pods,
    "network-policies": rule_network_policies,
    "migrations-configmap": rule_migrations_configmap,
    "connection-budget": rule_connection_budget,
}
assert list(RULE_FUNCS) == RULES


def check(objects: list[dict], spin: SpinManifest, migrations: Path | None = None) -> dict[str, list[str]]:
    """Rule name -> problems (empty when the rule passes). A rule that crashes reports that."""
    manifest = Manifest(objects)
    results = {}
    for name, func in RULE_FUNCS.items():
        try:
            results[name] = func(manifest, spin, migrations)
        except Exception as error:  # a malformed object must fail the rule, not the run
            results[name] = [f"could not evaluate: {type(error).__name__}: {error}"]
    return results


def main(argv=None) -> int:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rendered", help="rendered manifest (kubectl kustomize output), or - for stdin")
    parser.add_argument("--spin-toml", type=Path, default=root / "spin.toml")
    parser.add_argument("--migrations", type=Path, default=root / "migrations")
    args = parser.parse_args(argv)

    results = check(load_objects(args.rendered), SpinManifest.load(args.spin_toml), args.migrations)
    return report(results.items())


if __name__ == "__main__":
    sys.exit(main())
