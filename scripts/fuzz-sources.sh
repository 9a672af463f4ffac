#!/usr/bin/env bash
# Print the project sources a fuzz harness is built from: every file of
# common/ plus those named on the harness's "FUZZ_SOURCES:" line.
set -euo pipefail
harness=${1:?usage: fuzz-sources.sh HARNESS.c}
ls common/*.c
sed -n 's/.*FUZZ_SOURCES:\([^*]*\).*/\1/p' "$harness" | tr ' ' '\n' | sed '/^$/d'
