#!/usr/bin/env bash
# Fetch Debian's civetweb source package into the build directory (never
# committed) and apply Doorstep's small patches. Debian's civetweb *binary*
# cannot serve HTTPS with OpenSSL 3 (docs/dependencies.md), so we compile the source with
# USE_MBEDTLS. A private apt configuration with deb-src entries is used so the
# system's apt sources are left untouched.
#
# usage: scripts/fetch-civetweb.sh DEST_DIR
set -euo pipefail

dest=${1:?usage: fetch-civetweb.sh DEST_DIR}
mkdir -p "$(dirname "$dest")"
dest=$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")
here=$(cd "$(dirname "$0")" && pwd)
work=$(dirname "$dest")/civetweb-apt
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/download"

# Mirror the system's Debian suites as deb-src lines.
cat > "$work/sources.list" <<LIST
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian bookworm-updates main
deb-src http://deb.debian.org/debian-security bookworm-security main
LIST

apt_options=(
    -o "Dir::Etc::SourceList=$work/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache=$work/cache"
    -o "APT::Sandbox::User=root"
    -qq
)

echo "civetweb: fetching Debian source package into $dest"
apt-get "${apt_options[@]}" update
rm -rf "$work/download"/*
(cd "$work/download" && apt-get "${apt_options[@]}" source civetweb >/dev/null)
source_dir=$(find "$work/download" -maxdepth 1 -type d -name 'civetweb-*' | head -n 1)
[ -n "$source_dir" ] || { echo "civetweb: source package did not unpack" >&2; exit 1; }

rm -rf "$dest"
mv "$source_dir" "$dest"
for patch in "$here"/civetweb-patches/*.patch; do
    echo "civetweb: applying $(basename "$patch")"
    patch -s -p1 -d "$dest" < "$patch"
done
basename "$source_dir" > "$dest/.fetched"
