#!/usr/bin/env bash
# `make test-integration`: every tests/integration/*.test.mjs against the
# ASan build, in two lanes at once. `make test` adds `--with-e2e`: the
# browser tests too, the calm ones in the second lane and the rest after.
#
# The second lane holds the few long integration tests that mostly wait for
# a clock (the sim scene's two-minute loop, the disk budget and the filling
# disk, notification retries, previews collected over 20 s, 42 s of 24/7
# recording and ten kill -9 cycles, the sim microphone's street scene),
# mostly on low-rate doorbells. With --with-e2e the browser tests that check what a
# page shows and does, not how fast (forms, pages, permissions, pairing),
# follow them in that lane. The second lane adds about one busy core's worth
# of load to the first, which its tests are built to take (they pass with
# two busy loops running), and saves its whole length of waiting. The
# browser tests that measure or depend on timing (live view, jitter, sound,
# talk, playback, Firefox) and every browser test not named below run
# afterwards, alone, as `make test-e2e` runs them.
#
# The second lane's output is printed after the first's, and any lane
# failing fails the run.
#
# usage: scripts/run-integration.sh BUILD_DIR [--with-e2e]
set -uo pipefail
build=${1:?usage: run-integration.sh BUILD_DIR [--with-e2e]}
with_e2e=${2:-}
cd "$(dirname "$0")/../tests"

waiting_lane=(integration/motion.test.mjs integration/retention.test.mjs integration/disk-full.test.mjs
              integration/notify.test.mjs integration/previews.test.mjs integration/recording.test.mjs
              integration/doorbell-audio.test.mjs)
calm_e2e=(e2e/account.test.mjs e2e/alerts.test.mjs e2e/app-install.test.mjs e2e/clock.test.mjs
          e2e/household.test.mjs e2e/motion.test.mjs e2e/notifications.test.mjs e2e/pairing.test.mjs
          e2e/polish.test.mjs e2e/settings.test.mjs e2e/timeline-previews.test.mjs e2e/ui.test.mjs)
main_lane=()
for file in integration/*.test.mjs; do
    [[ " ${waiting_lane[*]} " == *" $file "* ]] || main_lane+=("$file")
done
timed_e2e=()
if [ "$with_e2e" = "--with-e2e" ]; then
    for file in "${calm_e2e[@]}"; do
        [ -f "$file" ] || { echo "run-integration.sh: $file is listed but missing" >&2; exit 1; }
    done
    waiting_lane+=("${calm_e2e[@]}")
    for file in e2e/*.test.mjs; do
        [[ " ${calm_e2e[*]} " == *" $file "* ]] || timed_e2e+=("$file")
    done
elif [ -n "$with_e2e" ]; then
    echo "usage: run-integration.sh BUILD_DIR [--with-e2e]" >&2
    exit 2
fi

waiting_log=$(mktemp)
trap 'rm -f "$waiting_log"' EXIT
started=$SECONDS
DOORSTEP_BUILD=$build node --test --test-concurrency=1 "${waiting_lane[@]}" >"$waiting_log" 2>&1 &
waiting_pid=$!
DOORSTEP_BUILD=$build node --test --test-concurrency=1 "${main_lane[@]}"
main_status=$?
main_seconds=$((SECONDS - started))
wait "$waiting_pid"
waiting_status=$?
waiting_seconds=$((SECONDS - started))
echo "== the second lane (${waiting_lane[*]})"
cat "$waiting_log"
echo "lanes: main exit $main_status after ${main_seconds} s, second exit $waiting_status after ${waiting_seconds} s"
timed_status=0
if [ ${#timed_e2e[@]} -gt 0 ]; then
    started=$SECONDS
    DOORSTEP_BUILD=$build node --test --test-concurrency=1 "${timed_e2e[@]}"
    timed_status=$?
    echo "browser tests that depend on timing: exit $timed_status after $((SECONDS - started)) s"
fi
[ "$main_status" -eq 0 ] && [ "$waiting_status" -eq 0 ] && [ "$timed_status" -eq 0 ]
