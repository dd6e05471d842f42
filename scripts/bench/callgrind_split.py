#!/usr/bin/env python3
"""Splits a callgrind dump of a Spin (or runner) process by where the
instructions ran: the guest's wasm (code JIT-compiled by wasmtime, which has no
object file: callgrind's "???"), the host binary, and the shared libraries
(glibc's malloc/memcpy, libgcc's unwinder, ...).

    callgrind_split.py DUMP [REQUESTS]

Prints one line per part, "part instructions share [per-request]"; with
--machine, "part=instructions" pairs on one line. Self cost only: a call
line's following cost line is the callee's inclusive cost and is skipped.
"""
import re
import sys
from collections import defaultdict


def split(path):
    names = {}  # compressed ids "(n)" -> object name
    current = None
    after_call = False
    cost = defaultdict(int)
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("ob=", "cob=")):
                # "(n) name" defines id n, a later "(n)" refers to it; either
                # line may be the first to name an object.
                m = re.match(r"c?ob=(\(\d+\))?\s*(.*)", line.rstrip("\n"))
                ident, name = m.group(1), m.group(2)
                if ident and name:
                    names[ident] = name
                if line.startswith("ob="):
                    current = names.get(ident, name) if ident else name
                continue
            if line.startswith("calls="):
                after_call = True
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if after_call:
                    after_call = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    cost[current] += int(parts[1])
    return cost


def part_of(obj):
    base = obj.rsplit("/", 1)[-1]
    if obj in ("???", "", None):
        return "guest"  # JIT code: wasm functions and wasmtime's trampolines
    if base in ("spin", "runner"):
        return "host"
    if base.startswith("libc.so") or base.startswith("ld-linux"):
        return "libc"
    return "other-libs"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    machine = "--machine" in sys.argv
    requests = int(args[1]) if len(args) > 1 else 0
    parts = defaultdict(int)
    for obj, n in split(args[0]).items():
        parts[part_of(obj)] += n
    total = sum(parts.values())
    order = ["guest", "host", "libc", "other-libs"]
    if machine:
        print(" ".join(f"{p}={parts[p]}" for p in order) + f" total={total}")
        return
    for p in order + ["total"]:
        n = total if p == "total" else parts[p]
        per = f"  {n / requests:12,.0f} per request" if requests else ""
        print(f"{p:10} {n:15,} {100 * n / max(total, 1):5.1f} %{per}")


if __name__ == "__main__":
    main()
