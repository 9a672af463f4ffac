#!/usr/bin/env bash
# Run each libFuzzer harness for a bounded time over its seed corpus, as many
# at once as there are cores (FUZZ_JOBS overrides): each harness is one
# process on one core, so two at once on two cores take half the time.
# usage: run-fuzzers.sh SECONDS FUZZER...
# No fuzzer named, or a fuzzer without seeds, fails: nothing silently does
# not run.
set -uo pipefail
seconds=${1:?usage: run-fuzzers.sh SECONDS FUZZER...}; shift
[ "$#" -gt 0 ] || { echo "FAILED: no fuzzer to run"; exit 1; }
jobs=${FUZZ_JOBS:-$(nproc)}
mkdir -p build/fuzz

# Run one harness; its verdict goes to build/fuzz/NAME.result, its output
# (printed once it is done, so outputs never interleave) to NAME.log.
run_one() {
    local fuzzer=$1 name seeds corpus
    name=$(basename "$fuzzer")
    seeds="tests/fuzz/corpus/${name#fuzz_}"
    corpus="build/fuzz/corpus-${name#fuzz_}"
    mkdir -p "$corpus"
    if [ ! -d "$seeds" ]; then
        echo "FAILED: $name has no seed corpus ($seeds)" > "build/fuzz/$name.log"
        echo failed > "build/fuzz/$name.result"; return
    fi
    if "$fuzzer" -max_total_time="$seconds" -print_final_stats=0 -max_len=65536 \
        -artifact_prefix="build/fuzz/$name-" "$corpus" "$seeds" 2> "build/fuzz/$name.log"; then
        echo passed > "build/fuzz/$name.result"
    else
        echo failed > "build/fuzz/$name.result"
    fi
}

echo "== $# fuzzers, ${seconds}s each, $jobs at a time"
running=0
for fuzzer in "$@"; do
    rm -f "build/fuzz/$(basename "$fuzzer").result"
    run_one "$fuzzer" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

failed=0; passed=0
for fuzzer in "$@"; do
    name=$(basename "$fuzzer")
    if [ "$(cat "build/fuzz/$name.result" 2>/dev/null)" = passed ]; then
        passed=$((passed + 1)); echo "== $name: passed"; tail -n 2 "build/fuzz/$name.log"
    else
        failed=$((failed + 1)); tail -n 60 "build/fuzz/$name.log"; echo "FAILED: $name"
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
