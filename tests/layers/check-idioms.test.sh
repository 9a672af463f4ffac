#!/usr/bin/env bash
# check-idioms.test.sh - proves scripts/check-idioms.sh catches what it is
# for: it passes on the real tree, and on a copy with a raw
# snprintf(error, ...), a byte_buffer field poked from outside its module or
# a SPAKE2+ known-answer hook called by a program it exits 1 and names the
# file and line; a C file of 801 lines or more under appliance/, firmware/,
# common/, tests/unit/ or tests/fuzz/ fails it, naming the file and its
# length, and one of exactly 800 lines passes. Run by `make check`; prints
# "ok" or what failed, exits 1 on any failure.
name=check-idioms.test
checker=$(cd "$(dirname "$0")/../.." && pwd)/scripts/check-idioms.sh
# shellcheck source=checker-test.sh
. "$(dirname "$0")/checker-test.sh"

expect_violation appliance/core/config.c '    snprintf(error, error_size, "bad");' \
    "write failure reasons with error_text_set"
expect_violation firmware/encoder/encoder.c '    snprintf(reason, sizeof(reason), "bad");' \
    "write failure reasons with error_text_set"
expect_violation appliance/live/live_stream.c '    size_t n = stream->scratch.private_length;' \
    "struct byte_buffer's private_ fields belong to common/byte_buffer.c"
expect_violation firmware/link/link_client.c '    spake2plus_set_ephemeral(session, fixed, NULL, 0);' \
    "spake2plus_set_ephemeral/spake2plus_set_trace are for tests only"
expect_violation appliance/devices/device_registry.c '    spake2plus_set_trace(session, &trace);' \
    "spake2plus_set_ephemeral/spake2plus_set_trace are for tests only"

# The length rule also reads the C files of the tests: copy them too.
mkdir -p "$work/tree/tests"
cp -R "$repository/tests/unit" "$repository/tests/fuzz" "$work/tree/tests/"

# pad_to FILE LINES: append comment lines to FILE in the copy (made if it
# does not exist) until it has LINES lines.
pad_to() {
    local file=$1 lines=$2 have
    touch "$work/tree/$file"
    have=$(wc -l <"$work/tree/$file")
    if [ "$have" -lt "$lines" ]; then
        yes "/* padding */" | head -n $((lines - have)) >>"$work/tree/$file"
    fi
}

# expect_long FILE: FILE in the copy at 800 lines passes, at 801 fails with
# exit 1 and "FILE:801: 801 lines, more than 800"; then FILE is put back.
expect_long() {
    local file=$1 output existed=0
    if [ -e "$work/tree/$file" ]; then
        existed=1
        cp "$work/tree/$file" "$work/saved"
    fi
    pad_to "$file" 800
    output=$("$checker" "$work/tree" 2>&1) || fail "$file of 800 lines: exit $?, expected 0: $output"
    pad_to "$file" 801
    expect_failure "$file of 801 lines" "$file:801: 801 lines, more than 800"
    if [ "$existed" -eq 1 ]; then cp "$work/saved" "$work/tree/$file"; else rm -f "$work/tree/$file"; fi
}

expect_long appliance/recording/recorder.c
expect_long firmware/link/link_client.h
expect_long common/long_file.c
expect_long tests/unit/test_link_protocol.c
expect_long tests/fuzz/fuzz_long.c

finish
