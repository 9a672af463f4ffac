#!/usr/bin/env bash
# Run every cmocka unit test binary in a directory; fail if any fails.
set -uo pipefail
dir=${1:?usage: run-unit-tests.sh DIR}
failed=0; passed=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for test in "$dir"/test_*; do
    [ -x "$test" ] || continue
    echo "== $(basename "$test")"
    if "$test"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $test"; fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
