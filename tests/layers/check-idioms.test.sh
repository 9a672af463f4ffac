#!/usr/bin/env bash
# check-idioms.test.sh - proves scripts/check-idioms.sh catches what it is
# for: it passes on the real tree, and on a copy with a raw
# snprintf(error, ...) or a byte_buffer field poked from outside its module
# it exits 1 and names the file and line. Run by `make check`; prints "ok" or
# what failed, exits 1 on any failure.
set -uo pipefail

repository=$(cd "$(dirname "$0")/../.." && pwd)
checker=$repository/scripts/check-idioms.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "check-idioms.test: $1" >&2
    failures=$((failures + 1))
}

# expect_violation FILE TEXT PATTERN: append TEXT to FILE in the copy, expect
# exit 1 and a line "FILE:LINE: PATTERN", then put FILE back.
expect_violation() {
    local file=$1 text=$2 pattern=$3 line output status
    cp "$work/tree/$file" "$work/saved"
    echo "$text" >>"$work/tree/$file"
    line=$(wc -l <"$work/tree/$file")
    output=$("$checker" "$work/tree" 2>&1)
    status=$?
    if [ "$status" -ne 1 ]; then
        fail "$file with '$text': exit $status, expected 1"
    elif ! grep -q -- "^$file:$line: $pattern" <<<"$output"; then
        fail "$file with '$text': no \"$file:$line: $pattern\" in: $output"
    fi
    cp "$work/saved" "$work/tree/$file"
}

output=$("$checker" 2>&1) || fail "the real tree fails: $output"

mkdir -p "$work/tree"
cp -R "$repository/appliance" "$repository/firmware" "$repository/common" "$work/tree/"
output=$("$checker" "$work/tree" 2>&1) || fail "the copy fails before any change: $output"

expect_violation appliance/core/config.c '    snprintf(error, error_size, "bad");' \
    "write failure reasons with error_text_set"
expect_violation firmware/encoder/encoder.c '    snprintf(reason, sizeof(reason), "bad");' \
    "write failure reasons with error_text_set"
expect_violation appliance/live/live_stream.c '    size_t n = stream->scratch.private_length;' \
    "struct byte_buffer's private_ fields belong to common/byte_buffer.c"

if [ "$failures" -ne 0 ]; then
    exit 1
fi
echo "check-idioms.test: ok"
