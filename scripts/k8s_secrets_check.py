#!/usr/bin/env python3
"""No known secret can be deployed: placeholder checks of k8s/.

  committed --root ROOT   the files of k8s/ that git tracks (every file when
                          ROOT is not a git checkout) hold no placeholder
                          secret, and no generated secrets file
                          (k8s/**/secrets/*.env) is tracked;
  rendered FILE           no Secret of a rendered overlay holds a placeholder
                          value, the secrets the app checks meet its
                          minimum lengths (the same rules as mth-shared's
                          config.rs, so a refused secret fails here, before
                          the pods would refuse it), and ui_username is an
                          email (the first admin signs in with it).

Prints one line per finding, then "N passed, N failed"; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import re
import subprocess
import sys
from pathlib import Path

import yaml

# Mirrors PLACEHOLDER_MARKERS of crates/shared/src/config.rs.
PLACEHOLDER = re.compile(r"change_me|changeme|change-me|replace_me", re.IGNORECASE)
# Key -> (minimum, unit), as crates/shared/src/config.rs checks them (of the
# secrets a component still reads: session_secret is no longer generated nor read).
MINIMUMS = {"api_token": (32, "bytes"), "ui_password": (12, "characters")}
SECRET_FILE = re.compile(r"(^|/)secrets/[^/]+\.env$")
# ui_username is the email of the first admin, a user like any other (users
# sign in with their email): the old default, a bare "admin", is not one.
EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


def committed_files(root: Path) -> list[Path]:
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "k8s"],
                             check=True, capture_output=True, text=True).stdout
        return [root / p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in (root / "k8s").rglob("*") if p.is_file() and "secrets" not in p.parts]


def check_committed(root: Path) -> list[str]:
    problems = []
    for path in committed_files(root):
        rel = path.relative_to(root).as_posix()
        if SECRET_FILE.search(rel):
            problems.append(f"{rel} is tracked by git: generated secrets must stay untracked")
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if PLACEHOLDER.search(line):
                problems.append(f"{rel}:{number} holds a placeholder: {line.strip()[:80]}")
    return problems


def secret_values(obj: dict) -> dict[str, str]:
    values = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (obj.get("data") or {}).items()}
    values.update(obj.get("stringData") or {})
    return values


def check_rendered(objects: list[dict], text: str) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        if PLACEHOLDER.search(line):
            problems.append(f"rendered line {number} holds a placeholder: {line.strip()[:80]}")
    for obj in objects:
        if obj.get("kind") != "Secret":
            continue
        name = obj["metadata"]["name"]
        for key, value in secret_values(obj).items():
            if PLACEHOLDER.search(value):
                problems.append(f"Secret/{name} key {key} holds a placeholder value")
            if key in MINIMUMS:
                minimum, unit = MINIMUMS[key]
                size = len(value.encode()) if unit == "bytes" else len(value)
                if size < minimum:
                    problems.append(f"Secret/{name} key {key} is shorter than {minimum} {unit}")
            if key == "ui_username" and not EMAIL.match(value.strip()):
                problems.append(f"Secret/{name} key ui_username is not an email address (the first admin signs in with it)")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    committed = sub.add_parser("committed")
    committed.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    rendered = sub.add_parser("rendered")
    rendered.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    if args.mode == "committed":
        problems = check_committed(args.root)
        what = "committed files of k8s/"
    else:
        text = args.file.read_text()
        problems = check_rendered([o for o in yaml.safe_load_all(text) if o], text)
        what = f"rendered {args.file.name}"
    for problem in problems:
        print(f"FAIL {problem}")
    if not problems:
        print(f"ok   no placeholder secrets in the {what}")
    print(f"{0 if problems else 1} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
