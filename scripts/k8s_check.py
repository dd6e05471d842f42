#!/usr/bin/env python3
"""Offline checks of rendered Kubernetes manifests (run by scripts/check-k8s.sh).

  k8s_check.py committed ROOT
      no committed file of k8s/ holds a placeholder secret; no secrets/ file is tracked
  k8s_check.py tree DEST
      a copy of k8s/ and migrations/ to render: generated secrets, production images pinned
  k8s_check.py overlay RENDERED... [--release RENDERED]... [--schemas DIR [--require-all-crds]]
      schemas  built-in kinds: kubernetes-validate (strict); custom resources:
               check-jsonschema against the openAPIV3Schema of their CRD in DIR
               (strict: unknown fields fail, as `kubectl apply` with field validation)
      rules    RULES below: how the objects fit together, with each other and with
               spin.toml and migrations/ (the tables at the top say what is expected);
               --release overlays also pin every image by digest

Prints `ok   NAME` or `FAIL NAME` and its problems per check, then "N passed, N failed".
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the CRDs are megabytes

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ what is expected

LABELS = ["name", "instance", "component", "part-of", "version", "managed-by"]
PSA = {"enforce": "baseline", "warn": "restricted", "audit": "restricted"}
PLACEHOLDER = re.compile(r"change_me|changeme|change-me|replace_me", re.I)  # = crates/shared config.rs
APP_ROLE, APP_DB = "microtaskhub_app", "microtaskhub"
# Secret (by app.kubernetes.io/name) -> key -> minimum length, or what the value must be.
SECRETS = {
    "microtaskhub-secrets": {"database_url": "url", "api_token": 32, "api_token_previous": "previous",
                             "ui_username": "email", "ui_password": 12},
    "postgres-owner": {"username": 1, "password": 24},
    "postgres-app": {"username": APP_ROLE, "password": 24},
    "backup-object-store": {"ACCESS_KEY_ID": 1, "ACCESS_SECRET_KEY": 1},
}
# Where objects name other objects: (kind, path, kind named, key field or None).
REFS = [
    ("SpinApp", "spec.variables[].valueFrom.secretKeyRef", "Secret", "key"),
    ("SpinApp", "spec.imagePullSecrets[].name", "Secret", None),
    ("SpinApp", "spec.serviceAccountName", "ServiceAccount", None),
    ("SpinApp", "spec.executor", "SpinAppExecutor", None),
    ("*", "volumes[].secret.secretName", "Secret", None),
    ("*", "volumes[].configMap.name", "ConfigMap", None),
    ("*", "volumes[].persistentVolumeClaim.claimName", "PersistentVolumeClaim", None),
    ("*", "serviceAccountName", "ServiceAccount", None),
    ("HorizontalPodAutoscaler", "spec.scaleTargetRef.name", "Deployment", None),
    ("Ingress", "spec.rules[].http.paths[].backend.service.name", "Service", None),
    ("HTTPRoute", "spec.parentRefs[].name", "Gateway", None),
    ("HTTPRoute", "spec.rules[].backendRefs[].name", "Service", None),
    ("Cluster", "spec.bootstrap.initdb.secret.name", "Secret", None),
    ("Cluster", "spec.bootstrap.recovery.secret.name", "Secret", None),
    ("Cluster", "spec.managed.roles[].passwordSecret.name", "Secret", None),
    ("Cluster", "spec.plugins[].parameters.barmanObjectName", "ObjectStore", None),
    ("Cluster", "spec.externalClusters[].plugin.parameters.barmanObjectName", "ObjectStore", None),
    ("ObjectStore", "spec.configuration.s3Credentials.accessKeyId", "Secret", "key"),
    ("ObjectStore", "spec.configuration.s3Credentials.secretAccessKey", "Secret", "key"),
    ("Pooler", "spec.cluster.name", "Cluster", None),
    ("ScheduledBackup", "spec.cluster.name", "Cluster", None),
]
WORKLOADS = ("Deployment", "StatefulSet", "Job", "CronJob")
SPIN_POOL = 64            # Spin: one pool of up to 64 connections per database address per process
RESERVED, HEADROOM = 3, 10  # superuser_reserved_connections; the Job, backups, an operator's psql
SPIN_HEALTH = "/.well-known/spin/health"
CUSTOM_GROUPS = ("core.spinkube.dev", "postgresql.cnpg.io", "barmancloud.cnpg.io", "gateway.networking.k8s.io")
EDGE_POLICIES = "edge-network-policy"  # app.kubernetes.io/component of the policies the edge patch sets
# Actors outside the namespace: (name, namespace, labels, ports or an address).
OPERATOR = {"name": "CloudNativePG operator", "ns": "cnpg-system", "labels": {"app.kubernetes.io/name": "cloudnative-pg"}}
DNS = {"name": "cluster DNS", "ns": "kube-system", "labels": {"k8s-app": "kube-dns"}, "ports": [53]}
NODELOCAL_DNS = {"name": "NodeLocal DNSCache", "ip": "169.254.20.10", "ports": [53]}
API = {"name": "Kubernetes API / object storage", "ip": "192.0.2.10", "ports": [443, 6443]}
OUTSIDER = {"name": "a pod of another namespace", "ns": "elsewhere", "labels": {}}

# ------------------------------------------------------------------ reading objects


def values(node, path: str) -> list:
    """Every value at a dotted path; `[]` steps into each list item."""
    found = [node]
    for step in path.split("."):
        many = step.endswith("[]")
        step = step.removesuffix("[]")
        found = [n.get(step) for n in found if isinstance(n, dict) and n.get(step) is not None]
        if many:
            found = [item for n in found for item in n]
    return found


def one(node, path: str, default=None):
    found = values(node, path)
    return found[0] if found else default


def label(o: dict, key: str, default=None):
    """A label (their keys have dots: not for values())."""
    return (o.get("metadata", {}).get("labels") or {}).get(key, default)


def pod_spec(o: dict) -> dict:
    path = "spec.jobTemplate.spec.template.spec" if o["kind"] == "CronJob" else "spec.template.spec"
    return one(o, path, {})


def secret_data(o: dict) -> dict:
    data = {k: base64.b64decode(v).decode() for k, v in (o.get("data") or {}).items()}
    return data | (o.get("stringData") or {})


class Manifest:
    def __init__(self, objs: list[dict], spin: dict):
        self.objs, self.spin = objs, spin
        self.ns = next((o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"), None)

    def kind(self, kind):
        return [o for o in self.objs if o["kind"] == kind]

    def named(self, kind, name):
        return next((o for o in self.implied(kind) if o["metadata"]["name"] == name), None)

    def implied(self, kind):
        """Rendered objects of a kind, plus those the operators create (Deployments and
        Services of SpinApps, the Pooler's Service, the Cluster's -rw/-ro/-r Services)."""
        made = {("Deployment", "SpinApp"): [""], ("Service", "SpinApp"): [""], ("Service", "Pooler"): [""],
                ("Deployment", "Pooler"): [""], ("Service", "Cluster"): ["-rw", "-ro", "-r"]}
        extra = [{"kind": kind, "metadata": {"name": o["metadata"]["name"] + suffix}, "owner": o}
                 for (k, owner), suffixes in made.items() if k == kind
                 for o in self.kind(owner) for suffix in suffixes]
        return self.kind(kind) + extra

    def secret(self, name):  # by generator name (app.kubernetes.io/name) or object name
        return next((secret_data(o) for o in self.kind("Secret")
                     if name in (o["metadata"]["name"], label(o, "app.kubernetes.io/name"))), None)

    def components(self, app):
        return app["spec"].get("components") or list(self.spin["component"])

    def variable(self, app, name):
        var = next((v for v in app["spec"].get("variables") or [] if v["name"] == name), None)
        if var is None or "value" in var:
            return var and var["value"]
        ref = one(var, "valueFrom.secretKeyRef")
        if ref is not None:
            return (self.secret(ref["name"]) or {}).get(ref["key"])
        ref = one(var, "valueFrom.configMapKeyRef")
        config_map = ref and self.named("ConfigMap", ref["name"])
        return ((config_map or {}).get("data") or {}).get(ref["key"]) if ref else None

    def pods(self) -> list[dict]:
        """The pods the manifests lead to: {name, ns, labels, ports}."""
        pods = []
        for o in self.objs:
            name, kind = o["metadata"]["name"], o["kind"]
            if kind in WORKLOADS:
                spec = pod_spec(o)
                template = one(o, "spec.jobTemplate.spec.template" if kind == "CronJob" else "spec.template")
                pods.append({"labels": one(template, "metadata.labels", {}),
                             "ports": values(spec, "containers[].ports[].containerPort")})
            elif kind == "SpinApp":
                pods.append({"labels": {**o["spec"].get("podLabels", {}), "core.spinkube.dev/app-name": name},
                             "ports": [80]})
            elif kind == "Pooler":
                pods.append({"labels": {**one(o, "spec.template.metadata.labels", {}), "cnpg.io/poolerName": name,
                                        "cnpg.io/cluster": o["spec"]["cluster"]["name"], "cnpg.io/podRole": "pooler"},
                             "ports": [5432]})
            elif kind == "Cluster":
                pods.append({"labels": {**one(o, "spec.inheritedMetadata.labels", {}), "cnpg.io/cluster": name,
                                        "cnpg.io/podRole": "instance"}, "ports": [5432, 8000]})
            else:
                continue
            pods[-1].update(name=f"{kind}/{name}", ns=self.ns, owner=o)
        if any("cert-manager.io/cluster-issuer" in one(o, "metadata.annotations", {})
               for o in self.kind("Ingress") + self.kind("Gateway")):
            pods.append({"name": "cert-manager's HTTP-01 solver", "ns": self.ns, "ports": [8089], "owner": None,
                         "labels": {"acme.cert-manager.io/http01-solver": "true"}})
        return pods

    def behind(self, service: str) -> list[dict]:
        """The pods a Service name leads to."""
        svc = self.named("Service", service)
        if svc is None:
            return []
        owner = svc.get("owner")
        if owner:  # a SpinApp's or Pooler's Service, or the Cluster's -rw (the primary)
            return [p for p in self.pods() if p["owner"] is owner]
        return [p for p in self.pods() if selects({"matchLabels": svc["spec"].get("selector") or {}}, p["labels"])]


def selects(selector: dict | None, labels: dict) -> bool:
    if selector is None:
        return False
    ops = {"In": lambda k, v: labels.get(k) in v, "NotIn": lambda k, v: labels.get(k) not in v,
           "Exists": lambda k, v: k in labels, "DoesNotExist": lambda k, v: k not in labels}
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()) and all(
        ops[e["operator"]](e["key"], e.get("values") or []) for e in selector.get("matchExpressions") or [])


def service_of(url: str) -> str | None:
    """The Service an in-namespace URL or host:port names (a bare name, or name.ns.svc...)."""
    host = urlsplit(url if "://" in url else "tcp://" + url).hostname or ""
    return host.split(".")[0] if host and (host.count(".") == 0 or ".svc" in host) else None


def spin_outbound(spin: dict, component: str) -> set[str]:
    hosts = spin["component"].get(component, {}).get("allowed_outbound_hosts") or []
    return {v for h in hosts for v in re.findall(r"\{\{\s*(\w+)\s*\}\}", h)}


def spin_uses(spin: dict, component: str) -> set[str]:
    comp = spin["component"].get(component, {})
    texts = list((comp.get("variables") or {}).values()) + list(comp.get("allowed_outbound_hosts") or [])
    return {v for t in texts for v in re.findall(r"\{\{\s*(\w+)\s*\}\}", t)}


def spin_route(spin: dict, path: str) -> str | None:
    """The component Spin's router picks for a path (the longest matching route)."""
    best = (-1, None)
    for trigger in spin["trigger"]["http"]:
        base = trigger["route"].removesuffix("/...")
        wild, prefix = trigger["route"].endswith("/..."), base.rstrip("/")
        if (path == base or (wild and (path.startswith(prefix + "/") or path == prefix or not prefix))) \
                and len(prefix) > best[0]:
            best = (len(prefix), trigger["component"])
    return best[1]

