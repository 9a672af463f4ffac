#!/usr/bin/env bash
# Install every Debian package and npm module Doorstep needs. Idempotent: it
# only calls apt-get when a package is missing and npm when the lock changed.
# Runs as root, or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    build-essential pkg-config dpkg-dev patch clang clang-format libclang-rt-14-dev
    libmbedtls-dev libsqlite3-dev sqlite3 libargon2-dev libcjson-dev
    libwebsockets-dev libssl-dev libcurl4-openssl-dev libx264-dev libjpeg62-turbo-dev libasound2-dev libasound2-plugins
    alsa-utils libopus-dev libopusfile-dev libsndfile1-dev libspeexdsp-dev libcmocka-dev espeak-ng
    ffmpeg chromium firefox-esr pulseaudio nodejs ca-certificates curl iproute2 util-linux
)
# `make bench` also runs Debian's `motion` beside our detector, as a peer.
[ "${DOORSTEP_BENCH_DEPS:-0}" = 1 ] && packages+=(motion)

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "deps: installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

command -v npm >/dev/null || { echo "deps: npm is missing (install nodejs with npm)" >&2; exit 1; }
if ! cmp -s tests/package-lock.json tests/node_modules/.doorstep-lock 2>/dev/null; then
    echo "deps: npm ci in tests/"
    # The browser tests use Debian's chromium and firefox-esr: npm downloads no browser.
    (cd tests && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    cp tests/package-lock.json tests/node_modules/.doorstep-lock
fi
