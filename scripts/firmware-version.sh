#!/usr/bin/env bash
# Print the doorbell package's Debian version (make firmware): the nearest
# tag from `git describe` (v1.2 -> 1.2, and 1.2+3.gHASH for commits after it),
# or 0~gitDATE.HASH with no tag yet; .dirty when the tree has changes.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo "0~unknown"
    exit 0
fi
if described=$(git describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
    # v1.2-3-gabc1234: tag, commits since, hash.
    hash=${described##*-}
    rest=${described%-*}
    count=${rest##*-}
    tag=${rest%-*}
    version=${tag#v}
    [ "$count" = 0 ] || version+="+$count.$hash"
else
    version="0~git$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S).$(git rev-parse --short=7 HEAD)"
fi
git diff --quiet HEAD -- 2>/dev/null || version+=".dirty"
echo "$version"