# ------------------------------------------------------------------ rules


def rule_namespace(m: Manifest) -> list[str]:
    ns = [o for o in m.objs if o["kind"] == "Namespace"]
    if len(ns) != 1:
        return ["expected one Namespace"]
    labels = ns[0]["metadata"].get("labels", {})
    problems = [f"Namespace lacks pod-security.kubernetes.io/{mode}={level}" for mode, level in PSA.items()
                if labels.get(f"pod-security.kubernetes.io/{mode}") != level]
    return problems + [f"{o['kind']}/{o['metadata']['name']} is in namespace {o['metadata'].get('namespace')}"
                       for o in m.objs if o["kind"] != "Namespace" and o["metadata"].get("namespace") != m.ns]


def rule_labels(m: Manifest) -> list[str]:
    problems = [f"{o['kind']}/{o['metadata']['name']} lacks app.kubernetes.io/{k}" for o in m.objs
                for k in LABELS if not one(o, "metadata.labels", {}).get(f"app.kubernetes.io/{k}")]
    for pod in m.pods():  # pods of our own workloads; the Job's template keeps no version (job-template)
        if pod["owner"] and pod["owner"]["kind"] in WORKLOADS + ("SpinApp",):
            wanted = [k for k in LABELS if not (k == "version" and pod["owner"]["kind"] == "Job")]
            problems += [f"{pod['name']} pods lack app.kubernetes.io/{k}" for k in wanted
                         if not pod["labels"].get(f"app.kubernetes.io/{k}")]
    return problems


