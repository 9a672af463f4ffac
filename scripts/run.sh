#!/usr/bin/env bash
# `make run`: start a hub and one simulated doorbell paired to it, with all
# state under ./var, print where to go, and stop both on Ctrl-C.
#
# Environment: DOORSTEP_PORT (default 8443), DOORSTEP_BUILD (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

port=${DOORSTEP_PORT:-8443}
build=${DOORSTEP_BUILD:-build}
var=$PWD/var
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

"$build/doorstepd" --data-dir "$hub_dir" --listen "$port" --www-dir "$PWD/www" \
    --public-host localhost 2> >(tee "$var/hub.log" >&2) &
pids+=($!)

for _ in $(seq 1 100); do
    curl -skf "https://localhost:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -skf "https://localhost:$port/readyz" >/dev/null || { echo "the hub did not start; see $var/hub.log"; exit 1; }

# One doorbell, registered once and reused on later runs.
if [ ! -s "$bell_dir/secret" ]; then
    out=$("$build/doorstep" --data-dir "$hub_dir" device add "Front door" 2>/dev/null)
    umask 077
    sed -n 's/^id //p' <<<"$out" > "$bell_dir/id"
    sed -n 's/^secret //p' <<<"$out" > "$bell_dir/secret"
fi
# The simulated doorbell's microphone and speaker: ALSA `file` devices (no
# sound card needed). The microphone hears two minutes of quiet street noise
# on a loop of the file; the speaker (ding, talk-back) goes nowhere.
if [ ! -s "$bell_dir/mic.raw" ]; then
    ffmpeg -v error -f lavfi -i "anoisesrc=c=brown:a=0.05:d=120" -f s16le -ar 48000 -ac 1 \
        "$bell_dir/mic.raw"
fi
cat > "$bell_dir/asoundrc" <<ALSA
pcm.doorstep_mic { type file; slave.pcm "null"; file "/dev/null"; infile "$bell_dir/mic.raw"; format "raw" }
pcm.doorstep_speaker { type file; slave.pcm "null"; file "/dev/null"; format "raw" }
pcm.doorstep_sim { type asym; capture.pcm "doorstep_mic"; playback.pcm "doorstep_speaker" }
ALSA

# Pin the hub's key, as a paired doorbell does.
pin=$(openssl pkey -in "$hub_dir/tls/hub.key" -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)

"$build/doorbelld" --hub "wss://127.0.0.1:$port" --device-id "$(cat "$bell_dir/id")" \
    --secret-file "$bell_dir/secret" --hub-key-sha256 "$pin" --scripted \
    --audio-device doorstep_sim --alsa-config "$bell_dir/asoundrc" \
    --control "$bell_dir/control.sock" 2> >(tee "$var/doorbell.log" >&2) &
pids+=($!)

sleep 1
host=$(hostname)
cat <<MSG

  Doorstep is running.

    Web UI:        https://localhost:$port/   (or https://$host:$port/ from another machine)
MSG
if [ -s "$hub_dir/setup-token" ]; then
    cat <<MSG
    First admin:   https://localhost:$port/#/setup?token=$(cat "$hub_dir/setup-token")
                   (or: $build/doorstep --data-dir var/hub user add NAME --role admin)
MSG
else
    echo "    Log in with the admin you created earlier."
fi
cat <<MSG
    Ring the bell: $build/doorbelld ctl var/doorbell/control.sock press
    The browser will warn about the hub's self-signed certificate; accept it once.
    Ctrl-C stops the hub and the doorbell. State lives in ./var.

MSG
wait -n "${pids[@]}" || true
