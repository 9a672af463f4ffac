#!/usr/bin/env bash
# `make bench`: performance figures as JSON lines, from the optimised build.
#
# Every tests/bench/*.bench.mjs runs BENCH_RUNS times (default 3). Before
# each run a line states the conditions: the commit, the load average and
# whether CPU hogs run. Each figure line of a run carries its run number and
# the load average read before it; after the runs of a benchmark, one
# summary line per figure gives the median of the runs
# (tests/lib/bench-median.mjs).
#
#   make bench                               all benchmarks, 3 runs each
#   BENCH_ONLY=latency make bench            only bench/latency.bench.mjs
#   BENCH_HOGS=2 make bench                  with two busy loops running
#   BENCH_RUNS=5 make bench
set -euo pipefail
cd "$(dirname "$0")/.."
export DOORSTEP_BUILD=${DOORSTEP_BUILD:-$PWD/build}
runs=${BENCH_RUNS:-3}
hogs=${BENCH_HOGS:-0}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD 2>/dev/null; then commit="$commit+changes"; fi

hog_pids=()
stop_hogs() { for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_hogs EXIT
for ((i = 0; i < hogs; i++)); do
    sh -c 'while :; do :; done' &
    hog_pids+=($!)
done
[ "$hogs" -gt 0 ] && sleep 5 # let the load average see them

echo "{\"machine\":\"$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)\",\"commit\":\"$commit\",\"runs\":$runs,\"cpu_hogs\":$hogs}"
cd tests
failed=()
for bench in bench/*.bench.mjs; do
    name=$(basename "$bench" .bench.mjs)
    if [ -n "${BENCH_ONLY:-}" ] && [[ " ${BENCH_ONLY//,/ } " != *" $name "* ]]; then continue; fi
    for ((run = 1; run <= runs; run++)); do
        read -r load1 load5 load15 _ < /proc/loadavg
        echo "{\"bench\":\"$name\",\"run\":$run,\"commit\":\"$commit\",\"cpu_hogs\":$hogs,\"loadavg\":\"$load1 $load5 $load15\",\"started\":\"$(date -u +%FT%TZ)\"}" >&2
        # Tag each figure line with its run and the load average before it.
        BENCH_RUNS=1 node "$bench" | node -e '
            const [run, load] = process.argv.slice(1);
            require("readline").createInterface({ input: process.stdin }).on("line", (text) => {
                try { const line = JSON.parse(text); console.log(JSON.stringify({ ...line, run: +run, loadavg_1m: +load })); }
                catch { console.log(text); }
            });' "$run" "$load1"
    done | node lib/bench-median.mjs || failed+=("$name")
done
# A benchmark that breaks does not stop the others; it is named at the end.
if [ ${#failed[@]} -gt 0 ]; then
    echo "bench: failed: ${failed[*]}" >&2
    exit 1
fi