def rule_secrets(m: Manifest) -> list[str]:
    problems = []
    for o in m.kind("Secret"):
        name, data = label(o, "app.kubernetes.io/name"), secret_data(o)
        problems += [f"Secret {name} key {k} holds a placeholder" for k, v in data.items() if PLACEHOLDER.search(v)]
        for key, want in SECRETS.get(name, {}).items():
            value = data.get(key)
            if value is None:
                problems.append(f"Secret {name} lacks key {key}")
            elif want == "email" and not re.fullmatch(r"[^\s@]+@[^\s@]+\.[^\s@]+", value):
                problems.append(f"Secret {name} key {key} is not an email address (the first admin signs in with it)")
            elif want == "previous" and value and (len(value.encode()) < 32 or value == data.get("api_token")):
                problems.append(f"Secret {name} key {key} must be empty, or 32 bytes or more and not api_token")
            elif isinstance(want, int) and len(value.encode()) < want:
                problems.append(f"Secret {name} key {key} is shorter than {want} bytes")
            elif isinstance(want, str) and want not in ("url", "email", "previous") and value != want:
                problems.append(f"Secret {name} key {key} must be {want!r}")
    return problems


def rule_references(m: Manifest) -> list[str]:
    problems = []
    for kind, path, target, key_field in REFS:
        for o in m.objs:
            if kind != o["kind"] and not (kind == "*" and o["kind"] in WORKLOADS):
                continue
            for ref in values(pod_spec(o) if kind == "*" else o, path):
                name = ref["name"] if isinstance(ref, dict) else ref
                found = m.named(target, name)
                where = f"{o['kind']}/{o['metadata']['name']} {path}"
                if found is None:
                    if not (isinstance(ref, dict) and ref.get("optional")):
                        problems.append(f"{where} names {target} {name!r}, which nothing renders or creates")
                elif key_field and ref[key_field] not in secret_data(found) and not ref.get("optional"):
                    problems.append(f"{where} names key {ref[key_field]!r} of {target} {name!r}, which lacks it")
    return problems


