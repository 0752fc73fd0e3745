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
# Run as root with the bed's servers (make test's), with CI=true so that
# nothing skips.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30}
shift || true
OUT=${OUT:-/tmp/perch-flake}
LOAD=${LOAD:-2}
d=$(make -s print-go-dir); GO=${GO:-$( [ -x "$d/bin/go" ] && echo "$d/bin/go" || echo go)}
export CI=${CI:-true}

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

status=0
for p in "${pkgs[@]}"; do
  name=$(basename "$p")
  log="$OUT/$name.log"
  start=$(date +%s)
  # One package at a time: the busy cores are the load, not other tests.
  if ! "$GO" test -count="$N" -timeout 180m -v -run "^(${TESTS[$p]})\$" "$p" >"$log" 2>&1; then
    status=1
  fi
  echo "# $p: $(( $(date +%s) - start )) s, $N runs, load $LOAD × sha256sum /dev/zero" | tee -a "$OUT/summary.txt"
  for t in ${TESTS[$p]//|/ }; do
    pass=$(grep -c -- "^--- PASS: $t " "$log" || true)
    fail=$(grep -c -- "^--- FAIL: $t " "$log" || true)
    skip=$(grep -c -- "^--- SKIP: $t " "$log" || true)
    printf '%-28s %3d passed %3d failed %3d skipped\n' "$t" "$pass" "$fail" "$skip" | tee -a "$OUT/summary.txt"
    [ "$fail" -eq 0 ] && [ "$skip" -eq 0 ] && [ "$pass" -eq "$N" ] || status=1
  done
done
exit $status
