#!/usr/bin/env bash
# Build cost of the crate: a cold `cargo build` (default features, debug, empty target
# directory, dependencies already downloaded), then the rebuild after a one-line edit of
# openapi.yaml. Works on a copy of the repository's HEAD; nothing here is modified.
#
# `--as-dependency [FEATURES]` measures instead what a project that depends on heygen-api
# pays: a cold debug build of a new binary crate that depends on the copy (with the given
# comma-separated features, e.g. `full`; none: the default features), with Cargo's default
# profile (full debug info for what is compiled for the target; this repository's own profile
# does not apply there) and without incremental compilation, as for a dependency from a
# registry.
set -euo pipefail
case "${1:-}" in
  "" | --as-dependency) ;;
  *) echo "usage: $0 [--as-dependency [FEATURES]]" >&2; exit 2 ;;
esac
features="${2:-}"

src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The committed state (HEAD), not the working tree: what is measured is a commit.
git -C "$src" archive HEAD | tar -x -C "$work"
export CARGO_TARGET_DIR="$work/target" CARGO_TERM_COLOR=never
ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds() { awk "BEGIN { printf \"%.1f\", $1 / 1000 }"; }

if [[ "${1:-}" == "--as-dependency" ]]; then
  app="$work/app"
  mkdir -p "$app/src"
  cat > "$app/Cargo.toml" <<TOML
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
heygen-api = { path = "$work", features = [$(echo "$features" | sed -E 's/([^,]+)/"\1"/g')] }

[workspace]
TOML
  echo 'fn main() { let _ = heygen_api::Client::from_env(); }' > "$app/src/main.rs"
  cp "$work/Cargo.lock" "$app/Cargo.lock"
  cd "$app"
  # The lock file gains the new crate; every other version stays as this repository pins it.
  cargo fetch --quiet
  start=$(ms)
  CARGO_INCREMENTAL=0 cargo build --quiet
  echo "cold build of a crate depending on heygen-api (features: ${features:-default}; Cargo's default dev profile): $(seconds $(( $(ms) - start ))) s"
  exit 0
fi

cd "$work"
cargo fetch --locked >/dev/null 2>&1
start=$(ms)
cargo build --locked --quiet
cold=$(( $(ms) - start ))
echo "# edited $(date)" >> openapi.yaml
start=$(ms)
cargo build --locked --quiet
edit=$(( $(ms) - start ))
echo "cold build (default features): $(seconds $cold) s (goal <= 75 s on 2 cores)"
echo "rebuild after a spec edit:     $(seconds $edit) s (goal <= 10 s)"
