#!/usr/bin/env bash
# make-stock-replies.sh - speak the stock quick replies with espeak-ng
# (Debian package espeak-ng) into WAV files in DIR. The hub imports them at
# start (appliance/replies/reply_stock.c names the same files) and encodes
# them as Opus; the WAVs themselves never reach a doorbell.
#
# Usage: scripts/make-stock-replies.sh DIR
set -euo pipefail

dir=${1:?usage: make-stock-replies.sh DIR}
command -v espeak-ng >/dev/null || { echo "make-stock-replies: espeak-ng is missing (make deps)" >&2; exit 1; }
mkdir -p "$dir"

# file|text; the voice is English, a little slower than espeak's default.
while IFS='|' read -r file text; do
    espeak-ng -v en -s 150 -w "$dir/$file.tmp" "$text"
    mv "$dir/$file.tmp" "$dir/$file"
done <<'LIST'
right-there.wav|We'll be right there.
leave-package.wav|Please leave the package at the door.
no-soliciting.wav|No soliciting, thank you.
LIST
