#!/usr/bin/env bash
# Runs every comparison of perch with the tools it replaces and rewrites
# docs/benchmarks.md (see scripts/bench/main.go). With no arguments (make
# bench) the session comparisons then run again for each other xpra
# version and client mode, in the same run, and add their sections:
# client = "local" with Debian's xpra 3.1.3, and xpra 6.5.3 ($PERCH_XPRA6)
# on both ends in both modes (the local-mode comparison on the 5 Mbit/s
# link too). With arguments it runs `go run ./scripts/bench ARGS` alone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
  exec go run ./scripts/bench "$@"
fi
go run ./scripts/bench
go run ./scripts/bench -append -only cold,recovery -client local
go run ./scripts/bench -append -only cold,recovery,xlocal -xpra6
go run ./scripts/bench -append -only cold,recovery -xpra6 -client local
