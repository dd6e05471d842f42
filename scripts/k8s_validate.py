#!/usr/bin/env python3
"""Validates every object of a rendered manifest against its schema, offline.

- Built-in kinds: the Kubernetes JSON schemas shipped by `kubernetes-validate`,
  for one pinned Kubernetes version, in strict mode (unknown fields fail).
- Custom resources (SpinApp, SpinAppExecutor): the openAPIV3Schema of their
  CustomResourceDefinition, read from a directory of CRD files (the project
  takes them from SPINKUBE_SCHEMAS_DIR, see docs/deploy.md), made strict the way the API server
  treats CRDs with field validation "Strict": an object schema with
  `properties` and no `additionalProperties` / `x-kubernetes-preserve-unknown-fields`
  rejects unknown fields.

A kind that has no schema in either place FAILS (nothing passes unvalidated).
If the CRD directory or a CRD file is missing, every custom resource FAILS
with a message saying so.

With --skip-custom-resources instead of --crd-dir (no CRD schemas at hand),
custom resources are listed as skipped and not counted; built-in kinds are
still validated.

usage: k8s_validate.py RENDERED.yaml --kubernetes-version 1.31.0 (--crd-dir DIR | --skip-custom-resources)
Prints one line per object, then "N passed, N failed"; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import jsonschema
import yaml

from k8s_common import load_objects, report

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def strictify(schema):
    """Copy of an OpenAPI v3 (structural) schema in which objects reject unknown fields."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


class CrdSchemas:
    """openAPIV3Schema per (apiVersion, kind), from the CRD files of a directory."""

    def __init__(self, crd_dir: Path):
        self.crd_dir = crd_dir
        self.problem: str | None = None
        self.schemas: dict[tuple[str, str], dict] = {}
        if not crd_dir.is_dir():
            self.problem = f"CRD schema directory {crd_dir} is missing"
            return
        for path in sorted(crd_dir.glob("*.y*ml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                for version in spec.get("versions", []):
                    schema = version.get("schema", {}).get("openAPIV3Schema")
                    if schema:
                        key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                        self.schemas[key] = strictify(schema)
        if not self.schemas:
            self.problem = f"no CustomResourceDefinition with an openAPIV3Schema in {crd_dir}"

    def get(self, api_version: str, kind: str):
        return self.schemas.get((api_version, kind))


def check_metadata(obj: dict) -> list[str]:
    """What the API server checks on any object's metadata that a CRD schema does not."""
    errors = []
    meta = obj.get("metadata") or {}
    name = meta.get("name", "")
    if not name or len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        errors.append(f"metadata.name {name!r} is not a DNS-1123 subdomain")
    for field in ("labels", "annotations"):
        values = meta.get(field) or {}
        if not isinstance(values, dict) or any(not isinstance(v, str) for v in values.values()):
            errors.append(f"metadata.{field} values must all be strings")
    for key, value in (meta.get("labels") or {}).items():
        if isinstance(value, str) and (len(value) > 63 or not LABEL_VALUE.match(value)):
            errors.append(f"label {key}={value!r} is not a valid label value")
    return errors


def validate_objects(docs: list[dict], kubernetes_version: str, crds: CrdSchemas) -> list[tuple[str, list[str]]]:
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError

    results = []
    for obj in docs:
        kind = obj.get("kind", "?")
        api_version = obj.get("apiVersion", "?")
        name = (obj.get("metadata") or {}).get("name", "?")
        label = f"{kind}/{name} ({api_version})"
        errors: list[str] = []
        crd_schema = crds.get(api_version, kind)
        if crd_schema is not None:
            validator = jsonschema.Draft7Validator(crd_schema)
            for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.path)):
                path = ".".join(str(p) for p in error.path) or "(root)"
                errors.append(f"{path}: {error.message}")
            errors.extend(check_metadata(obj))
        else:
            try:
                kubernetes_validate.validate(obj, kubernetes_version, strict=True)
            except SchemaNotFoundError as error:
                if not _is_builtin_group(api_version) and crds.problem:
                    errors.append(f"{crds.problem}, so {kind} cannot be validated: FAILING rather than passing unchecked")
                elif not _is_builtin_group(api_version):
                    errors.append(f"no CRD for {api_version} {kind} in {crds.crd_dir}")
                else:
                    errors.append(error.message)
            except jsonschema.ValidationError as error:
                path = ".".join(str(p) for p in error.path) or "(root)"
                errors.append(f"{path}: {error.message}")
        results.append((label, errors))
    return results


def _is_builtin_group(api_version: str) -> bool:
    """core (v1), apps, batch, policy, autoscaling, *.k8s.io: groups Kubernetes itself serves."""
    if "/" not in api_version:
        return True
    group = api_version.split("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rendered", help="rendered manifest (kubectl kustomize output), or - for stdin")
    parser.add_argument("--kubernetes-version", required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--crd-dir", type=Path)
    group.add_argument("--skip-custom-resources", action="store_true")
    args = parser.parse_args(argv)

    docs = load_objects(args.rendered)
    if args.skip_custom_resources:
        custom = [d for d in docs if not _is_builtin_group(d.get("apiVersion", "?"))]
        for d in custom:
            print(f"skip {d.get('kind')}/{(d.get('metadata') or {}).get('name')} (no CRD schemas)")
        docs = [d for d in docs if _is_builtin_group(d.get("apiVersion", "?"))]
        crds = CrdSchemas(Path("/nonexistent"))
    else:
        crds = CrdSchemas(args.crd_dir)
    if crds.problem and not args.skip_custom_resources:
        print(f"ERROR {crds.problem}: custom resources cannot be validated and will FAIL", file=sys.stderr)
    if not docs:
        print("FAIL no objects in the rendered manifest")
        print("0 passed, 1 failed")
        return 1
    return report(validate_objects(docs, args.kubernetes_version, crds))

if __name__ == "__main__":
    sys.exit(main())
