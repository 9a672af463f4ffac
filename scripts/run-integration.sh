#!/usr/bin/env bash
# `make test-integration`: every tests/integration/*.test.mjs against the
# ASan build, in two lanes at once. The second lane holds the few long tests
# that mostly wait for a clock (the sim scene's two-minute loop, the disk
# budget and the filling disk, notification retries, previews collected
# over 20 s, 42 s of 24/7 recording with ten kill -9 cycles, the sim
# microphone's street, the sim's parcel lying still), mostly on low-rate doorbells; it adds about one
# busy core's worth of load to the first lane, which its tests are built to
# take (they pass with two busy loops running), and saves their ten minutes
# of waiting. Browser tests never run beside a lane: `make test` runs them
# afterwards (beside the first lane, calm ones timed out). The second lane's output is printed after the first's, and
# either lane failing fails the run.
#
# usage: scripts/run-integration.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: run-integration.sh BUILD_DIR}
cd "$(dirname "$0")/../tests"

waiting_lane=(integration/motion.test.mjs integration/retention.test.mjs integration/disk-full.test.mjs
              integration/notify.test.mjs integration/previews.test.mjs integration/recording.test.mjs
              integration/doorbell-audio.test.mjs integration/packages.test.mjs)
main_lane=()
for file in integration/*.test.mjs; do
    [[ " ${waiting_lane[*]} " == *" $file "* ]] || main_lane+=("$file")
done

waiting_log=$(mktemp)
trap 'rm -f "$waiting_log"' EXIT
DOORSTEP_BUILD=$build node --test --test-concurrency=1 "${waiting_lane[@]}" >"$waiting_log" 2>&1 &
waiting_pid=$!
DOORSTEP_BUILD=$build node --test --test-concurrency=1 "${main_lane[@]}"
main_status=$?
wait "$waiting_pid"
waiting_status=$?
echo "== the waiting lane (${waiting_lane[*]})"
cat "$waiting_log"
echo "integration: main lane exit $main_status, waiting lane exit $waiting_status"
[ "$main_status" -eq 0 ] && [ "$waiting_status" -eq 0 ]
