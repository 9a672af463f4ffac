#!/usr/bin/env bash
# throwaway-install.sh - installs one doorbell package into a throwaway root
# and checks what its maintainer scripts do (run by test-firmware.sh):
#   unshare --mount --net --fork tests/firmware/throwaway-install.sh \
#       PACKAGE.deb SCRATCH_DIR "RUNNER"
# It must run in a private mount namespace (unshare): /etc, /usr and /var
# become overlays whose changes land in SCRATCH_DIR and vanish with it, and
# /run a fresh tmpfs, so no systemd runs here (as in an image being built).
# The real dpkg then installs, reinstalls (the upgrade path), removes,
# reinstalls and purges the package: adduser, deb-systemd-helper and the
# conffile handling run for real. RUNNER runs the installed doorbelld
# ("" natively, or "qemu-aarch64-static").
# Prints one line per check; exits 1 if any failed.
set -uo pipefail
package=$1 scratch=$2 runner=$3

failed=0
# expect NAME COMMAND...: run a check, print its result.
expect() {
    local name=$1
    shift
    if "$@"; then
        echo "ok      $name"
    else
        echo "FAILED  $name"
        failed=$((failed + 1))
    fi
}
# step COMMAND...: a step that must work for the checks after it to mean
# anything: on failure, print its output and stop.
step() {
    local output
    if ! output=$("$@" 2>&1); then
        echo "FAILED  $*:"
        echo "$output"
        exit 1
    fi
}

# The throwaway root. unshare made this mount namespace; nothing mounted here
# must reach the machine's.
step mount --make-rprivate /
for directory in etc usr var; do
    mkdir -p "$scratch/$directory-upper" "$scratch/$directory-work"
    step mount -t overlay overlay \
        -o "lowerdir=/$directory,upperdir=$scratch/$directory-upper,workdir=$scratch/$directory-work" \
        "/$directory"
done
step mount -t tmpfs tmpfs /run
mkdir -p /run/lock

unit=/lib/systemd/system/doorbelld.service
wanted=/etc/systemd/system/multi-user.target.wants/doorbelld.service
masked=/etc/systemd/system/doorbelld.service
state=/var/lib/doorbelld
conffile=/etc/doorbelld/doorbelld.conf
read -r -a run <<<"$runner"

# A first install: no doorbelld user yet. Raspberry Pi OS has a gpio group
# (plain Debian does not): made here so the postinst's gpio branch runs.
if getent passwd doorbelld >/dev/null; then step deluser --quiet doorbelld; fi
if getent group doorbelld >/dev/null; then step delgroup --quiet doorbelld; fi
if ! getent group gpio >/dev/null; then step addgroup --quiet --system gpio; fi

step dpkg --install "$package"

user_is_system() {
    local uid home shell
    IFS=: read -r _ _ uid _ _ home shell < <(getent passwd doorbelld)
    [ "$uid" -lt 1000 ] && [ "$home" = "$state" ] && [ "$shell" = /usr/sbin/nologin ]
}
user_groups_are() { [ "$(id -nG doorbelld | tr ' ' '\n' | sort | tr '\n' ' ')" = "$1" ]; }
state_directory_is_private() { [ "$(stat -c '%a %U %G' "$state")" = "700 doorbelld doorbelld" ]; }
enabled() { [ "$(readlink "$wanted")" = "$unit" ]; }
status_is() { [ "$(dpkg-query -W -f='${Status}' doorstep-doorbell 2>/dev/null)" = "$1" ]; }
unit_verifies() {
    local output
    output=$(systemd-analyze verify "$unit" 2>&1)
    local status=$?
    [ -n "$output" ] && echo "$output" | sed 's/^/        /'
    [ "$status" -eq 0 ] && ! grep -q doorbelld <<<"$output"
}
# Every option of the default DOORBELLD_OPTS is one doorbelld --help names.
default_options_known() {
    local DOORBELLD_OPTS="" option help
    # shellcheck source=/dev/null
    . "$conffile"
    help=$("${run[@]}" /usr/bin/doorbelld --help) || return 1
    [ -n "$DOORBELLD_OPTS" ] || return 1
    for option in $DOORBELLD_OPTS; do
        case "$option" in
        --*) grep -q -- "^ *$option " <<<"$help" || { echo "        unknown option $option"; return 1; } ;;
        esac
    done
}
self_test_as_service_user() {
    setpriv --reuid doorbelld --regid doorbelld --init-groups \
        "${run[@]}" /usr/bin/doorbelld --self-test 2>&1 | grep -q '^self-test: passed'
}

expect "installed: dpkg status" status_is "install ok installed"
expect "installed: files match their md5sums (dpkg --verify)" dpkg --verify doorstep-doorbell
expect "installed: doorbelld is a system user, home $state, no login" user_is_system
expect "installed: doorbelld in groups audio doorbelld gpio video" user_groups_are "audio doorbelld gpio video "
expect "installed: $state is 0700 doorbelld:doorbelld" state_directory_is_private
expect "installed: the unit is enabled (multi-user.target.wants)" enabled
expect "installed: systemd-analyze verify $unit" unit_verifies
expect "installed: the default DOORBELLD_OPTS are doorbelld options" default_options_known
expect "installed: doorbelld --self-test as the doorbelld user" self_test_as_service_user

