#!/usr/bin/env bash
# Where the build of `cargo run --example quickstart` goes: a cold `cargo build --example
# quickstart --timings` (crates already downloaded) into a temporary target directory, then
# the slowest units and the crates built more than once (for the host and for the target,
# or with different features). Works on the committed HEAD; nothing here is modified.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$src" archive HEAD | tar -x -C "$work"
cd "$work"
export CARGO_TARGET_DIR="$work/target" CARGO_TERM_COLOR=never
cargo fetch --locked >/dev/null 2>&1
start=$(date +%s%N)
cargo build --locked --quiet --example quickstart --timings 2>/dev/null
echo "cold build of the quickstart (downloads excluded): $(( ($(date +%s%N) - start) / 1000000 )) ms"
python3 - "$CARGO_TARGET_DIR/cargo-timings/cargo-timing.html" <<'PY'
import collections, json, re, sys
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", open(sys.argv[1]).read(), re.S).group(1))
print(f"{len(units)} units, {sum(u['duration'] for u in units):.1f} s of compiler time")
for u in sorted(units, key=lambda u: -u["duration"])[:12]:
    print(f"  {u['duration']:5.1f} s  {u['name']} {u['version']} {u.get('target', '').strip()}")
built = collections.Counter(u["name"] for u in units)
print("built more than once:", ", ".join(f"{n} ×{c}" for n, c in built.most_common() if c > 1))
PY