def rule_spin_variables(m: Manifest) -> list[str]:
    problems, deployed, declared = [], {}, m.spin["variables"]
    for app in m.kind("SpinApp"):
        name, supplied = app["metadata"]["name"], {v["name"] for v in app["spec"].get("variables") or []}
        used = set()
        for c in m.components(app):
            if c not in m.spin["component"]:
                problems.append(f"SpinApp/{name} runs {c!r}, which spin.toml does not define")
            deployed.setdefault(c, []).append(name)
            used |= spin_uses(m.spin, c)
        required = {v for v, d in declared.items() if d.get("required") and "default" not in d}
        problems += [f"SpinApp/{name} does not supply {v!r}" for v in sorted((used | required) - supplied)]
        problems += [f"SpinApp/{name} sets {v!r}, which spin.toml does not declare" for v in supplied - set(declared)]
        problems += [f"SpinApp/{name} receives secret {v!r}, which none of its components uses"
                     for v in sorted(supplied - used) if declared.get(v, {}).get("secret")]
    problems += [f"component {c!r} runs in {len(apps)} SpinApps, expected one" for c, apps in deployed.items()
                 if len(apps) != 1]
    return problems + [f"component {c!r} runs in no SpinApp" for c in set(m.spin["component"]) - set(deployed)]


def rule_service_urls(m: Manifest) -> list[str]:
    """*_service_url names the Service of the SpinApp running that component;
    database_host is database_url's host:port, a Service; database_url is the app role's."""
    problems = []
    for app in m.kind("SpinApp"):
        name = app["metadata"]["name"]
        for var in app["spec"].get("variables") or []:
            value = var.get("value", "")
            component = var["name"].removesuffix("_service_url") + "-service"
            if var["name"].endswith("_service_url"):
                runner = next((a["metadata"]["name"] for a in m.kind("SpinApp") if component in m.components(a)), None)
                if service_of(value) != runner or ".spin.internal" in value:
                    problems.append(f"SpinApp/{name} {var['name']}={value} should be http://{runner}")
        url = m.variable(app, "database_url")
        if url is None:
            continue
        parts, host = urlsplit(url), m.variable(app, "database_host")
        if f"{parts.hostname}:{parts.port or 5432}" != host:
            problems.append(f"SpinApp/{name} database_host={host!r} is not database_url's host:port")
        if not m.behind(service_of(url) or ""):
            problems.append(f"SpinApp/{name} database_url host {parts.hostname} is no Service with pods")
        if parts.username != APP_ROLE or parts.path.strip("/") != APP_DB:
            problems.append(f"SpinApp/{name} database_url must connect as {APP_ROLE} to {APP_DB}")
        if parts.password != (m.secret("postgres-app") or {}).get("password"):
            problems.append(f"SpinApp/{name} database_url's password is not the application role's (Secret postgres-app)")
    return problems


def routes(m: Manifest) -> list[tuple[str, str, str, int]]:
    """(where, path, service, port) of every way in."""
    found = [(f"Ingress/{o['metadata']['name']}", p["path"], p["backend"]["service"]["name"],
              p["backend"]["service"]["port"]["number"]) for o in m.kind("Ingress")
             for p in values(o, "spec.rules[].http.paths[]")]
    for o in m.kind("HTTPRoute"):
        for rule in o["spec"].get("rules") or []:
            for path in values(rule, "matches[].path.value") or ["/"]:
                found += [(f"HTTPRoute/{o['metadata']['name']}", path, b["name"], b["port"])
                          for b in rule.get("backendRefs") or []]
    return found


def rule_routes(m: Manifest) -> list[str]:
    problems = []
    for where, path, service, port in routes(m):
        app = m.named("SpinApp", service)
        if app is None or port != 80:
            problems.append(f"{where} {path} -> {service}:{port}, which is no SpinApp's Service (port 80)")
        elif spin_route(m.spin, path) not in m.components(app):
            problems.append(f"{where} {path} -> {service}, but spin.toml routes {path} to {spin_route(m.spin, path)!r}")
    for o in m.kind("HTTPRoute"):
        gateway = m.named("Gateway", one(o, "spec.parentRefs[].name"))
        listeners = {li["name"] for li in (gateway or {}).get("spec", {}).get("listeners", [])}
        problems += [f"HTTPRoute/{o['metadata']['name']} attaches to missing listener {s}"
                     for s in values(o, "spec.parentRefs[].sectionName") if gateway and s not in listeners]
        problems += [f"HTTPRoute/{o['metadata']['name']} has no request timeout for long-lived responses"
                     for r in o["spec"]["rules"] if r.get("backendRefs") and not one(r, "timeouts.request")]
    for o in m.kind("Gateway"):
        problems += [f"Gateway/{o['metadata']['name']} HTTPS listener {li['name']} has no hostname or certificate"
                     for li in o["spec"]["listeners"] if li["protocol"] == "HTTPS"
                     and not (li.get("hostname") and one(li, "tls.certificateRefs"))]
    problems += [f"{o['kind']}/{o['metadata']['name']} has no cert-manager issuer annotation"
                 for o in m.kind("Gateway") + m.kind("Ingress")
                 if not {"cert-manager.io/cluster-issuer", "cert-manager.io/issuer"} & set(one(o, "metadata.annotations", {}))]
    return problems


