#!/usr/bin/env bash
# Row 14: what `heygen mcp` asks of a model's context. For each choice of tools, the size of
# the `tools` list as `tools/list` sends it (compact JSON, the bytes on the wire) and how many
# tools it holds. Usage: scripts/mcp-tools-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet --all-features --bin heygen
for choice in "" "--read-only" "--families translations" "--all-operations" "--read-only --all-operations"; do
  # shellcheck disable=SC2086
  target/debug/heygen mcp --list-tools $choice | python3 -c '
import json, sys
tools = json.load(sys.stdin)["tools"]
wire = json.dumps({"tools": tools}, separators=(",", ":"), ensure_ascii=False)
choice = sys.argv[1] or "(default)"
print(f"{choice:32} {len(tools):3} tools {len(wire.encode()):8,} bytes")
' "$choice"
done
