#!/usr/bin/env python3
"""Checks the declared MSRV (`rust-version` in the workspace Cargo.toml) against the dependencies.

Every package a workspace crate needs to build (normal and build dependencies, transitively,
dev-dependencies excluded) must declare a `rust-version` no newer than the workspace's: a user
on the declared toolchain must be able to build the crates. Clippy's `incompatible_msrv` lint
(run by `.ci/run` with warnings denied) covers the other half: standard-library items newer than
the declared version. Packages that declare no `rust-version` cannot be checked and are listed.

Usage: python3 scripts/check-msrv.py   (from anywhere in the repository; needs cargo on PATH)
"""

import json
import subprocess
import sys
from pathlib import Path


def version_key(text):
    """'1.88' and '1.88.0' compare equal; missing components count as 0."""
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        print(f"check-msrv: `cargo metadata` failed:\n{run.stderr}", file=sys.stderr)
        return 1
    meta = json.loads(run.stdout)
    packages = {p["id"]: p for p in meta["packages"]}
    members = set(meta["workspace_members"])
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}

    declared = {packages[m].get("rust_version") for m in members}
    if len(declared) != 1 or None in declared:
        print(f"check-msrv: workspace members declare rust-version {sorted(map(str, declared))}; "
              "set one `rust-version` in [workspace.package] and inherit it", file=sys.stderr)
        return 1
    msrv = declared.pop()

    # Walk normal and build edges only: dev-dependencies are not built by users of the crates.
    needed, stack = set(), list(members)
    while stack:
        node = nodes[stack.pop()]
        for dep in node["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds == {"dev"}:
                continue
            if dep["pkg"] not in needed:
                needed.add(dep["pkg"])
                stack.append(dep["pkg"])

    too_new, unknown = [], []
    for pkg_id in sorted(needed - members, key=lambda i: packages[i]["name"]):
        pkg = packages[pkg_id]
        rv = pkg.get("rust_version")
        if rv is None:
            unknown.append(f"{pkg['name']} {pkg['version']}")
        elif version_key(rv) > version_key(msrv):
            too_new.append(f"{pkg['name']} {pkg['version']} needs Rust {rv}")

    print(f"check-msrv: rust-version {msrv}; {len(needed - members)} dependencies checked, "
          f"{len(unknown)} declare no rust-version")
    if too_new:
        print(f"check-msrv: these dependencies need a newer Rust than the declared {msrv}:",
              file=sys.stderr)
        for line in too_new:
            print(f"  {line}", file=sys.stderr)
        print("Raise `rust-version` in Cargo.toml (and say so in the README), or pin the "
              "dependency to an older version with `cargo update -p <name> --precise <version>`.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