def rule_autoscaling(m: Manifest) -> list[str]:
    problems, hpas = [], {}
    for h in m.kind("HorizontalPodAutoscaler"):
        target = h["spec"]["scaleTargetRef"]
        hpas.setdefault(target["name"], []).append(h)
        if (target["kind"], target["apiVersion"]) != ("Deployment", "apps/v1"):
            problems.append(f"HorizontalPodAutoscaler/{h['metadata']['name']} must scale the SpinApp's apps/v1 Deployment")
    for app in m.kind("SpinApp"):
        name, spec = app["metadata"]["name"], app["spec"]
        if spec.get("enableAutoscaling") != (name in hpas) or "replicas" in spec and name in hpas:
            problems.append(f"SpinApp/{name}: enableAutoscaling without replicas, and exactly one HPA, go together")
        for h in hpas.get(name, []):
            problems += [f"SpinApp/{name} requests no {r}, which its HPA scales on" for r in
                         values(h, "spec.metrics[].resource.name") if r not in one(spec, "resources.requests", {})]
    return problems


def rule_health_checks(m: Manifest) -> list[str]:
    problems = []
    for app in m.kind("SpinApp"):
        name, checks = app["metadata"]["name"], app["spec"].get("checks", {})
        ready, live = one(checks, "readiness.httpGet.path"), one(checks, "liveness.httpGet.path")
        if spin_route(m.spin, ready or "") not in m.components(app):
            problems.append(f"SpinApp/{name} readiness path {ready} is not served by its component")
        if live != SPIN_HEALTH:
            problems.append(f"SpinApp/{name} liveness path {live} should be {SPIN_HEALTH} (the Spin host)")
    return problems


def rule_migrations(m: Manifest, migrations: Path) -> list[str]:
    maps = [c for c in m.kind("ConfigMap") if "migrate.sh" in (c.get("data") or {})]
    if len(maps) != 1:
        return ["expected one ConfigMap holding migrate.sh"]
    data, files = maps[0]["data"], [*sorted(migrations.glob("[0-9]*.sql")), migrations / "migrate.sh"]
    problems = [f"the migrations ConfigMap lacks {f.name} or differs from it (migrations/kustomization.yaml)"
                for f in files if data.get(f.name) != f.read_text()]
    jobs = [j for j in m.kind("Job") if maps[0]["metadata"]["name"] in values(pod_spec(j), "volumes[].configMap.name")
            and "migrate.sh" in " ".join(values(pod_spec(j), "containers[].command[]"))]
    return problems + ([] if len(jobs) == 1 else ["expected one Job that mounts the migrations and runs migrate.sh"])


def rule_job_template(m: Manifest) -> list[str]:
    """A re-apply never meets "field is immutable": nothing in a Job's pod template changes between applies."""
    hashed = {o["metadata"]["name"] for o in m.kind("Secret") + m.kind("ConfigMap")  # name = generator name + hash
              if o["metadata"]["name"] != label(o, "app.kubernetes.io/name", o["metadata"]["name"])}
    problems = []
    for j in m.kind("Job"):
        template, name = j["spec"]["template"], j["metadata"]["name"]
        if "app.kubernetes.io/version" in one(template, "metadata.labels", {}):
            problems.append(f"Job/{name} pod template carries a version label")
        names = values(template, "spec.volumes[].secret.secretName") + values(template, "spec.volumes[].configMap.name")
        problems += [f"Job/{name} mounts {n}, whose name changes with its content" for n in names if n in hashed]
    return problems


