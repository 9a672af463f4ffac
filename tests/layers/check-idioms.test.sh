#!/usr/bin/env bash
# check-idioms.test.sh - proves scripts/check-idioms.sh catches what it is
# for: it passes on the real tree, and on a copy with a raw
# snprintf(error, ...), a byte_buffer field poked from outside its module or
# a SPAKE2+ known-answer hook called by a program it exits 1 and names the file and line. Run by `make check`; prints "ok" or
# what failed, exits 1 on any failure.
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

finish
