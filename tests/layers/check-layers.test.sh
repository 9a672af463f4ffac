#!/usr/bin/env bash
# check-layers.test.sh - proves scripts/check-layers.sh catches what it is
# for: it passes on the real tree, and on a copy of the tree with one wrong
# include (a domain including http/, a domain including a later domain,
# storage including a domain, the doorbell including a hub header, the hub
# including a doorbell header, common/ including a program's header, a
# relative include, a folder outside the matrix) it exits 1 and names the
# file and line. Run by `make check`; prints "ok" or what failed, exits 1
# on any failure.
set -uo pipefail

repository=$(cd "$(dirname "$0")/../.." && pwd)
checker=$repository/scripts/check-layers.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "check-layers.test: $1" >&2
    failures=$((failures + 1))
}

# expect_violation FILE INCLUDE PATTERN: append `#include "INCLUDE"` to FILE
# in the copy, expect exit 1 and a line "FILE:LINE: ..." matching PATTERN,
# then put FILE back.
expect_violation() {
    local file=$1 include=$2 pattern=$3 line output status
    cp "$work/tree/$file" "$work/saved"
    echo "#include \"$include\"" >>"$work/tree/$file"
    line=$(wc -l <"$work/tree/$file")
    output=$("$checker" "$work/tree" 2>&1)
    status=$?
    if [ "$status" -ne 1 ]; then
        fail "$file including $include: exit $status, expected 1"
    elif ! grep -q -- "^$file:$line: $pattern" <<<"$output"; then
        fail "$file including $include: no \"$file:$line: $pattern\" in: $output"
    fi
    cp "$work/saved" "$work/tree/$file"
}

output=$("$checker" 2>&1) || fail "the real tree fails: $output"

mkdir -p "$work/tree"
cp -R "$repository/appliance" "$repository/firmware" "$repository/common" "$work/tree/"
output=$("$checker" "$work/tree" 2>&1) || fail "the copy fails before any change: $output"

expect_violation appliance/devices/device_store.c http/routes.h \
    "appliance/devices may not include appliance/http"
expect_violation appliance/live/live_stream.c http/http_gate.h \
    "appliance/live may not include appliance/http"
expect_violation appliance/events/event_store.c notify/notify.h \
    "appliance/events may not include appliance/notify"
expect_violation appliance/recording/recorder.c devices/device_registry.h \
    "appliance/recording may not include appliance/devices"
expect_violation appliance/storage/database.c accounts/users.h \
    "appliance/storage may not include appliance/accounts"
expect_violation firmware/camera/camera.c devices/device_store.h \
    "\"devices/device_store.h\" is not a header of firmware/"
expect_violation appliance/recording/recorder.c camera/camera.h \
    "\"camera/camera.h\" is not a header of appliance/"
expect_violation common/log.c devices/device_store.h \
    "common may not include devices"
expect_violation appliance/http/routes_users.c ../common/log.h \
    "\"../common/log.h\": include by folder"

# A folder nobody placed in the matrix.
mkdir -p "$work/tree/appliance/gadgets"
printf '/* a new folder */\n#include "common/log.h"\n' >"$work/tree/appliance/gadgets/gadget.c"
output=$("$checker" "$work/tree" 2>&1)
status=$?
[ "$status" -eq 1 ] && grep -q '^appliance/gadgets/gadget.c:1: folder appliance/gadgets has no place' <<<"$output" ||
    fail "a folder outside the matrix: exit $status: $output"
rm -rf "$work/tree/appliance/gadgets"

output=$("$checker" "$work/tree" 2>&1) || fail "the copy fails after every change was undone: $output"

if [ "$failures" -gt 0 ]; then
    echo "check-layers.test: $failures failure(s)" >&2
    exit 1
fi
echo "check-layers.test: ok"
