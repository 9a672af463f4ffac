#!/usr/bin/env bash
# Print the hub and doorbell sources a fuzz harness is built from: those
# named on its "FUZZ_SOURCES:" lines (common/ comes in as objects compiled
# once for all harnesses; see the Makefile).
set -euo pipefail
harness=${1:?usage: fuzz-sources.sh HARNESS.c}
sed -n 's/.*FUZZ_SOURCES:\([^*]*\).*/\1/p' "$harness" | tr ' ' '\n' | sed '/^$/d'
