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
    libavahi-client-dev avahi-daemon avahi-utils dbus-daemon
    libopencv-objdetect-dev
    # Real footage for the person detector's tests and benchmarks
    # (examples/data/vtest.avi, tree.avi); never copied into the repository.
    opencv-doc
)
# `make bench` also runs Debian's `motion` beside our detector, as a peer.
[ "${DOORSTEP_BENCH_DEPS:-0}" = 1 ] && packages+=(motion)

# `make firmware` cross-builds the doorbell for arm64 and armhf (Debian's
# multiarch toolchains and the doorbell's -dev libraries for those
# architectures); `make test-firmware` runs the results under qemu.
firmware_architectures=(arm64 armhf)
firmware_libraries=(
    libwebsockets-dev libx264-dev libjpeg62-turbo-dev libasound2-dev libopus-dev
    libspeexdsp-dev libcjson-dev libmbedtls-dev libargon2-dev libavahi-client-dev
)
if [ "${DOORSTEP_FIRMWARE_DEPS:-0}" = 1 ]; then
    packages+=(crossbuild-essential-arm64 crossbuild-essential-armhf qemu-user-static file
               systemd "${firmware_libraries[@]}")
    # libwebsockets-dev of two architectures cannot be installed together
    # (both ship /usr/include/lws_config.h, which differs only in the plugin
    # directory, LWS_INSTALL_LIBDIR): the cross builds compile against the
    # native headers and link the foreign libwebsockets17 (see the Makefile's
    # firmware link directory); its headers include OpenSSL's, whose
    # configuration headers are per architecture.
    for architecture in "${firmware_architectures[@]}"; do
        for library in "${firmware_libraries[@]/libwebsockets-dev/libwebsockets17}" libssl-dev; do
            packages+=("$library:$architecture")
        done
    done
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# A package counts as installed when its native (or architecture-less) copy
# is: with foreign architectures added, a bare name matches every copy.
native=$(dpkg --print-architecture)
missing=()
for package in "${packages[@]}"; do
    case "$package" in
    *:*) wanted="${package##*:}" ;;
    *) wanted="$native|all" ;;
    esac
    dpkg-query -W -f='${Architecture} ${Status}\n' "$package" 2>/dev/null |
        grep -qE "^($wanted) install ok installed\$" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    # A foreign architecture's packages are only known to apt once dpkg
    # accepts that architecture (before the update below).
    foreign=$(dpkg --print-foreign-architectures)
    for package in "${missing[@]}"; do
        case "$package" in
        *:*)
            architecture=${package##*:}
            if ! grep -qx "$architecture" <<<"$foreign"; then
                echo "deps: dpkg --add-architecture $architecture"
                $sudo dpkg --add-architecture "$architecture"
                foreign+=$'\n'"$architecture"
            fi
            # The -dev libraries are Multi-Arch: same, so the :arm64 and
            # :armhf copies need the native one at exactly their version:
            # name the native package too, so this same call upgrades it.
            missing+=("${package%:*}")
            ;;
        esac
    done
    echo "deps: installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $(printf '%s\n' "${missing[@]}" | sort -u)
fi

command -v npm >/dev/null || { echo "deps: npm is missing (install nodejs with npm)" >&2; exit 1; }
if ! cmp -s tests/package-lock.json tests/node_modules/.doorstep-lock 2>/dev/null; then
    echo "deps: npm ci in tests/"
    # The browser tests use Debian's chromium and firefox-esr: npm downloads no browser.
    (cd tests && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    cp tests/package-lock.json tests/node_modules/.doorstep-lock
fi