def pools(m: Manifest) -> tuple[int, list[str]]:
    """Spin's worst case: (HPA maximum + 25 % surge) pods x 64, for every SpinApp that uses the database."""
    total, terms = 0, []
    for app in m.kind("SpinApp"):
        if any("database_host" in spin_outbound(m.spin, c) for c in m.components(app)):
            hpa = next((h for h in m.kind("HorizontalPodAutoscaler")
                        if h["spec"]["scaleTargetRef"]["name"] == app["metadata"]["name"]), None)
            pods = hpa["spec"]["maxReplicas"] if hpa else app["spec"].get("replicas", 1)
            total += (pods + -(-pods // 4)) * SPIN_POOL
            terms.append(f"{app['metadata']['name']} ({pods}+{-(-pods // 4)})")
    return total, terms


def rule_connection_budget(m: Manifest) -> list[str]:
    total, terms = pools(m)
    said = f"{' + '.join(terms)} pods x {SPIN_POOL} = {total}"
    poolers = [p for p in m.kind("Pooler") if any(p["metadata"]["name"] == service_of(m.variable(a, "database_host") or "")
                                                   for a in m.kind("SpinApp"))]
    problems = []
    if poolers:  # the SpinApps reach PgBouncer; Postgres sees only its server connections
        pooler = poolers[0]
        params = {k: int(v) for k, v in pooler["spec"]["pgbouncer"].get("parameters", {}).items() if v.isdigit()}
        per = min(params.get("default_pool_size", 20) + params.get("reserve_pool_size", 0),
                  params.get("max_db_connections", 10**6))
        servers = pooler["spec"]["instances"] * (per + 1)  # + 1: PgBouncer's auth_query connection
        cluster = m.named("Cluster", pooler["spec"]["cluster"]["name"])
        pg = one(cluster, "spec.postgresql.parameters", {})
        limit = int(pg.get("max_connections", 100))
        need = servers + int(pg.get("superuser_reserved_connections", RESERVED)) + HEADROOM
        print(f"     Spin pools: {said} <= max_client_conn {params.get('max_client_conn')} per PgBouncer; "
              f"server connections {pooler['spec']['instances']} x ({per} + 1) + {RESERVED} + {HEADROOM} = {need} "
              f"<= max_connections {limit}")
        if total > params.get("max_client_conn", 100):
            problems.append(f"one PgBouncer must take every Spin connection: {said} > max_client_conn")
    else:  # straight to Postgres
        args = " ".join(values(m.kind("StatefulSet")[0], "spec.template.spec.containers[].args[]")) if m.kind("StatefulSet") else ""
        limit = int((re.findall(r"max_connections=(\d+)", args) or [100])[0])
        need = total + RESERVED + HEADROOM
        print(f"     Spin pools: {said}, + {RESERVED} reserved + {HEADROOM} headroom = {need} <= max_connections {limit}")
    if need > limit:
        problems.append(f"Postgres max_connections={limit} is below the {need} connections it may be asked for")
    return problems


def rule_release(m: Manifest) -> list[str]:
    """Production runs exactly what was reviewed: every image pinned by digest, none a placeholder."""
    images = [a["spec"]["image"] for a in m.kind("SpinApp")]
    images += [c["image"] for o in m.objs if o["kind"] in WORKLOADS
               for c in pod_spec(o).get("containers", []) + pod_spec(o).get("initContainers", [])]
    images += [c["spec"]["imageName"] for c in m.kind("Cluster")]
    return [f"image {i} is a placeholder or not pinned by digest (@sha256:...)" for i in sorted(set(images))
            if not re.search(r"@sha256:[0-9a-f]{64}$", i) or re.search(r"your-org|example", i)]

# ------------------------------------------------------------------ network policies


def policy_allows(m: Manifest, pod: dict, direction: str, other: dict, port: int) -> bool:
    """Kubernetes semantics: no policy of that direction selects the pod -> allowed; else any rule."""
    policies = [p for p in m.kind("NetworkPolicy") if direction in p["spec"].get("policyTypes", ["Ingress"])
                and selects(p["spec"]["podSelector"], pod["labels"])]
    for p in policies:
        for rule in p["spec"].get(direction.lower()) or []:
            if rule.get("ports") and not any(x.get("port") in (port, None) for x in rule["ports"]):
                continue
            peers = rule.get("from" if direction == "Ingress" else "to")
            if not peers or any(peer_matches(peer, other, m.ns) for peer in peers):
                return True
    return not policies


def peer_matches(peer: dict, other: dict, ns: str) -> bool:
    if "ipBlock" in peer or "ip" in other:
        return "ipBlock" in peer and "ip" in other and \
            ipaddress.ip_address(other["ip"]) in ipaddress.ip_network(peer["ipBlock"]["cidr"])
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": other["ns"]}):
            return False
    elif other["ns"] != ns:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], other["labels"])