# wait_for_line FILE PATTERN PID: wait until FILE has a line matching
# PATTERN (0), or the process PID has ended (1). The bound only ends a hang:
# 10 minutes, for a loaded machine emulating an arm board.
wait_for_line() {
    local deadline=$((SECONDS + 600))
    while [ "$SECONDS" -lt "$deadline" ]; do
        grep -q -- "$2" "$1" && return 0
        kill -0 "$3" 2>/dev/null || { grep -q -- "$2" "$1"; return; }
        sleep 0.2
    done
    return 1
}
# The installed doorbelld as the unit starts it: the doorbelld user, the
# default DOORBELLD_OPTS and the unit's runtime directory, with the simulated
# camera and no sound card (none here) and a hub that is not there (no
# network here). Its threads start, it answers `stats` on its control socket
# (where a button script would send `press`) and stops on SIGTERM.
runs_as_the_unit_would() {
    local DOORBELLD_OPTS="" log=$scratch/doorbelld.log pid status=1
    : >"$log"
    # shellcheck source=/dev/null
    . "$conffile"
    install -d -m 0750 -o doorbelld -g doorbelld /run/doorbelld
    # shellcheck disable=SC2086 # split into arguments, as systemd splits $DOORBELLD_OPTS
    setpriv --reuid doorbelld --regid doorbelld --init-groups "${run[@]}" /usr/bin/doorbelld \
        $DOORBELLD_OPTS --camera sim --size 640x360 --fps 5 --audio-device none \
        --hub wss://127.0.0.1:9 --device-id throwaway --secret "$(printf '%064d' 0)" >"$log" 2>&1 &
    pid=$!
    if wait_for_line "$log" 'reconnecting to the hub' "$pid" &&
        wait_for_line "$log" 'control socket at ' "$pid" &&
        grep -q 'control socket at /run/doorbelld/control.sock$' "$log" &&
        "${run[@]}" /usr/bin/doorbelld ctl /run/doorbelld/control.sock stats | grep -q '"frames_captured"'; then
        kill -TERM "$pid"
        wait "$pid" && grep -q 'received SIGTERM, stopping' "$log" && status=0
    else
        kill -KILL "$pid" 2>/dev/null
        wait "$pid"
    fi
    [ "$status" -eq 0 ] || sed 's/^/        /' "$log"
    return "$status"
}
# An unpaired doorbell's first start, as the unit starts it: it makes its
# device id and setup code (0600, its user's) and opens pairing mode, with
# the code in its log.
pairing_mode_on_first_start() {
    local DOORBELLD_OPTS="" log=$scratch/first-start.log pid code status=1
    : >"$log"
    # shellcheck source=/dev/null
    . "$conffile"
    install -d -m 0750 -o doorbelld -g doorbelld /run/doorbelld
    # shellcheck disable=SC2086 # split into arguments, as systemd splits $DOORBELLD_OPTS
    setpriv --reuid doorbelld --regid doorbelld --init-groups "${run[@]}" /usr/bin/doorbelld \
        $DOORBELLD_OPTS --camera sim --size 640x360 --fps 5 --audio-device none >"$log" 2>&1 &
    pid=$!
    if wait_for_line "$log" 'pairing mode: setup code' "$pid"; then
        code=$(cat "$state/setup-code")
        [[ "$code" =~ ^[0-9]{8}$ ]] &&
            grep -q "pairing mode: setup code ${code:0:4}-${code:4:4}" "$log" &&
            [ "$(stat -c '%a %U' "$state/setup-code" "$state/device-id")" = $'600 doorbelld\n600 doorbelld' ] &&
            status=0
    fi
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    [ "$status" -eq 0 ] || sed 's/^/        /' "$log"
    rm -f "$state/setup-code" "$state/device-id" "$state/pairing-record"
    return "$status"
}
expect "installed: the first start opens pairing mode, setup code in $state and the log" \
    pairing_mode_on_first_start
expect "installed: doorbelld runs as the unit would, answers its control socket, stops on SIGTERM" \
    runs_as_the_unit_would

# The upgrade path: the admin's settings and the doorbell's identity stay.
echo '# changed by the admin' >>"$conffile"
echo 12345678 >"$state/setup-code"
step dpkg --install "$package"
expect "reinstalled: the admin's conffile change is kept" grep -q '^# changed by the admin' "$conffile"
expect "reinstalled: the state directory keeps its files" test -f "$state/setup-code"
expect "reinstalled: $state is still 0700 doorbelld:doorbelld" state_directory_is_private
expect "reinstalled: still enabled" enabled

step dpkg --remove doorstep-doorbell
expect "removed: dpkg status" status_is "deinstall ok config-files"
expect "removed: the binary is gone" test ! -e /usr/bin/doorbelld
expect "removed: the conffile stays" test -f "$conffile"
expect "removed: the state stays" test -f "$state/setup-code"
expect "removed: the unit is masked" test "$(readlink "$masked")" = /dev/null

step dpkg --install "$package"
expect "installed again: unmasked and enabled" eval "test ! -e $masked && enabled"

step dpkg --purge doorstep-doorbell
expect "purged: dpkg forgets the package" eval "! dpkg-query -W doorstep-doorbell >/dev/null 2>&1"
expect "purged: the conffile is gone" test ! -e "$conffile"
expect "purged: the doorbell's state (identity, keys) is gone" test ! -e "$state"
expect "purged: no longer enabled" test ! -e "$wanted"

[ "$failed" -eq 0 ]
