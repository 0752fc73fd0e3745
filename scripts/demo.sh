#!/usr/bin/env bash
# Runs perch's demo: a self-contained sandbox (virtual display, and later a
# loopback server) on which perch does its main job.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bin/perch demo "$@"
