#!/usr/bin/env python3
"""Reads `cargo test --no-run --message-format=json` on stdin and prints each
test binary it built as `<package>\t<package dir>\t<executable>`, so
scripts/test.sh can run the binaries of one build without cargo."""
import json
import os
import sys


def package_name(package_id):
    """`path+file:///x/tests#api-tests@0.1.0` -> api-tests; cargo leaves the
    name out when it is the directory's: `path+file:///x/runner#0.1.0`."""
    url, _, fragment = package_id.partition("#")
    if "@" in fragment:
        return fragment.split("@")[0]
    return url.rstrip("/").rsplit("/", 1)[-1]


for line in sys.stdin:
    if not line.startswith("{"):
        continue
    message = json.loads(line)
    if message.get("reason") != "compiler-artifact" or not message.get("profile", {}).get("test"):
        continue
    executable = message.get("executable")
    if executable:
        package_dir = os.path.dirname(message["manifest_path"])
        print(f"{package_name(message['package_id'])}\t{package_dir}\t{executable}")
