#!/usr/bin/env bash
# Runs every comparison of perch with the tools it replaces and rewrites
# docs/benchmarks.md (see scripts/bench/main.go).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./scripts/bench "$@"
