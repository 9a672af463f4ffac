#!/usr/bin/env bash
# check-idioms.sh - the conventions of docs/CODE_STYLE.md a grep can check:
#   - a failure reason goes into a caller's buffer through error_text_set()
#     (common/error_text.h), never a raw snprintf(error, ...) or
#     snprintf(reason, ...);
#   - the fields of struct byte_buffer (private_*) are touched only by
#     common/byte_buffer.c and its header;
#   - SPAKE2+'s known-answer hooks (spake2plus_set_ephemeral: a fixed x or
#     y; spake2plus_set_trace: a copy of every secret) are called only by
#     tests, never by the hub or the doorbell;
#   - no C file (*.c, *.h) under appliance/, firmware/, common/, tests/unit/
#     or tests/fuzz/ has more than 800 lines: split it by concern.
# Usage: scripts/check-idioms.sh [ROOT] (default: the repository). Prints
# each violation as file:line: reason; exits 1 if there is any.
set -uo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
status=0

while IFS=: read -r file line _; do
    [ "$file" = common/error_text.c ] && continue
    echo "$file:$line: write failure reasons with error_text_set(), not snprintf"
    status=1
done < <(grep -rnE --include='*.c' --include='*.h' '[^v]snprintf\((error|reason)[,)]' \
    appliance firmware common)

while IFS=: read -r file line _; do
    case $file in common/byte_buffer.c | common/byte_buffer.h) continue ;; esac
    echo "$file:$line: struct byte_buffer's private_ fields belong to common/byte_buffer.c"
    status=1
done < <(grep -rnE --include='*.c' --include='*.h' '(\.|->)private_(bytes|length|allocated|max|status)\b' \
    appliance firmware common)

while IFS=: read -r file line _; do
    case $file in common/spake2plus.c | common/spake2plus.h) continue ;; esac
    echo "$file:$line: spake2plus_set_ephemeral/spake2plus_set_trace are for tests only"
    status=1
done < <(grep -rnE --include='*.c' --include='*.h' 'spake2plus_set_(ephemeral|trace)\b' \
    appliance firmware common)

while read -r lines file; do
    [ "$file" = total ] && continue
    [ "$lines" -gt 800 ] || continue
    echo "$file:$lines: $lines lines, more than 800: split the file by concern"
    status=1
done < <(for folder in appliance firmware common tests/unit tests/fuzz; do
    [ -d "$folder" ] && find "$folder" -type f \( -name '*.c' -o -name '*.h' \) -print0
done | xargs -0 -r wc -l)

exit $status
