#!/usr/bin/env python3
"""Runs checkov (framework kubernetes) on a rendered manifest, with a reasoned skip list.

Every failed checkov check must be covered by an entry of the skip file
(k8s/checkov-skips.yaml): {id, reason, resources?: [Kind/name, ...]}. The run
fails on any uncovered finding, on an entry without a reason, and on an entry
that covers nothing (a stale skip hides nothing and should go).

checkov knows the built-in kinds; it has next to no checks for SpinApp (a
CRD), which is why the SpinApps are covered by the schema and consistency
checks instead.

usage: k8s_checkov.py RENDERED.yaml --skips k8s/checkov-skips.yaml [--checkov PATH]
Prints the findings, then "N passed, N failed" (checkov's own check counts,
a skipped finding counting as passed); exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml


def load_skips(path: Path) -> tuple[list[dict], list[str]]:
    problems = []
    data = yaml.safe_load(path.read_text()) or {}
    skips = data.get("skips") or []
    for i, skip in enumerate(skips):
        if not str(skip.get("id", "")).startswith("CKV"):
            problems.append(f"skip entry {i} has no checkov id")
        if not str(skip.get("reason") or "").strip():
            problems.append(f"skip entry {i} ({skip.get('id')}) has no reason")
    return skips, problems


def resource_key(checkov_resource: str) -> str:
    """checkov's 'Kind.namespace.name' (or 'Kind.name') as 'Kind/name'."""
    parts = checkov_resource.split(".")
    return f"{parts[0]}/{parts[-1]}" if len(parts) >= 2 else checkov_resource


def evaluate(report: dict, skips: list[dict]) -> tuple[list[str], list[str], int]:
    """(uncovered findings, stale skip entries, number of skipped findings)."""
    failed = report.get("results", {}).get("failed_checks", [])
    used = [False] * len(skips)
    uncovered = []
    for finding in failed:
        key = resource_key(finding["resource"])
        covering = [
            i for i, s in enumerate(skips)
            if s.get("id") == finding["check_id"] and (not s.get("resources") or key in s["resources"])
        ]
        if covering:
            for i in covering:
                used[i] = True
        else:
            uncovered.append(f"{finding['check_id']} {finding['check_name']} -- {key}")
    stale = []
    for i, skip in enumerate(skips):
        if not used[i]:
            stale.append(f"skip {skip.get('id')} {skip.get('resources') or '(all)'} matches no finding: remove it")
        else:
            for resource in skip.get("resources") or []:
                if not any(
                    f["check_id"] == skip["id"] and resource_key(f["resource"]) == resource for f in failed
                ):
                    stale.append(f"skip {skip['id']} lists {resource}, which has no such finding: remove it")
    return uncovered, stale, len(failed) - len(uncovered)


def run_checkov(checkov: str, rendered: Path) -> dict:
    proc = subprocess.run(
        [checkov, "--file", str(rendered), "--framework", "kubernetes", "--output", "json",
         "--quiet", "--compact", "--skip-download", "--soft-fail"],
        capture_output=True, text=True,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"checkov produced no JSON report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if isinstance(report, list):  # one report per framework
        report = next((r for r in report if r.get("check_type") == "kubernetes"), {})
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rendered", type=Path)
    parser.add_argument("--skips", type=Path, required=True)
    parser.add_argument("--checkov", default=shutil.which("checkov") or "checkov")
    args = parser.parse_args(argv)

    skips, problems = load_skips(args.skips)
    report = run_checkov(args.checkov, args.rendered)
    summary = report.get("summary", {})
    if summary.get("parsing_errors"):
        problems.append(f"checkov could not parse {summary['parsing_errors']} file(s)")
    if not summary.get("resource_count"):
        problems.append("checkov found no resources to scan")
    uncovered, stale, skipped = evaluate(report, skips)
    print(f"checkov {summary.get('checkov_version', '?')}: {summary.get('resource_count', 0)} resources, "
          f"{summary.get('passed', 0)} checks passed, {summary.get('failed', 0)} failed "
          f"({skipped} of them accepted in {args.skips})")
    for finding in uncovered:
        print(f"FAIL {finding}")
    for line in stale + problems:
        print(f"FAIL {line}")
    failed = len(uncovered) + len(stale) + len(problems)
    print(f"{summary.get('passed', 0) + skipped} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