def rule_network(m: Manifest) -> list[str]:
    """Exactly the traffic the app needs, both ways; every pod reaches the DNS."""
    pods = m.pods()
    edge_peers = [json.dumps(peer, sort_keys=True) for p in m.kind("NetworkPolicy")
                  if label(p, "app.kubernetes.io/component") == EDGE_POLICIES
                  for peer in values(p, "spec.ingress[].from[]")]
    problems = [] if len(set(edge_peers)) <= 1 else ["the edge policies name different peers: set them in one patch"]
    edge = [{"name": "the edge", "labels": one(json.loads(e), "podSelector.matchLabels", {}),
             "ns": one(json.loads(e), "namespaceSelector.matchLabels", {"kubernetes.io/metadata.name": m.ns})
             .get("kubernetes.io/metadata.name")}
            for e in set(edge_peers)]
    needed = set()
    for where, path, service, port in routes(m):
        needed |= {(e["name"], p["name"], port) for e in edge for p in m.behind(service)}
    needed |= {(e["name"], p["name"], 8089) for e in edge for p in pods if p["owner"] is None}
    for app in m.kind("SpinApp"):
        for c in m.components(app):
            for var in spin_outbound(m.spin, c):
                value = m.variable(app, var) or ""
                port = 5432 if var == "database_host" else 80
                needed |= {(f"SpinApp/{app['metadata']['name']}", p["name"], port) for p in m.behind(service_of(value) or "")}
    for o in m.objs:  # the migration Job and the backups reach the database server named in their spec
        if o["kind"] in ("Job", "CronJob"):
            text = json.dumps(pod_spec(o))
            hosts = re.findall(r'"PGHOST", "value": "([a-z0-9-]+)"', text) + re.findall(r"@([a-z0-9-]+):5432", text)
            needed |= {(f"{o['kind']}/{o['metadata']['name']}", p["name"], 5432) for h in hosts for p in m.behind(h)}
    for cluster in m.kind("Cluster"):
        name = f"Cluster/{cluster['metadata']['name']}"
        needed |= {(name, name, 5432), (name, name, 8000), (OPERATOR["name"], name, 5432), (OPERATOR["name"], name, 8000)}
        needed |= {(f"Pooler/{p['metadata']['name']}", name, 5432) for p in m.kind("Pooler")}
        needed |= {(n, API["name"], port) for n in [name] + [f"Pooler/{p['metadata']['name']}" for p in m.kind("Pooler")]
                   for port in API["ports"]}
    sources = pods + edge + [OUTSIDER] + ([OPERATOR] if m.kind("Cluster") else [])
    for dst in pods + [API]:
        for port in dst["ports"]:
            for src in sources:
                inside = src in pods
                ok_in = "ip" in dst or policy_allows(m, dst, "Ingress", src, port)
                ok_out = not inside or policy_allows(m, src, "Egress", dst, port)
                want = (src["name"], dst["name"], port) in needed
                if want and not (ok_in and ok_out):
                    problems.append(f"{src['name']} must reach {dst['name']}:{port}, but "
                                    f"{'its egress' if ok_in else 'the ingress'} policies block it")
                if not want and ok_in and ok_out and (inside or "ip" not in dst):
                    problems.append(f"{src['name']} may reach {dst['name']}:{port}, which nothing needs")
    for pod in pods:
        problems += [f"{pod['name']} cannot reach the {d['name']} on port 53" for d in (DNS, NODELOCAL_DNS)
                     if not policy_allows(m, pod, "Egress", d, 53)]
    return problems


RULES = {"namespace": rule_namespace, "labels": rule_labels, "secrets": rule_secrets,
         "references": rule_references, "spin-variables": rule_spin_variables, "service-urls": rule_service_urls,
         "routes": rule_routes, "autoscaling": rule_autoscaling, "health-checks": rule_health_checks,
         "job-template": rule_job_template, "connection-budget": rule_connection_budget, "network": rule_network}


def check(objs: list[dict], spin: dict, migrations: Path | None = ROOT / "migrations", release=False) -> dict:
    """Rule name -> problems. A rule that crashes on a malformed object reports that instead."""
    m = Manifest(objs, spin)
    rules = dict(RULES) | ({"migrations": lambda m: rule_migrations(m, migrations)} if migrations else {}) \
        | ({"release": rule_release} if release else {})
    results = {}
    for name, rule in rules.items():
        try:
            results[name] = rule(m)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
            results[name] = [f"could not evaluate: {type(error).__name__}: {error}"]
    return results

# ------------------------------------------------------------------ schemas


