#!/usr/bin/env bash
# Instructions per operation for rows 1 and 3 of BENCHMARKS.md, counted by callgrind for the
# whole process:
# - row 1, per call (client and loopback server): the crate's `client.videos().get(id)`, raw
#   reqwest, and raw reqwest with the crate's 30 s per-request timeout;
# - row 3, per delivery: `Verifier::verify` against bare hmac + `serde_json::Value`.
# Each side runs twice, with N1 and N2 operations; (I(N2) - I(N1)) / (N2 - N1) is its cost
# per operation without start-up.
#
# `--breakdown` prints instead where row 1's extra instructions go: callgrind's per-function
# counts of the crate's call minus the timed raw call's, per call, largest first.
#
# Needs valgrind (and python3 for --breakdown).
# Usage: scripts/instructions.sh [N1 N2]   (default 200 1200)
#        scripts/instructions.sh --breakdown [N]   (default 2000 calls per side)
set -euo pipefail
breakdown=""
if [[ "${1:-}" == "--breakdown" ]]; then
  breakdown=1
  shift
fi
n1="${1:-200}"
n2="${2:-1200}"
cd "$(dirname "$0")/.."
bench="$(cargo bench --bench comparisons --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*comparisons[^"]*\)".*/\1/p' | tail -1)"
[[ -x "$bench" ]] || { echo "could not build the benchmark binary" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

count() { # mode side operations -> total instructions
  valgrind --tool=callgrind --callgrind-out-file="$work/out" "$bench" "$1" "$2" "$3" \
    >/dev/null 2>"$work/log"
  sed -n 's/^summary: //p; s/^totals: //p' "$work/out" | head -1
}
per_op() { # mode side -> instructions per operation
  local a b
  a="$(count "$1" "$2" "$n1")"
  b="$(count "$1" "$2" "$n2")"
  echo $(( (b - a) / (n2 - n1) ))
}

if [[ -n "$breakdown" ]]; then
  n="${1:-2000}"
  for side in 0 2; do
    valgrind --tool=callgrind --callgrind-out-file="$work/side$side" "$bench" --calls "$side" "$n" \
      >/dev/null 2>"$work/log"
    callgrind_annotate "$work/side$side" >"$work/side$side.txt" 2>/dev/null
  done
  python3 - "$work/side0.txt" "$work/side2.txt" "$n" <<'PY'
import re, sys
def load(path):
    counts = {}
    for line in open(path):
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*?)(?: \[.*\])?$", line)
        if m and "PROGRAM TOTALS" not in m.group(2):
            name = m.group(2)
            counts[name] = counts.get(name, 0) + int(m.group(1).replace(",", ""))
    return counts
ours, timed, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
rows = sorted(((ours.get(k, 0) - timed.get(k, 0)) / n, k) for k in set(ours) | set(timed))
print(f"row 1: instructions per call, the crate minus raw reqwest with the timeout ({n} calls each)")
print(f"total {sum(v for v, _ in rows):.0f}")
for v, k in rows[::-1][:25]:
    print(f"{v:8.0f}  {k[:120]}")
PY
  exit 0
fi

echo "1. per call, GET /v3/videos/{id} on loopback (whole process)"
declare -a names=("heygen-api" "raw reqwest" "raw reqwest + 30 s timeout")
declare -a per
for side in 0 1 2; do
  per[$side]="$(per_op --calls "$side")"
  printf '   %-28s %8d instructions\n' "${names[$side]}" "${per[$side]}"
done
awk -v o="${per[0]}" -v r="${per[1]}" -v t="${per[2]}" \
  'BEGIN { printf "   ratio to raw reqwest %.3f; like for like (with the timeout) %.3f\n", o / r, o / t }'
echo "3. per delivery, verify + parse of a 1 KB webhook body"
ours="$(per_op --deliveries 0)"
bare="$(per_op --deliveries 1)"
printf '   %-28s %8d instructions\n' "heygen-api Verifier::verify" "$ours" "bare hmac + serde_json" "$bare"
awk -v o="$ours" -v b="$bare" 'BEGIN { printf "   throughput ratio (bare / ours) %.3f\n", b / o }'
