#!/usr/bin/env bash
# Run each libFuzzer harness for a bounded time over its seed corpus.
# usage: run-fuzzers.sh SECONDS FUZZER...
# No fuzzer named, or a fuzzer without seeds, fails: nothing silently does
# not run.
set -uo pipefail
seconds=${1:?usage: run-fuzzers.sh SECONDS FUZZER...}; shift
[ "$#" -gt 0 ] || { echo "FAILED: no fuzzer to run"; exit 1; }
failed=0; passed=0
for fuzzer in "$@"; do
    name=$(basename "$fuzzer")
    seeds="tests/fuzz/corpus/${name#fuzz_}"
    corpus="build/fuzz/corpus-${name#fuzz_}"
    mkdir -p "$corpus"
    if [ ! -d "$seeds" ]; then
        failed=$((failed + 1)); echo "FAILED: $name has no seed corpus ($seeds)"; continue
    fi
    echo "== $name for ${seconds}s (seeds: $seeds)"
    if "$fuzzer" -max_total_time="$seconds" -print_final_stats=0 -max_len=65536 \
        -artifact_prefix="build/fuzz/$name-" "$corpus" "$seeds" 2> "build/fuzz/$name.log"; then
        passed=$((passed + 1)); tail -n 2 "build/fuzz/$name.log"
    else
        failed=$((failed + 1)); tail -n 60 "build/fuzz/$name.log"; echo "FAILED: $name"
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