def crd_schemas(directory: Path) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the CRD's openAPIV3Schema, made strict: an object with
    properties and no x-kubernetes-preserve-unknown-fields takes no other field."""
    def strict(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and not node.get(
                    "x-kubernetes-preserve-unknown-fields"):
                node.setdefault("additionalProperties", False)
            for value in node.values():
                strict(value)
        elif isinstance(node, list):
            for value in node:
                strict(value)
        return node
    return {(f"{crd['spec']['group']}/{v['name']}", crd["spec"]["names"]["kind"]): strict(v["schema"]["openAPIV3Schema"])
            for path in sorted(directory.rglob("*.yaml")) for crd in yaml.load_all(path.read_text(), LOADER)
            if crd and crd.get("kind") == "CustomResourceDefinition" for v in crd["spec"]["versions"] if v.get("served")}


def validate(rendered: dict[str, list[dict]], schemas: Path | None, k8s_version: str,
             require_all=True) -> tuple[dict[str, list[str]], list[str]]:
    """Problems per overlay, and the kinds of custom resources left unvalidated (no CRD).
    One run of each tool per kind for all overlays: starting them is the slow part."""
    crds = crd_schemas(schemas) if schemas else {}
    problems: dict[str, list[str]] = {name: [] for name in rendered}
    custom = [(name, o) for name, objs in rendered.items() for o in objs
              if o["apiVersion"].split("/")[0] in CUSTOM_GROUPS or (o["apiVersion"], o["kind"]) in crds]
    skipped = sorted({o["kind"] for _, o in custom if (o["apiVersion"], o["kind"]) not in crds})
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, objs in rendered.items():
            files[name] = Path(tmp, name, "builtin.yaml")
            files[name].parent.mkdir()
            files[name].write_text(yaml.safe_dump_all([o for o in objs if all(o is not c for _, c in custom)]))
        run = subprocess.run(["kubernetes-validate", "--strict", "--quiet", "-k", k8s_version, *map(str, files.values())],
                             capture_output=True, text=True)
        lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
        for key in sorted({(o["apiVersion"], o["kind"]) for _, o in custom} & set(crds)):
            schema = Path(tmp, f"{key[1]}.json")
            schema.write_text(json.dumps(crds[key]))
            docs = []
            for i, (name, o) in enumerate((n, o) for n, o in custom if (o["apiVersion"], o["kind"]) == key):
                docs.append(Path(tmp, name, f"{key[1]}-{o['metadata']['name']}-{i}.yaml"))
                docs[-1].write_text(yaml.safe_dump(o))
            run = subprocess.run(["check-jsonschema", "--color", "never", "--schemafile", str(schema), *map(str, docs)],
                                 capture_output=True, text=True)
            lines += (run.stdout.splitlines()[1:] + run.stderr.splitlines()) if run.returncode else []
        for line in lines:  # each names its file, under the overlay's folder
            name = next((n for n in rendered if f"{tmp}/{n}/" in line), None)
            problems[name or next(iter(rendered))].append(line.replace(f"{tmp}/", "").strip())
    for name, objs in rendered.items():
        if require_all and schemas:
            problems[name] += [f"no CRD in {schemas} for {o['kind']}: it cannot be validated" for o in objs
                               if o["kind"] in skipped]
    return problems, skipped

# ------------------------------------------------------------------ main


def prepare_tree(dest: Path) -> None:
    """A copy of k8s/ and migrations/ as an operator would deploy it: generated secrets
    (scripts/k8s-secrets.sh) and the production images pinned, as `kustomize edit set
    image NAME=REGISTRY/NAME@sha256:...` does (made-up digests)."""
    import hashlib
    import os
    import shutil
    for folder in ("k8s", "migrations"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("secrets"), dirs_exist_ok=True)
    env = os.environ | {"OBJECT_STORE_ACCESS_KEY_ID": "check", "OBJECT_STORE_SECRET_ACCESS_KEY": "check-k8s",
                        "REGISTRY_PASSWORD": "check"}
    for overlay in sorted((dest / "k8s" / "overlays").iterdir()):
        if "secretGenerator:" in (overlay / "kustomization.yaml").read_text():
            subprocess.run([ROOT / "scripts" / "k8s-secrets.sh", overlay, "--registry", "registry.check.test",
                            "--registry-user", "check"], env=env, check=True, capture_output=True)
    path = dest / "k8s" / "overlays" / "prod" / "kustomization.yaml"
    kustomization = yaml.safe_load(path.read_text())
    for image in kustomization["images"]:
        image.pop("newTag", None)
        image["newName"] = "registry.check.test/" + image["name"].split("/")[-1]
        image["digest"] = "sha256:" + hashlib.sha256(image["name"].encode()).hexdigest()
    path.write_text(yaml.safe_dump(kustomization, sort_keys=False))


def committed(root: Path) -> list[str]:
    try:
        files = subprocess.run(["git", "-C", str(root), "ls-files", "k8s"], check=True,
                               capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        files = [str(p.relative_to(root)) for p in (root / "k8s").rglob("*") if p.is_file() and "secrets" not in p.parts]
    problems = [f"{f} is tracked: generated secrets must stay untracked" for f in files if "/secrets/" in f]
    return problems + [f"{f}:{n} holds a placeholder secret" for f in files if (root / f).is_file()
                       for n, line in enumerate((root / f).read_text().splitlines(), 1) if PLACEHOLDER.search(line)]


def report(results: dict[str, list[str]]) -> tuple[int, int]:
    for name, problems in results.items():
        print(f"{'FAIL' if problems else 'ok  '} {name}")
        for problem in problems:
            print(f"     {problem}")
    failed = sum(1 for p in results.values() if p)
    return len(results) - failed, failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("committed").add_argument("root", type=Path)
    sub.add_parser("tree", help="prepare a copy of k8s/ to render").add_argument("dest", type=Path)
    overlay = sub.add_parser("overlay")
    overlay.add_argument("rendered", type=Path, nargs="*", help="rendered overlays (kubectl kustomize)")
    overlay.add_argument("--release", type=Path, action="append", default=[],
                         help="a rendered production overlay: its images must be pinned by digest")
    overlay.add_argument("--schemas", type=Path, help="directory of CRDs; without it, custom resources are skipped")
    overlay.add_argument("--require-all-crds", action="store_true", help="a custom resource without CRD fails (CI)")
    overlay.add_argument("--kubernetes-version", default="1.31.0")
    args = parser.parse_args(argv)
    if args.mode == "tree":
        return prepare_tree(args.dest)
    if args.mode == "committed":
        passed, failed = report({"committed": committed(args.root)})
    else:
        spin = tomllib.loads((ROOT / "spin.toml").read_text())
        rendered = {p.stem: [o for o in yaml.load_all(p.read_text(), LOADER) if o] for p in args.rendered + args.release}
        schema_problems, skipped = validate(rendered, args.schemas, args.kubernetes_version, args.require_all_crds)
        if skipped and args.schemas and not args.require_all_crds:
            print(f"SKIP schemas of {', '.join(skipped)}: no CRD for them in {args.schemas}")
        passed = failed = 0
        for path in args.rendered + args.release:
            print(f"--- {path.stem}")
            p, f = report({"schemas": schema_problems[path.stem]} | check(rendered[path.stem], spin,
                                                                           release=path in args.release))
            passed, failed = passed + p, failed + f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
