# checker-test.sh - what the tests of scripts/check-*.sh share; sourced by
# tests/layers/check-*.test.sh after they set `name` (for messages) and
# `checker` (the script under test).
#
# It checks that the checker passes on the real tree and on a copy of its
# C folders (in $work/tree, removed on exit), and gives:
#   expect_failure WHAT EXPECTED             the checker exits 1 on the copy
#       as it is and prints a line starting with EXPECTED (WHAT names the
#       change, for messages);
#   expect_violation FILE LINE_TEXT PATTERN  append LINE_TEXT to FILE in the
#       copy, expect exit 1 and "FILE:LINE: PATTERN", then put FILE back;
#   fail MESSAGE                              count and print a failure;
#   finish                                    the copy passes again; exit
#       1 with the count of failures, or print "NAME: ok".
set -uo pipefail

repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "$name: $1" >&2
    failures=$((failures + 1))
}

expect_failure() {
    local what=$1 expected=$2 output status
    output=$("$checker" "$work/tree" 2>&1)
    status=$?
    if [ "$status" -ne 1 ]; then
        fail "$what: exit $status, expected 1"
    elif ! grep -q -- "^$expected" <<<"$output"; then
        fail "$what: no \"$expected\" in: $output"
    fi
}

expect_violation() {
    local file=$1 text=$2 pattern=$3 line
    cp "$work/tree/$file" "$work/saved"
    echo "$text" >>"$work/tree/$file"
    line=$(wc -l <"$work/tree/$file")
    expect_failure "$file with '$text'" "$file:$line: $pattern"
    cp "$work/saved" "$work/tree/$file"
}

finish() {
    local output
    output=$("$checker" "$work/tree" 2>&1) || fail "the copy fails after every change was undone: $output"
    if [ "$failures" -gt 0 ]; then
        echo "$name: $failures failure(s)" >&2
        exit 1
    fi
    echo "$name: ok"
}

output=$("$checker" 2>&1) || fail "the real tree fails: $output"
mkdir -p "$work/tree"
cp -R "$repository/appliance" "$repository/firmware" "$repository/common" "$work/tree/"
output=$("$checker" "$work/tree" 2>&1) || fail "the copy fails before any change: $output"
