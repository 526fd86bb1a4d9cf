#!/usr/bin/env bash
# Times the README's two commands on a fresh clone of this repository's HEAD, as a new
# contributor runs them: the quickstart (which builds the crate and the simulator), then the
# test command, then the test command again after a one-line edit of the crate (a
# contributor's loop). With `--ci`, also `.ci/run` on a second fresh clone. Figures go to stdout;
# each command's own output to files under the work folder, which is removed at the end
# unless `--keep` is given. Written to BENCHMARKS.md by hand, with the date.
#
#   scripts/suite-time.sh [--ci] [--keep]
set -euo pipefail

ci=false
keep=false
for arg in "$@"; do
  case "$arg" in
    --ci) ci=true ;;
    --keep) keep=true ;;
    *) echo "usage: $0 [--ci] [--keep]" >&2; exit 2 ;;
  esac
done

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d)
if ! $keep; then
  trap 'rm -rf "$work"' EXIT
fi
echo "HEAD $(git -C "$repo" rev-parse --short HEAD), $(nproc) cores, work folder $work"

timed() {
  local label=$1 log=$2
  shift 2
  local started=$SECONDS
  if "$@" >"$log" 2>&1; then
    echo "$label: $((SECONDS - started)) s"
  else
    echo "$label: FAILED after $((SECONDS - started)) s; the end of its output:"
    tail -30 "$log"
    return 1
  fi
}

git clone -q "$repo" "$work/clone"
cd "$work/clone"
timed "quickstart (fresh clone)" "$work/quickstart.log" cargo run --locked --example quickstart
timed "test command after the quickstart" "$work/test.log" cargo test --features cli --locked
grep -E '^test result' "$work/test.log" | sed 's/^/  /'
# A contributor's loop: one line of the crate changed, the command again.
echo "// an edit" >> src/simulator/http.rs
timed "test command after a one-line edit" "$work/edit.log" cargo test --features cli --locked
grep -E '^test result' "$work/edit.log" | sed 's/^/  /'

if $ci; then
  git clone -q "$repo" "$work/ci"
  cd "$work/ci"
  rm -rf "$work/clone/target"
  timed ".ci/run (fresh clone)" "$work/ci.log" bash .ci/run
fi
