#!/usr/bin/env bash
# `make bench`: performance figures as JSON lines, from the optimised build.
# Each line names the figure, its value and the conditions it was taken in.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOORSTEP_BUILD=${DOORSTEP_BUILD:-$PWD/build}
echo "{\"machine\":\"$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)\",\"commit\":\"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\"}"
cd tests
for bench in bench/*.bench.mjs; do
    node "$bench"
done
