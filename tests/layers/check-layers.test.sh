#!/usr/bin/env bash
# check-layers.test.sh - proves scripts/check-layers.sh catches what it is
# for: it passes on the real tree, and on a copy of the tree with one wrong
# include (a domain including http/, a domain including a later domain,
# storage including a domain, the doorbell including a hub header, the hub
# including a doorbell header, common/ including a program's header, a
# relative include, a folder outside the matrix) it exits 1 and names the
# file and line. Run by `make check`; prints "ok" or what failed, exits 1
# on any failure.
name=check-layers.test
checker=$(cd "$(dirname "$0")/../.." && pwd)/scripts/check-layers.sh
# shellcheck source=checker-test.sh
. "$(dirname "$0")/checker-test.sh"

expect_violation appliance/devices/device_store.c '#include "http/routes.h"' \
    "appliance/devices may not include appliance/http"
expect_violation appliance/live/live_stream.c '#include "http/http_gate.h"' \
    "appliance/live may not include appliance/http"
expect_violation appliance/events/event_store.c '#include "notify/notify.h"' \
    "appliance/events may not include appliance/notify"
expect_violation appliance/recording/recorder.c '#include "devices/device_registry.h"' \
    "appliance/recording may not include appliance/devices"
expect_violation appliance/storage/database.c '#include "accounts/users.h"' \
    "appliance/storage may not include appliance/accounts"
expect_violation firmware/camera/camera.c '#include "devices/device_store.h"' \
    "\"devices/device_store.h\" is not a header of firmware/"
expect_violation appliance/recording/recorder.c '#include "camera/camera.h"' \
    "\"camera/camera.h\" is not a header of appliance/"
expect_violation common/log.c '#include "devices/device_store.h"' \
    "common may not include devices"
expect_violation appliance/http/routes_users.c '#include "../common/log.h"' \
    "\"../common/log.h\": include by folder"

# A folder nobody placed in the matrix.
mkdir -p "$work/tree/appliance/gadgets"
printf '/* a new folder */\n#include "common/log.h"\n' >"$work/tree/appliance/gadgets/gadget.c"
output=$("$checker" "$work/tree" 2>&1)
status=$?
[ "$status" -eq 1 ] && grep -q '^appliance/gadgets/gadget.c:1: folder appliance/gadgets has no place' <<<"$output" ||
    fail "a folder outside the matrix: exit $status: $output"
rm -rf "$work/tree/appliance/gadgets"

finish
