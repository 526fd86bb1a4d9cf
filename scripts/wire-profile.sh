#!/usr/bin/env bash
# Where a download's CPU goes, the wire alone: `perf stat` (task clock, context switches,
# migrations, page faults) of 1 GiB taken in from a loopback server and dropped, by
#   - the crate (`download_to_writer` into a sink) on Tokio's multi-thread runtime,
#   - the same on a current-thread runtime,
#   - reqwest alone (a default client, `chunk()` until the end), multi-thread runtime,
#   - `curl -o /dev/null`.
# The server and the crate's side are those of `cargo bench -- download` (row 13), in a
# release build. Needs `perf` and `curl`. Usage: scripts/wire-profile.sh [ROUNDS, default 3]
set -euo pipefail
rounds="${1:-3}"
cd "$(dirname "$0")/.."
command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 2; }
bench="$(cargo bench --all-features --bench comparisons --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "comparisons":
        print(m["executable"])')"
work="$(mktemp -d)"
trap 'exec 3>&-; rm -rf "$work"' EXIT
mkfifo "$work/in"
"$bench" --bytes-server-child $((1 << 30)) <"$work/in" >"$work/url" &
exec 3>"$work/in"
for _ in $(seq 50); do [ -s "$work/url" ] && break; sleep 0.1; done
url="$(head -1 "$work/url")"
events=task-clock,context-switches,cpu-migrations,page-faults
measure() {
  echo "== round $1: $2"
  shift 2
  perf stat -e "$events" "$@" 2>&1 >/dev/null |
    grep -E 'task-clock|context-switches|cpu-migrations|page-faults|elapsed'
}
for round in $(seq "$rounds"); do
  measure "$round" "heygen-api into a sink, multi-thread runtime" \
    "$bench" --download-child "$url" "$work/unused" discard
  measure "$round" "heygen-api into a sink, current-thread runtime" \
    env COMPARISONS_RUNTIME=current "$bench" --download-child "$url" "$work/unused" discard
  measure "$round" "reqwest alone, multi-thread runtime" \
    "$bench" --download-child "$url" "$work/unused" reqwest
  measure "$round" "curl -o /dev/null" curl -s -o /dev/null "$url"
done
