"""Checks the declared rust-version: it must be a real version, the toolchain here must
satisfy it, and no resolved dependency may declare a newer one."""
import json
import subprocess
import sys


def parse(version):
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
root = next(p for p in meta["packages"] if p["id"] == meta["resolve"]["root"])
declared = root.get("rust_version")
if not declared:
    sys.exit("Cargo.toml declares no rust-version")
used = {node["id"] for node in meta["resolve"]["nodes"]}
too_new = [
    f'{p["name"]} {p["version"]} needs {p["rust_version"]}'
    for p in meta["packages"]
    if p["id"] in used and p.get("rust_version") and parse(p["rust_version"]) > parse(declared)
]
if too_new:
    sys.exit(f"rust-version {declared} is below what dependencies need:\n  " + "\n  ".join(too_new))
rustc = subprocess.run(["rustc", "--version"], check=True, capture_output=True, text=True).stdout
toolchain = rustc.split()[1].split("-")[0]
if parse(toolchain) < parse(declared):
    sys.exit(f"rustc {toolchain} is older than rust-version {declared}")
print(f"rust-version {declared}: satisfied by every dependency ({len(used)} crates) and rustc {toolchain}")
