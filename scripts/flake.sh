#!/usr/bin/env bash
# The flakiness check (issue 22): the timing-sensitive tests, each run N
# times in a row (go test -count=N: one bed per package, as in make test)
# while LOAD other processes keep every core busy (sha256sum /dev/zero).
# It prints one line per test with its passes and failures, keeps every
# run's output in $OUT (default /tmp/perch-flake), and exits 1 if any run
# failed.
#
#   scripts/flake.sh [N] [package ...]     (N: 30; packages: all below)
#
# Packages run one after another, or all at once with PARALLEL=1 (more
# load still: the busy cores and each other). TestLocations's no-fight
# watch is PERCH_LOCATIONS_WATCH (20 s here, 2 min in CI: the watch's
# length is not a timing margin). Run as root, with CI=true so that
# nothing skips.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30}
shift || true
OUT=${OUT:-/tmp/perch-flake}
LOAD=${LOAD:-2}
d=$(make -s print-go-dir); GO=${GO:-$( [ -x "$d/bin/go" ] && echo "$d/bin/go" || echo go)}
export CI=${CI:-true}
export PERCH_LOCATIONS_WATCH=${PERCH_LOCATIONS_WATCH:-20s}
PARALLEL=${PARALLEL:-0}

# package → its tests (an anchored -run pattern).
declare -A TESTS=(
  [./xrandr]='TestWatchActivity'
  [./sessions]='TestFreeze|TestFreezeVirtual|TestNetworkChangedVirtual|TestLocalBandwidth|TestSoak|TestSoakLocal|TestSoakNetns'
  [./agent]='TestLocations|TestLocationsFollow|TestNetworkChanges|TestOtherClient'
  [./ui]='TestLocationsInTheTray'
)
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./xrandr ./sessions ./agent ./ui)

mkdir -p "$OUT"
loaders=()
cleanup() { for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for _ in $(seq "$LOAD"); do
  sha256sum /dev/zero >/dev/null &
  loaders+=($!)
done

# runpkg runs one package's tests N times and writes its lines to
# $OUT/<name>.sum; it fails if any run did not pass.
runpkg() {
  local p=$1 name log start st=0
  name=$(basename "$p")
  log="$OUT/$name.log"
  start=$(date +%s)
  "$GO" test -count="$N" -timeout 180m -v -run "^(${TESTS[$p]})\$" "$p" >"$log" 2>&1 || st=1
  {
    echo "# $p: $(( $(date +%s) - start )) s, $N runs, load $LOAD × sha256sum /dev/zero, parallel $PARALLEL"
    for t in ${TESTS[$p]//|/ }; do
      pass=$(grep -c -- "^--- PASS: $t " "$log" || true)
      fail=$(grep -c -- "^--- FAIL: $t " "$log" || true)
      skip=$(grep -c -- "^--- SKIP: $t " "$log" || true)
      printf '%-28s %3d passed %3d failed %3d skipped\n' "$t" "$pass" "$fail" "$skip"
      [ "$fail" -eq 0 ] && [ "$skip" -eq 0 ] && [ "$pass" -eq "$N" ] || st=1
    done
  } >"$OUT/$name.sum"
  return $st
}

status=0
if [ "$PARALLEL" = 1 ]; then
  pids=()
  for p in "${pkgs[@]}"; do runpkg "$p" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
else
  for p in "${pkgs[@]}"; do runpkg "$p" || status=1; done
fi
for p in "${pkgs[@]}"; do cat "$OUT/$(basename "$p").sum"; done | tee "$OUT/summary.txt"
exit $status
