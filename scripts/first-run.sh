#!/usr/bin/env bash
# A newcomer's first command: `cargo run --example quickstart` on a fresh clone of this
# repository with an empty Cargo cache (every crate downloaded from crates.io, nothing built),
# timed from the command to its exit. The clone and the cache live in a temporary folder;
# nothing here is modified. Needs the network (crates.io) and the toolchain rustup already
# has.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone --quiet "$src" "$work/clone"
export CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/clone/target" CARGO_TERM_COLOR=never
mkdir -p "$CARGO_HOME"
cd "$work/clone"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(ms)
cargo run --quiet --example quickstart >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
total=$(( $(ms) - start ))
crates=$(find "$CARGO_HOME/registry/cache" -name '*.crate' | wc -l)
echo "first \`cargo run --example quickstart\` (fresh clone, empty cache, $crates crates downloaded): $(awk "BEGIN { printf \"%.1f\", $total / 1000 }") s (goal < 90 s on 2 cores)"
