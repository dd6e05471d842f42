"""What the k8s checkers share: reading a rendered manifest and reporting checks.

Imported by scripts/k8s_validate.py and scripts/k8s_consistency.py (both run as
scripts from scripts/, so this folder is on sys.path).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import yaml


def load_objects(path: str) -> list[dict]:
    """The non-empty YAML documents of a file, or of stdin when path is `-`."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    return [doc for doc in yaml.safe_load_all(text) if doc]


def report(results: Iterable[tuple[str, list[str]]]) -> int:
    """Prints `ok   NAME` or `FAIL NAME` and its problems for each check, then
    "N passed, N failed"; returns the exit status (1 when any check failed)."""
    passed = failed = 0
    for name, problems in results:
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for problem in problems:
                print(f"     {problem}")
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
