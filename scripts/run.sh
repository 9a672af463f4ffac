#!/usr/bin/env bash
# `make run`: start a hub and one simulated doorbell paired to it, with all
# state under ./var, print where to go, and stop both on Ctrl-C.
#
# Environment: DOORSTEP_PORT (default 8443), DOORSTEP_BUILD (default build),
# DOORSTEP_VAR (default ./var: where the state and the two logs go),
# DOORSTEP_PAIR (auto, the default: pair the new doorbell here; manual: leave
# it waiting to be paired in the UI).
set -euo pipefail
cd "$(dirname "$0")/.."

port=${DOORSTEP_PORT:-8443}
build=${DOORSTEP_BUILD:-build}
var=${DOORSTEP_VAR:-$PWD/var}
hub_dir=$var/hub
bell_dir=$var/doorbell
mkdir -p "$hub_dir" "$bell_dir"
chmod 0750 "$hub_dir" "$bell_dir"

pids=()
stop() {
    trap - INT TERM EXIT
    echo
    echo "stopping..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# The indoor chime is on, played into an ALSA "file" device: each ring (and
# Settings, Chime, "Play test chime") writes the ding-dong to $var/chime.raw
# (raw 16-bit mono 48 kHz; `aplay -f S16_LE -r 48000 -c 1 var/chime.raw`
# plays it back). The Settings page can switch it to a real output
# ("default" or a sound card); what is chosen there wins from then on.
cat >"$var/asoundrc" <<ALSA
pcm.doorstep_chime { type file; slave.pcm "null"; file "$var/chime.raw"; format "raw" }
ALSA
"$build/doorstepd" --data-dir "$hub_dir" --listen "$port" --www-dir "$PWD/www" \
    --public-host localhost --chime-device doorstep_chime --alsa-config "$var/asoundrc" \
    2> >(tee "$var/hub.log" >&2) &
pids+=($!)

for _ in $(seq 1 100); do
    curl -skf "https://localhost:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -skf "https://localhost:$port/readyz" >/dev/null || { echo "the hub did not start; see $var/hub.log"; exit 1; }

# The simulated doorbell's microphone (no sound card needed): `sim`, endless
# quiet street noise, and the scripted visitor speaking while at the door
# (firmware/audio/audio_sim.c). Its speaker (ding, talk-back) is ALSA's
# "null". A real microphone: --audio-device plughw:1 (see README).
#
# One doorbell that pairs as a real one does (docs/protocol.md, "Pairing
# exchange"): its identity and setup code in $bell_dir/state, made at its
# first start; it waits on the hub's /pair/v1 and is paired below with the
# code from its setup-code file, once (`doorstep device pair`: the same
# SPAKE2+ exchange as "Add doorbell" in the UI). Later runs find the hub in
# hub.json. DOORSTEP_PAIR=manual leaves it waiting, to pair it in the UI.
# A doorbell an older `make run` added with a secret is removed first.
if [ -s "$bell_dir/secret" ]; then
    echo "re-pairing the simulated doorbell with a setup code (it used a secret before)"
    "$build/doorstep" --data-dir "$hub_dir" device remove "$(cat "$bell_dir/id")" >/dev/null 2>&1 || true
    rm -f "$bell_dir/secret" "$bell_dir/id"
fi
state=$bell_dir/state
start_doorbell() {
    "$build/doorbelld" --state-dir "$state" --hub "wss://127.0.0.1:$port" --scripted \
        --audio-device sim \
        --control "$bell_dir/control.sock" 2> >(tee -a "$var/doorbell.log" >&2) &
    doorbell_pid=$!
    pids+=("$doorbell_pid")
}
: >"$var/doorbell.log"
start_doorbell

if [ ! -s "$state/hub.json" ]; then
    for _ in $(seq 1 300); do
        [ -s "$state/device-id" ] && "$build/doorstep" --data-dir "$hub_dir" device waiting 2>/dev/null |
            grep -q "^$(cat "$state/device-id") " && break
        sleep 0.1
    done
    id=$(cat "$state/device-id")
    code=$(cat "$state/setup-code")
    if [ "${DOORSTEP_PAIR:-auto}" = manual ]; then
        echo "the simulated doorbell $id waits to pair: Doorbells, Add doorbell, setup code ${code:0:4}-${code:4:4}"
    else
        echo "pairing the simulated doorbell $id with its setup code ${code:0:4}-${code:4:4}"
        "$build/doorstep" --data-dir "$hub_dir" device pair "$id" "$code" --name "Front door" ||
            { echo "pairing failed; see $var/hub.log and $var/doorbell.log"; exit 1; }
    fi
fi

# The scripted scene's courier leaves a parcel on the doormat: a doorbell
# that has no motion settings yet gets a doorstep area around the mat, so
# that "package delivered" and "package taken" show without drawing one
# (the motion page changes it). A doorbell gets its settings as it
# connects, so it starts again once.
id=$(cat "$state/device-id")
if [ "$("$build/doorstep" --data-dir "$hub_dir" device motion "$id" 2>/dev/null)" = "{}" ]; then
    "$build/doorstep" --data-dir "$hub_dir" device motion "$id" \
        '{"package_zone":[[0.14,0.74],[0.36,0.74],[0.36,0.95],[0.14,0.95]]}' >/dev/null
    kill -TERM "$doorbell_pid" 2>/dev/null || true
    wait "$doorbell_pid" 2>/dev/null || true
    kept=()
    for pid in "${pids[@]}"; do [ "$pid" = "$doorbell_pid" ] || kept+=("$pid"); done
    pids=("${kept[@]}") # wait -n below must not see the old doorbell
    start_doorbell
fi

sleep 1
host=$(hostname)
cat <<MSG

  Doorstep is running.

    Web UI:        https://localhost:$port/   (or https://$host:$port/ from another machine)
MSG
if [ -s "$hub_dir/setup-token" ]; then
    cat <<MSG
    First admin:   https://localhost:$port/#/setup?token=$(cat "$hub_dir/setup-token")
                   (or: $build/doorstep --data-dir $hub_dir user add NAME --role admin)
MSG
else
    echo "    Log in with the admin you created earlier."
fi
cat <<MSG
    Ring the bell: $build/doorbelld ctl $bell_dir/control.sock press
    Indoor chime:  each ring writes the ding-dong to $var/chime.raw
                   (hear it: aplay -f S16_LE -r 48000 -c 1 $var/chime.raw)
    The browser will warn about the hub's self-signed certificate; accept it once.
    Ctrl-C stops the hub and the doorbell. State lives in $var.

MSG
wait -n "${pids[@]}" || true
