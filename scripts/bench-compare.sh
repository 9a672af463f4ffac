#!/usr/bin/env bash
# Side-by-side benchmark of two commits: did a change move a figure?
#
#   scripts/bench-compare.sh OLD_REV [BENCHES] [ROUNDS]
#   scripts/bench-compare.sh 1194b0e ingest,fanout,record 3
#
# Builds OLD_REV (`make all`) in a temporary git worktree, builds this tree,
# and runs each named tests/bench/NAME.bench.mjs of THIS tree against both
# builds, alternating old and new for ROUNDS rounds (default 3), so that
# what the machine does meanwhile weighs on both alike. Prints the JSON
# lines of every run, each preceded by a line naming round, build and load
# average, then one line per figure with both medians. The record bench runs
# a short ramp (BENCH_STEPS=25,100, BENCH_SECONDS=20) unless those are set.
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: scripts/bench-compare.sh OLD_REV [BENCHES] [ROUNDS]}
benches=${2:-ingest,fanout,record}
rounds=${3:-3}
old_tree=$(mktemp -d /tmp/doorstep-bench-old-XXXXXX)
trap 'git worktree remove --force "$old_tree" >/dev/null 2>&1 || rm -rf "$old_tree"' EXIT

git worktree add --quiet --detach "$old_tree" "$old_rev"
make -C "$old_tree" all >/dev/null
make all >/dev/null
export BENCH_STEPS=${BENCH_STEPS:-25,100} BENCH_SECONDS_RECORD=${BENCH_SECONDS:-20}
results=$(mktemp)
cd tests
for ((round = 1; round <= rounds; round++)); do
    for which in old new; do
        build=$PWD/../build
        [ "$which" = old ] && build=$old_tree/build
        for bench in ${benches//,/ }; do
            read -r load1 load5 load15 _ < /proc/loadavg
            echo "{\"round\":$round,\"build\":\"$which\",\"bench\":\"$bench\",\"loadavg\":\"$load1 $load5 $load15\"}"
            if [ "$bench" = record ]; then
                BENCH_SECONDS=$BENCH_SECONDS_RECORD DOORSTEP_BUILD=$build node "bench/$bench.bench.mjs" 2>/dev/null || true
            else
                DOORSTEP_BUILD=$build node "bench/$bench.bench.mjs" 2>/dev/null || true
            fi
        done
    done
done | tee "$results"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")
  .map((text) => { try { return JSON.parse(text); } catch { return null; } }).filter(Boolean);
const runs = {};
let current = null;
for (const line of lines) {
  if (line.round) { current = line; continue; }
  const value = line.figure === "hub_record_step" ? line.hub_cpu_percent_of_core : line.value;
  if (!current || typeof value !== "number") continue;
  const key = line.figure + (line.viewers !== undefined ? ` viewers=${line.viewers}` : "") +
    (line.figure === "hub_record_step" ? ` doorbells=${line.doorbells}` : "");
  ((runs[key] ??= { old: [], new: [] })[current.build]).push(value);
}
const median = (values) => { const s = [...values].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : null; };
for (const [key, { old, new: now }] of Object.entries(runs))
  console.log(JSON.stringify({ compare: key, old_median: median(old), new_median: median(now), old_runs: old, new_runs: now }));
' "$results"
rm -f "$results"
