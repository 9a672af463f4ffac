#!/usr/bin/env bash
# Run every cmocka unit test binary in a directory; fail if any fails.
# Every tests/unit/test_*.c must have its binary here: a test that was not
# built fails rather than silently not running. A test that skips itself
# (cmocka skip(), e.g. no permission to mount a tmpfs) is reported; under
# CI=true it fails the run, as in the node tests (tests/lib/requirements.mjs).
set -uo pipefail
dir=${1:?usage: run-unit-tests.sh DIR}
sources=$(dirname "$0")/../tests/unit
failed=0; passed=0; skipped=0
case "${CI:-}" in 1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss]) ci=1 ;; *) ci=0 ;; esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
output=$(mktemp)
trap 'rm -f "$output"' EXIT
for source in "$sources"/test_*.c; do
    test="$dir/$(basename "$source" .c)"
    echo "== $(basename "$test")"
    if [ ! -x "$test" ]; then
        failed=$((failed + 1)); echo "FAILED: $test was not built (make SANITIZE=1 unit-tests)"
        continue
    fi
    if "$test" 2>&1 | tee "$output"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $test"; fi
    if grep -q '^\[  SKIPPED \]' "$output"; then
        skipped=$((skipped + 1))
        if [ "$ci" -eq 1 ]; then
            failed=$((failed + 1)); echo "FAILED: $test skipped a test; under CI=true every test must run"
        fi
    fi
done
echo "unit: $passed passed, $failed failed, $skipped with skipped tests"
[ "$passed" -gt 0 ] && [ "$failed" -eq 0 ]
